// Deploys the venue from the committed artifacts (what the .NET side deploys too) onto a test chain.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ethers } from "ethers";
import { startAnvil } from "./anvil.mjs";

const artifactsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "Artifacts");

export const DOMAIN_NAME = "AlphaGrid TradeRouter";
export const DOMAIN_VERSION = "1";
export const SPREAD_BPS = 5;
export const MAX_PRICE_AGE = 3600;
export const NVDA_PRICE = 130_00000000n; // 130.00000000, 8 decimals
export const TSLA_PRICE = 250_00000000n;
export const USDC = (n) => ethers.parseUnits(String(n), 6);
export const TOKENS = (n) => ethers.parseUnits(String(n), 18);

export function artifact(name) {
  return JSON.parse(fs.readFileSync(path.join(artifactsDir, `${name}.json`), "utf8"));
}

/** The router's ABI plus the pool's, so that every error selector decodes by name. */
export const routerInterface = new ethers.Interface([
  ...artifact("TradeRouter").abi,
  ...artifact("OraclePool").abi.filter((f) => f.type === "error" && !artifact("TradeRouter").abi.some((g) => g.type === "error" && g.name === f.name)),
]);

export function selector(errorName) {
  return routerInterface.getError(errorName).selector;
}

/** Sends a transaction and waits for its receipt; throws if it reverted. */
export async function send(txPromise) {
  const tx = await txPromise;
  const receipt = await tx.wait(1, 30_000);
  if (receipt.status !== 1) throw new Error(`transaction ${tx.hash} reverted`);
  return receipt;
}

/**
 * Sends a contract call with the gas the product's relayer gives it (EvmVenue: the estimate plus a quarter plus 30,000)
 * and waits for its receipt. An exit settles through an external self-call, which keeps 1/64 of the gas back, and the
 * block that mines it (a second later than the one the estimate ran against) can cost a little more: sent with the bare
 * estimate it ran out of gas now and then.
 */
export async function sendWithHeadroom(method, ...args) {
  const estimate = await method.estimateGas(...args);
  return send(method(...args, { gasLimit: (estimate * 5n) / 4n + 30_000n }));
}

/** Decoded router events of a receipt, as { name, args }. */
export function routerEvents(receipt, routerAddress) {
  const out = [];
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== routerAddress.toLowerCase()) continue;
    const parsed = routerInterface.parseLog(log);
    if (parsed) out.push({ name: parsed.name, args: parsed.args });
  }
  return out;
}

/** Asserts that `promise` fails with the router/pool custom error `name`; returns its decoded args. */
export async function revertsWith(promise, name) {
  try {
    await promise;
  } catch (e) {
    const data = e?.data ?? e?.info?.error?.data ?? e?.error?.data;
    const decoded = e?.revert ?? (typeof data === "string" ? routerInterface.parseError(data) : null);
    if (decoded?.name === name) return decoded.args;
    throw new Error(`expected revert ${name}, got ${decoded?.name ?? e.shortMessage ?? e.message}`);
  }
  throw new Error(`expected revert ${name}, but it succeeded`);
}

export async function deploy(factoryName, signer, ...args) {
  const a = artifact(factoryName);
  const factory = new ethers.ContractFactory(a.abi, a.bytecode, signer);
  const contract = await factory.deploy(...args);
  await contract.waitForDeployment();
  return contract;
}

/**
 * Starts anvil and deploys the whole venue in the documented order.
 * Accounts: 0 admin/deployer, 1 executor, 2.. free (subscribers, outsiders).
 */
export async function setupVenue({ anvilArgs = [] } = {}) {
  const anvil = await startAnvil(anvilArgs);
  const provider = new ethers.JsonRpcProvider(anvil.url, undefined, { staticNetwork: true, pollingInterval: 20, cacheTimeout: -1 });
  const accounts = await provider.listAccounts();
  const [admin, executor] = accounts;
  const chainId = (await provider.getNetwork()).chainId;

  // 1-2. Tokens and feeds.
  const usdc = await deploy("TestToken", admin, "USD Coin", "USDC", 6);
  const nvda = await deploy("TestToken", admin, "NVIDIA tokenized stock", "NVDA", 18);
  const tsla = await deploy("TestToken", admin, "Tesla tokenized stock", "TSLA", 18);
  const nvdaFeed = await deploy("PriceFeed", admin, "NVDA / USD", 8, NVDA_PRICE);
  const tslaFeed = await deploy("PriceFeed", admin, "TSLA / USD", 8, TSLA_PRICE);
  // 3. Registry, markets.
  const registry = await deploy("TokenRegistry", admin, admin.address);
  await send(registry.setMarket(await nvda.getAddress(), await nvdaFeed.getAddress()));
  await send(registry.setMarket(await tsla.getAddress(), await tslaFeed.getAddress()));
  // 4. Pool, 5. router, wired both ways.
  const pool = await deploy("OraclePool", admin, await usdc.getAddress(), await registry.getAddress(), SPREAD_BPS, MAX_PRICE_AGE, admin.address);
  const router = await deploy(
    "TradeRouter", admin, DOMAIN_NAME, DOMAIN_VERSION,
    await usdc.getAddress(), await registry.getAddress(), await pool.getAddress(), admin.address,
  );
  const routerAddress = await router.getAddress();
  await send(pool.setRouter(routerAddress));
  await send(router.grantRole(await router.EXECUTOR_ROLE(), executor.address));
  // 6. A vault trusting the router, allowed to trade NVDA only (TSLA is listed but not in its allowlist).
  const vault = await deploy("Vault", admin, await usdc.getAddress(), admin.address);
  await send(vault.setRouter(routerAddress));
  await send(registry.allow(await vault.getAddress(), await nvda.getAddress()));
  // 7. Money: the vault's USDC, the pool's inventory.
  await send(usdc.mint(await vault.getAddress(), USDC(1_000_000)));
  await send(usdc.mint(await pool.getAddress(), USDC(10_000_000)));
  await send(nvda.mint(await pool.getAddress(), TOKENS(1_000_000)));
  await send(tsla.mint(await pool.getAddress(), TOKENS(1_000_000)));

  const domain = { name: DOMAIN_NAME, version: DOMAIN_VERSION, chainId, verifyingContract: routerAddress };
  return {
    anvil, provider, accounts, admin, executor, chainId, domain,
    usdc, nvda, tsla, nvdaFeed, tslaFeed, registry, pool, router, vault, routerAddress,
  };
}

