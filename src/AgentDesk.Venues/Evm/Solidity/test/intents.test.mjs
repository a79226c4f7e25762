// Signed intents against a real anvil: EIP-712 agreement with ethers, admission reverts, market refusals,
// and a vault position's whole life (open, add, ladder update, reduce, automatic exits).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ethers } from "ethers";
import {
  USDC, TOKENS, NVDA_PRICE, MAX_PRICE_AGE, SPREAD_BPS, INTENT_TYPES,
  setupVenue, send, sendWithHeadroom, routerEvents, revertsWith, selector, signIntent, typesFor, ethersExitsHash,
  agentIdOf, latestTimestamp, increaseTime, expectedBuy, expectedSell,
} from "./lib/chain.mjs";

const STOP_LOSS = 0;
const TAKE_PROFIT = 1;

describe("signed intents", { timeout: 120_000 }, () => {
  let v; // the deployed venue
  const agentKey = ethers.Wallet.createRandom();
  const agentId = agentIdOf("337c2c59-ae4a-477c-9771-e66de0fdd669");
  let vaultAddress, nvdaAddress, tslaAddress;

  before(async () => {
    v = await setupVenue();
    vaultAddress = await v.vault.getAddress();
    nvdaAddress = await v.nvda.getAddress();
    tslaAddress = await v.tsla.getAddress();
    await send(v.router.connect(v.executor).setAgentSigner(agentId, agentKey.address));
  });

  after(async () => {
    v?.provider.destroy();
    await v?.anvil.stop();
  });

  const router = () => v.router.connect(v.executor);
  const deadline = async () => (await latestTimestamp(v.provider)) + 3600n;
  const nonceOf = async (id = agentId) => v.router.nonces(id);

  async function vaultMatchesPosition() {
    const [size] = await v.router.positions(agentId, vaultAddress, nvdaAddress);
    assert.equal(await v.nvda.balanceOf(vaultAddress), size, "the vault's NVDA balance equals the on-chain position size");
    return size;
  }

  test("digests equal ethers' TypedDataEncoder for all four intent types; domain separator too", async () => {
    assert.equal(await v.router.domainSeparator(), ethers.TypedDataEncoder.hashDomain(v.domain));
    const common = { agentId, vault: vaultAddress, token: nvdaAddress, deadline: 1_900_000_000n, nonce: 42n };
    const messages = {
      OpenPosition: { ...common, usdcAmount: USDC(1000), minTokenOut: 7n, maxSlippageBps: 50, exitsHash: ethers.id("ladder") },
      AddToPosition: { ...common, usdcAmount: USDC(250.5), minTokenOut: 1n, maxSlippageBps: 65535 },
      ReducePosition: { ...common, tokenAmount: TOKENS(1.5), minUsdcOut: USDC(190), maxSlippageBps: 0 },
      UpdateExitLadder: { ...common, exitsHash: ethers.ZeroHash },
    };
    for (const [type, message] of Object.entries(messages)) {
      // The struct passed to the contract is built from the type's field list, so field order is the type string's.
      const struct = INTENT_TYPES[type].map((f) => message[f.name]);
      const onChain = await v.router[`digest${type}`](struct);
      assert.equal(onChain, ethers.TypedDataEncoder.hash(v.domain, typesFor(type), message), `digest${type}`);
    }
  });

  test("hashExits equals the EIP-712 ExitRule[] hash computed by ethers", async () => {
    const ladders = [
      [],
      [{ triggerType: STOP_LOSS, triggerBps: -500, exitBps: 10_000 }],
      [
        { triggerType: STOP_LOSS, triggerBps: -300, exitBps: 5_000 },
        { triggerType: STOP_LOSS, triggerBps: -2_147_483_648, exitBps: 1 },
        { triggerType: TAKE_PROFIT, triggerBps: 2_147_483_647, exitBps: 10_000 },
      ],
    ];
    for (const rules of ladders) {
      const tuples = rules.map((r) => [r.triggerType, r.triggerBps, r.exitBps]);
      assert.equal(await v.router.hashExits(tuples), ethersExitsHash(rules));
    }
    assert.equal(await v.router.hashExits([]), ethers.keccak256("0x"), "an empty ladder hashes to keccak256(\"\")");
    // And it is exactly what a struct with an ExitRule[] member hashes it to.
    const rules = ladders[2];
    const wrapper = { W: [{ name: "exits", type: "ExitRule[]" }], ExitRule: [
      { name: "triggerType", type: "uint8" }, { name: "triggerBps", type: "int32" }, { name: "exitBps", type: "uint16" }] };
    const expected = ethers.keccak256(ethers.concat([ethers.id("W(ExitRule[] exits)ExitRule(uint8 triggerType,int32 triggerBps,uint16 exitBps)"),
      await v.router.hashExits(rules.map((r) => [r.triggerType, r.triggerBps, r.exitBps]))]));
    assert.equal(ethers.TypedDataEncoder.hashStruct("W", wrapper, { exits: rules }), expected);
  });

  // Position life, in order. Each step checks that the vault holds exactly the position size.
  const ladder1 = [{ triggerType: STOP_LOSS, triggerBps: -1_000, exitBps: 10_000 }];
  const ladder2 = [
    { triggerType: STOP_LOSS, triggerBps: -500, exitBps: 5_000 },
    { triggerType: STOP_LOSS, triggerBps: -1_200, exitBps: 10_000 },
    { triggerType: TAKE_PROFIT, triggerBps: 2_000, exitBps: 10_000 },
  ];
  const tuples = (rules) => rules.map((r) => [r.triggerType, r.triggerBps, r.exitBps]);

  test("open: signed with ethers signTypedData, executes, sets size/cost/exitsHash", async (t) => {
    const nonce = await nonceOf();
    assert.equal(nonce, 0n);
    const usdcAmount = USDC(13_006.5);
    const { fill, tokenOut } = expectedBuy(usdcAmount, NVDA_PRICE);
    const message = {
      agentId, vault: vaultAddress, token: nvdaAddress, usdcAmount, minTokenOut: tokenOut, maxSlippageBps: 10,
      exitsHash: ethersExitsHash(ladder1), deadline: await deadline(), nonce,
    };
    const signature = await signIntent(agentKey, v.domain, "OpenPosition", message);
    const vaultUsdcBefore = await v.usdc.balanceOf(vaultAddress);
    const receipt = await send(router().openPosition(message, signature));
    t.diagnostic(`openPosition: ${receipt.gasUsed} gas`);

    const orderId = ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode(["uint256", "uint256"], [agentId, nonce]));
    assert.equal(await v.router.intentOrderId(agentId, nonce), orderId);
    const filled = routerEvents(receipt, v.routerAddress).find((e) => e.name === "OrderFilled");
    assert.ok(filled, "OrderFilled emitted");
    assert.equal(filled.args.orderId, orderId);
    assert.equal(filled.args.agentId, agentId);
    assert.equal(filled.args.account, vaultAddress);
    assert.equal(filled.args.token, nvdaAddress);
    assert.equal(filled.args.buy, true);
    assert.equal(filled.args.usdcAmount, usdcAmount);
    assert.equal(filled.args.tokenAmount, tokenOut);
    assert.equal(filled.args.priceE8, fill);
    assert.equal(tokenOut, TOKENS(100), "13006.5 USDC at 130.065 (130 + 5 bps) buys exactly 100 NVDA");

    assert.deepEqual([...(await v.router.orders(orderId))], [1n, usdcAmount, tokenOut]);
    assert.equal(await nonceOf(), 1n);
    const [size, cost, exitsHash, firedMask] = await v.router.positions(agentId, vaultAddress, nvdaAddress);
    assert.equal(size, tokenOut);
    assert.equal(cost, usdcAmount);
    assert.equal(exitsHash, ethersExitsHash(ladder1));
    assert.equal(firedMask, 0n);
    assert.equal(await v.usdc.balanceOf(vaultAddress), vaultUsdcBefore - usdcAmount);
    await vaultMatchesPosition();

    // A second open while the position has a size is refused at admission.
    const again = { ...message, nonce: 1n, deadline: await deadline() };
    await revertsWith(router().openPosition.staticCall(again, await signIntent(agentKey, v.domain, "OpenPosition", again)), "PositionAlreadyOpen");
  });

  test("add: increases size and cost", async (t) => {
    const [sizeBefore, costBefore] = await v.router.positions(agentId, vaultAddress, nvdaAddress);
    const usdcAmount = USDC(6_500);
    const { tokenOut } = expectedBuy(usdcAmount, NVDA_PRICE);
    const message = {
      agentId, vault: vaultAddress, token: nvdaAddress, usdcAmount, minTokenOut: 0n, maxSlippageBps: 5,
      deadline: await deadline(), nonce: await nonceOf(),
    };
    const receipt = await send(router().addToPosition(message, await signIntent(agentKey, v.domain, "AddToPosition", message)));
    t.diagnostic(`addToPosition: ${receipt.gasUsed} gas`);
    const [size, cost] = await v.router.positions(agentId, vaultAddress, nvdaAddress);
    assert.equal(size, sizeBefore + tokenOut);
    assert.equal(cost, costBefore + usdcAmount);
    await vaultMatchesPosition();
  });

  test("update ladder: replaces exitsHash and clears firedMask; emits ExitLadderUpdated", async (t) => {
    const nonce = await nonceOf();
    const message = { agentId, vault: vaultAddress, token: nvdaAddress, exitsHash: ethersExitsHash(ladder2), deadline: await deadline(), nonce };
    const receipt = await send(router().updateExitLadder(message, await signIntent(agentKey, v.domain, "UpdateExitLadder", message)));
    t.diagnostic(`updateExitLadder: ${receipt.gasUsed} gas`);
    const ev = routerEvents(receipt, v.routerAddress).find((e) => e.name === "ExitLadderUpdated");
    assert.equal(ev.args.exitsHash, ethersExitsHash(ladder2));
    assert.equal(ev.args.orderId, await v.router.intentOrderId(agentId, nonce));
    const [, , exitsHash, firedMask] = await v.router.positions(agentId, vaultAddress, nvdaAddress);
    assert.equal(exitsHash, ethersExitsHash(ladder2));
    assert.equal(firedMask, 0n);
    assert.equal((await v.router.orders(ev.args.orderId))[0], 1n, "a ladder update is recorded as applied");
    await vaultMatchesPosition();
  });

  test("reduce: sells part, removes cost in proportion, returns USDC to the vault", async (t) => {
    const [sizeBefore, costBefore] = await v.router.positions(agentId, vaultAddress, nvdaAddress);
    const tokenAmount = sizeBefore / 4n;
    const { usdcOut } = expectedSell(tokenAmount, NVDA_PRICE);
    const vaultUsdcBefore = await v.usdc.balanceOf(vaultAddress);
    const message = {
      agentId, vault: vaultAddress, token: nvdaAddress, tokenAmount, minUsdcOut: usdcOut, maxSlippageBps: 5,
      deadline: await deadline(), nonce: await nonceOf(),
    };
    const receipt = await send(router().reducePosition(message, await signIntent(agentKey, v.domain, "ReducePosition", message)));
    t.diagnostic(`reducePosition: ${receipt.gasUsed} gas`);
    const filled = routerEvents(receipt, v.routerAddress).find((e) => e.name === "OrderFilled");
    assert.equal(filled.args.buy, false);
    assert.equal(filled.args.usdcAmount, usdcOut);
    assert.equal(await v.usdc.balanceOf(vaultAddress), vaultUsdcBefore + usdcOut);
    const [size, cost] = await v.router.positions(agentId, vaultAddress, nvdaAddress);
    assert.equal(size, sizeBefore - tokenAmount);
    assert.equal(cost, costBefore - (costBefore * tokenAmount) / sizeBefore);
    await vaultMatchesPosition();

    // More than the size is refused at admission.
    const tooMuch = { ...message, tokenAmount: size + 1n, nonce: await nonceOf(), deadline: await deadline() };
    const args = await revertsWith(
      router().reducePosition.staticCall(tooMuch, await signIntent(agentKey, v.domain, "ReducePosition", tooMuch)),
      "InsufficientPositionSize",
    );
    assert.equal(args[0], size);
  });

  test("automatic exits: not reached reverts; StopLoss fires at the oracle price once; the last rule closes", async (t) => {
    const exitOrder = (n) => ethers.id(`exit-${n}`);
    // At 130 the position is down only by the spread (~ -5 bps): rule 0 (-500) is not reached.
    const args = await revertsWith(
      router().executeExit.staticCall(agentId, vaultAddress, nvdaAddress, tuples(ladder2), 0, exitOrder(1)),
      "ExitNotReached",
    );
    assert.ok(args[0] < 0n && args[0] > -500n, `pnlBps ${args[0]} is just below zero`);
    assert.equal(args[1], -500n);
    // Another ladder than the signed one is refused.
    await revertsWith(
      router().executeExit.staticCall(agentId, vaultAddress, nvdaAddress, tuples(ladder1), 0, exitOrder(1)),
      "ExitsHashMismatch",
    );
    // Not the executor: refused.
    await revertsWith(
      v.router.connect(v.accounts[5]).executeExit.staticCall(agentId, vaultAddress, nvdaAddress, tuples(ladder2), 0, exitOrder(1)),
      "AccessControlUnauthorizedAccount",
    );

    // The feed moves through the StopLoss at -5%: 120 is about -7.7%.
    await send(v.nvdaFeed.setPrice(120_00000000n));
    const [sizeBefore, costBefore] = await v.router.positions(agentId, vaultAddress, nvdaAddress);
    const receipt = await sendWithHeadroom(router().executeExit, agentId, vaultAddress, nvdaAddress, tuples(ladder2), 0, exitOrder(1));
    t.diagnostic(`executeExit (3-rule ladder): ${receipt.gasUsed} gas`);
    const events = routerEvents(receipt, v.routerAddress);
    const filled = events.find((e) => e.name === "OrderFilled");
    const exited = events.find((e) => e.name === "ExitExecuted");
    const sold = sizeBefore * 5_000n / 10_000n;
    assert.equal(filled.args.tokenAmount, sold);
    assert.equal(filled.args.usdcAmount, expectedSell(sold, 120_00000000n).usdcOut);
    assert.equal(exited.args.ruleIndex, 0n);
    const expectedPnl = ((sizeBefore * 120_00000000n * 10n ** 6n - costBefore * 10n ** 26n) * 10_000n) / (costBefore * 10n ** 26n);
    assert.equal(exited.args.pnlBps, expectedPnl);
    assert.deepEqual([...(await v.router.orders(exitOrder(1)))], [1n, filled.args.usdcAmount, sold]);
    const [size, , , firedMask] = await v.router.positions(agentId, vaultAddress, nvdaAddress);
    assert.equal(size, sizeBefore - sold);
    assert.equal(firedMask, 1n);
    await vaultMatchesPosition();

    // The same rule again: refused, with a new order id or the same one.
    await revertsWith(
      router().executeExit.staticCall(agentId, vaultAddress, nvdaAddress, tuples(ladder2), 0, exitOrder(2)),
      "ExitAlreadyFired",
    );
    await revertsWith(
      router().executeExit.staticCall(agentId, vaultAddress, nvdaAddress, tuples(ladder2), 0, exitOrder(1)),
      "OrderAlreadyExecuted",
    );
    // Rule 1 (-1200) is not reached at 120; at 110 it is, and sells everything: the position closes.
    await revertsWith(
      router().executeExit.staticCall(agentId, vaultAddress, nvdaAddress, tuples(ladder2), 1, exitOrder(2)),
      "ExitNotReached",
    );
    await send(v.nvdaFeed.setPrice(110_00000000n));
    await sendWithHeadroom(router().executeExit, agentId, vaultAddress, nvdaAddress, tuples(ladder2), 1, exitOrder(2));
    const position = await v.router.positions(agentId, vaultAddress, nvdaAddress);
    assert.deepEqual([...position], [0n, 0n, ethers.ZeroHash, 0n], "closed: size, cost, ladder and fired rules cleared");
    assert.equal(await vaultMatchesPosition(), 0n);
    await send(v.nvdaFeed.setPrice(NVDA_PRICE));
  });

  test("TakeProfit: reached at or above the level, exactly as pnlBps = (size×price − cost)/cost × 10000", async () => {
    const ladder = [{ triggerType: TAKE_PROFIT, triggerBps: 2_000, exitBps: 10_000 }];
    const usdcAmount = USDC(13_006.5); // buys exactly 100 NVDA at 130.065
    const open = {
      agentId, vault: vaultAddress, token: nvdaAddress, usdcAmount, minTokenOut: 0n, maxSlippageBps: 5,
      exitsHash: ethersExitsHash(ladder), deadline: await deadline(), nonce: await nonceOf(),
    };
    await send(router().openPosition(open, await signIntent(agentKey, v.domain, "OpenPosition", open)));
    assert.equal(await vaultMatchesPosition(), TOKENS(100));
    // +20% on a cost of 13006.5 for 100 tokens is exactly 156.078 per token.
    await send(v.nvdaFeed.setPrice(156_07799999n));
    const args = await revertsWith(router().executeExit.staticCall(agentId, vaultAddress, nvdaAddress, tuples(ladder), 0, ethers.id("tp")), "ExitNotReached");
    assert.equal(args[0], 1_999n, "one unit under the level truncates to 1999 bps and is not reached");
    await send(v.nvdaFeed.setPrice(156_07800000n));
    const receipt = await sendWithHeadroom(router().executeExit, agentId, vaultAddress, nvdaAddress, tuples(ladder), 0, ethers.id("tp"));
    const exited = routerEvents(receipt, v.routerAddress).find((e) => e.name === "ExitExecuted");
    assert.equal(exited.args.pnlBps, 2_000n, "exactly at the level: reached");
    assert.equal(await vaultMatchesPosition(), 0n);
    await send(v.nvdaFeed.setPrice(NVDA_PRICE));
  });

  test("admission failures revert on chain: forged, replayed, expired, disallowed, not the executor", async () => {
    const nonce = await nonceOf();
    const open = {
      agentId, vault: vaultAddress, token: nvdaAddress, usdcAmount: USDC(100), minTokenOut: 0n, maxSlippageBps: 50,
      exitsHash: ethersExitsHash(ladder1), deadline: await deadline(), nonce,
    };
    const good = await signIntent(agentKey, v.domain, "OpenPosition", open);

    // Each is sent as a real transaction with a fixed gas limit (no estimateGas in the way): it must be mined
    // as reverted and change nothing. staticCall names the error.
    async function refused(contract, intent, signature, errorName) {
      await revertsWith(contract.openPosition.staticCall(intent, signature), errorName);
      const tx = await contract.openPosition(intent, signature, { gasLimit: 1_000_000 });
      const receipt = await v.provider.getTransactionReceipt(tx.hash) ?? await tx.wait(0, 30_000);
      assert.equal(receipt.status, 0, `${errorName}: mined as reverted`);
      assert.equal(await nonceOf(), nonce, `${errorName}: nonce unchanged`);
    }

    const forged = await signIntent(ethers.Wallet.createRandom(), v.domain, "OpenPosition", open);
    await refused(router(), open, forged, "InvalidSignature");
    // A signature over other fields (the amount changed after signing).
    await refused(router(), { ...open, usdcAmount: USDC(101) }, good, "InvalidSignature");
    // The high-s twin of a valid signature.
    const sig = ethers.Signature.from(good);
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const highS = ethers.concat([sig.r, ethers.toBeHex(n - BigInt(sig.s), 32), sig.v === 27 ? "0x1c" : "0x1b"]);
    await refused(router(), open, highS, "InvalidSignature");
    // Expired: deadline not after the block's timestamp.
    const expired = { ...open, deadline: await latestTimestamp(v.provider) };
    await refused(router(), expired, await signIntent(agentKey, v.domain, "OpenPosition", expired), "DeadlineExpired");
    // A token outside the vault's allowlist (TSLA is listed, not allowed for this vault).
    const tsla = { ...open, token: tslaAddress };
    await refused(router(), tsla, await signIntent(agentKey, v.domain, "OpenPosition", tsla), "TokenNotAllowed");
    // Not the executor.
    await refused(v.router.connect(v.accounts[5]), open, good, "AccessControlUnauthorizedAccount");
    // Replay: execute once, then send the very same signed intent again.
    await send(router().openPosition(open, good));
    assert.equal(await nonceOf(), nonce + 1n);
    const args = await revertsWith(router().openPosition.staticCall(open, good), "NonceMismatch");
    assert.deepEqual([args[0], args[1]], [nonce + 1n, nonce]);
    const tx = await router().openPosition(open, good, { gasLimit: 1_000_000 });
    assert.equal((await v.provider.getTransactionReceipt(tx.hash)).status, 0, "replay mined as reverted");
    assert.equal(await nonceOf(), nonce + 1n);
    // v = 0/1 is accepted like 27/28 (as off-chain).
    const [size] = await v.router.positions(agentId, vaultAddress, nvdaAddress);
    const reduce = { agentId, vault: vaultAddress, token: nvdaAddress, tokenAmount: size, minUsdcOut: 0n, maxSlippageBps: 5, deadline: await deadline(), nonce: nonce + 1n };
    const s2 = ethers.Signature.from(await signIntent(agentKey, v.domain, "ReducePosition", reduce));
    await send(router().reducePosition(reduce, ethers.concat([s2.r, s2.s, s2.v === 27 ? "0x00" : "0x01"])));
    await vaultMatchesPosition();
  });

  test("market refusals are recorded, not reverted: reason selector, nonce consumed, balances unchanged", async () => {
    async function refusedAtMarket(message, reasonName) {
      const nonce = await nonceOf();
      const vaultUsdc = await v.usdc.balanceOf(vaultAddress);
      const vaultNvda = await v.nvda.balanceOf(vaultAddress);
      const poolUsdc = await v.usdc.balanceOf(await v.pool.getAddress());
      const position = [...(await v.router.positions(agentId, vaultAddress, nvdaAddress))];
      const full = { ...message, deadline: await deadline(), nonce };
      const receipt = await send(router().openPosition(full, await signIntent(agentKey, v.domain, "OpenPosition", full)));
      const events = routerEvents(receipt, v.routerAddress);
      const failed = events.find((e) => e.name === "OrderFailed");
      assert.ok(failed, `${reasonName}: OrderFailed emitted`);
      assert.equal(events.some((e) => e.name === "OrderFilled"), false);
      assert.equal(failed.args.reason, selector(reasonName), `reason is ${reasonName}`);
      assert.equal(failed.args.orderId, await v.router.intentOrderId(agentId, nonce));
      assert.equal(failed.args.account, vaultAddress);
      assert.equal(await nonceOf(), nonce + 1n, `${reasonName}: nonce consumed`);
      assert.deepEqual([...(await v.router.orders(failed.args.orderId))], [2n, 0n, 0n]);
      assert.equal(await v.usdc.balanceOf(vaultAddress), vaultUsdc);
      assert.equal(await v.nvda.balanceOf(vaultAddress), vaultNvda);
      assert.equal(await v.usdc.balanceOf(await v.pool.getAddress()), poolUsdc);
      assert.deepEqual([...(await v.router.positions(agentId, vaultAddress, nvdaAddress))], position, "no position opened");
      // The same signed intent can never be tried again.
      await revertsWith(router().openPosition.staticCall(full, await signIntent(agentKey, v.domain, "OpenPosition", full)), "NonceMismatch");
    }
    const base = { agentId, vault: vaultAddress, token: nvdaAddress, usdcAmount: USDC(1_000), minTokenOut: 0n, exitsHash: ethersExitsHash(ladder1) };
    await refusedAtMarket({ ...base, maxSlippageBps: SPREAD_BPS - 1 }, "SlippageExceeded");
    await refusedAtMarket({ ...base, maxSlippageBps: 50, minTokenOut: expectedBuy(USDC(1_000), NVDA_PRICE).tokenOut + 1n }, "MinOutNotMet");
    await refusedAtMarket({ ...base, maxSlippageBps: 50, usdcAmount: (await v.usdc.balanceOf(vaultAddress)) + 1n }, "InsufficientBalance");
    await increaseTime(v.provider, MAX_PRICE_AGE + 1);
    await refusedAtMarket({ ...base, maxSlippageBps: 50 }, "StalePrice");
    await send(v.nvdaFeed.setPrice(NVDA_PRICE));
    await send(v.nvdaFeed.setPrice(0n));
    await refusedAtMarket({ ...base, maxSlippageBps: 50 }, "InvalidPrice");
    await send(v.nvdaFeed.setPrice(NVDA_PRICE));
  });

  test("signer registry: admin or executor set and rotate; others cannot; a rotated-out key no longer signs", async () => {
    const other = 7n;
    await revertsWith(v.router.connect(v.accounts[5]).setAgentSigner.staticCall(other, agentKey.address), "AccessControlUnauthorizedAccount");
    await send(v.router.connect(v.admin).setAgentSigner(other, agentKey.address));
    assert.equal(await v.router.signerOf(other), agentKey.address);
    const newKey = ethers.Wallet.createRandom();
    await send(router().setAgentSigner(other, newKey.address));
    const open = {
      agentId: other, vault: vaultAddress, token: nvdaAddress, usdcAmount: USDC(100), minTokenOut: 0n, maxSlippageBps: 50,
      exitsHash: ethers.keccak256("0x"), deadline: await deadline(), nonce: 0n,
    };
    await revertsWith(router().openPosition.staticCall(open, await signIntent(agentKey, v.domain, "OpenPosition", open)), "InvalidSignature");
    await send(router().openPosition(open, await signIntent(newKey, v.domain, "OpenPosition", open)));
    assert.equal(await v.router.nonces(other), 1n);
  });
  test("skipNonces moves an agent's nonce forward only, for the executor only; a skipped intent can no longer execute", async () => {
    const other = 8n;
    await send(router().setAgentSigner(other, agentKey.address));
    const open = {
      agentId: other, vault: vaultAddress, token: nvdaAddress, usdcAmount: USDC(100), minTokenOut: 0n, maxSlippageBps: 50,
      exitsHash: ethers.keccak256("0x"), deadline: await deadline(), nonce: 0n,
    };
    const signedAtZero = await signIntent(agentKey, v.domain, "OpenPosition", open);
    await revertsWith(v.router.connect(v.accounts[5]).skipNonces.staticCall(other, 2n), "AccessControlUnauthorizedAccount");
    const receipt = await send(router().skipNonces(other, 2n));
    const skipped = routerEvents(receipt, v.routerAddress).find((e) => e.name === "NoncesSkipped");
    assert.deepEqual([skipped.args.agentId, skipped.args.fromNonce, skipped.args.toNonce], [other, 0n, 2n]);
    assert.equal(await nonceOf(other), 2n);
    const [expected, provided] = await revertsWith(router().skipNonces.staticCall(other, 1n), "NonceMismatch");
    assert.deepEqual([expected, provided], [2n, 1n]);
    await revertsWith(router().openPosition.staticCall(open, signedAtZero), "NonceMismatch");
    const atTwo = { ...open, nonce: 2n };
    await send(router().openPosition(atTwo, await signIntent(agentKey, v.domain, "OpenPosition", atTwo)));
    assert.equal(await nonceOf(other), 3n);
  });
});