// EIP-712 types, exactly the type strings of docs/intents.md.
export const INTENT_TYPES = {
  OpenPosition: [
    { name: "agentId", type: "uint256" }, { name: "vault", type: "address" }, { name: "token", type: "address" },
    { name: "usdcAmount", type: "uint256" }, { name: "minTokenOut", type: "uint256" }, { name: "maxSlippageBps", type: "uint16" },
    { name: "exitsHash", type: "bytes32" }, { name: "deadline", type: "uint256" }, { name: "nonce", type: "uint256" },
  ],
  AddToPosition: [
    { name: "agentId", type: "uint256" }, { name: "vault", type: "address" }, { name: "token", type: "address" },
    { name: "usdcAmount", type: "uint256" }, { name: "minTokenOut", type: "uint256" }, { name: "maxSlippageBps", type: "uint16" },
    { name: "deadline", type: "uint256" }, { name: "nonce", type: "uint256" },
  ],
  ReducePosition: [
    { name: "agentId", type: "uint256" }, { name: "vault", type: "address" }, { name: "token", type: "address" },
    { name: "tokenAmount", type: "uint256" }, { name: "minUsdcOut", type: "uint256" }, { name: "maxSlippageBps", type: "uint16" },
    { name: "deadline", type: "uint256" }, { name: "nonce", type: "uint256" },
  ],
  UpdateExitLadder: [
    { name: "agentId", type: "uint256" }, { name: "vault", type: "address" }, { name: "token", type: "address" },
    { name: "exitsHash", type: "bytes32" }, { name: "deadline", type: "uint256" }, { name: "nonce", type: "uint256" },
  ],
};

export const EXIT_RULE_TYPES = {
  ExitRule: [{ name: "triggerType", type: "uint8" }, { name: "triggerBps", type: "int32" }, { name: "exitBps", type: "uint16" }],
};

/** exitsHash as ethers computes an ExitRule[] member: keccak of the concatenated struct hashes. */
export function ethersExitsHash(rules) {
  return ethers.TypedDataEncoder.from(EXIT_RULE_TYPES).encodeData("ExitRule[]", rules);
}

export function typesFor(primaryType) {
  return { [primaryType]: INTENT_TYPES[primaryType] };
}

/** Signs `message` as `primaryType` with ethers' signTypedData. */
export function signIntent(wallet, domain, primaryType, message) {
  return wallet.signTypedData(domain, typesFor(primaryType), message);
}

/** A UUID read as a big-endian uint256, as the platform does. */
export function agentIdOf(uuid) {
  return BigInt("0x" + uuid.replaceAll("-", ""));
}

export async function latestTimestamp(provider) {
  return BigInt((await provider.getBlock("latest")).timestamp);
}

/** Moves anvil's clock forward and mines a block. */
export async function increaseTime(provider, seconds) {
  await provider.send("evm_increaseTime", [Number(seconds)]);
  await provider.send("evm_mine", []);
}

/** The pool's fill math, to check the contract against: price moved by the spread, amounts floored. */
export function expectedBuy(usdcIn, priceE8, tokenDecimals = 18n) {
  const fill = (priceE8 * (10_000n + BigInt(SPREAD_BPS)) + 9_999n) / 10_000n; // ceil
  return { fill, tokenOut: (usdcIn * 10n ** (tokenDecimals + 8n)) / (fill * 10n ** 6n) };
}

export function expectedSell(tokenIn, priceE8, tokenDecimals = 18n) {
  const fill = (priceE8 * (10_000n - BigInt(SPREAD_BPS))) / 10_000n; // floor
  return { fill, usdcOut: (tokenIn * fill * 10n ** 6n) / 10n ** (tokenDecimals + 8n) };
}
