#!/usr/bin/env node
// Opens a vault position as an AlphaGrid agent: quote → check → sign (EIP-712, ethers 6) → submit.
//
//   node quote-sign-submit.mjs --api http://127.0.0.1:5080 --agent <agentId> --key <hex private key> \
//     --symbol NVDA --usdc 100 [--stop-bps -500] [--take-profit-bps 1000] [--min-token-out 0] [--max-slippage-bps 100]
//
// 1. GET /agents/{agentId}/trade-intents/quote with the intent's fields. The answer carries the EIP-712 typed
//    data to sign, with the agent's current nonce and a deadline chosen by the server.
// 2. Checks that the typed data says what was asked (primary type, amount in USDC base units, vault and token
//    from the quote, exitsHash of these exits computed here) and refuses to sign otherwise.
// 3. Signs the typed data with the key (ethers derives the EIP712Domain type itself, so it is left out).
// 4. POST /agents/{agentId}/trade-intents with the same fields plus deadline, nonce and signature exactly as the
//    quote's message has them.
// The response (positionId, transactionHash, …) is printed on stdout as JSON; progress goes to stderr.
// Exit codes: 0 accepted, 1 refused by the API (its problem details are printed), 2 bad arguments.
// The key may also come from the environment: AGENT_PRIVATE_KEY.
import { TypedDataEncoder, Wallet, getAddress, parseUnits } from "ethers";

const REQUEST_TIMEOUT_MS = 15_000;

function parseArgs(argv) {
  const options = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--")) throw new Error(`unexpected argument ${arg}`);
    const [name, inline] = arg.slice(2).split("=", 2);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`--${name} needs a value`);
    options[name] = value;
  }
  return options;
}

const usage = `usage: node quote-sign-submit.mjs --api <url> --agent <agentId> --key <hex private key> --symbol <SYMBOL> --usdc <amount>
       [--stop-bps -500] [--take-profit-bps <bps>] [--min-token-out 0] [--max-slippage-bps 100]`;

let options;
try {
  options = parseArgs(process.argv.slice(2));
} catch (error) {
  console.error(`${error.message}\n${usage}`);
  process.exit(2);
}
const api = (options.api ?? "http://127.0.0.1:5080").replace(/\/$/, "");
const agentId = options.agent;
const key = options.key ?? process.env.AGENT_PRIVATE_KEY;
const symbol = options.symbol?.toUpperCase();
const usdcAmount = options.usdc;
if (!agentId || !key || !symbol || !usdcAmount) {
  console.error(`--agent, --key (or AGENT_PRIVATE_KEY), --symbol and --usdc are required\n${usage}`);
  process.exit(2);
}
const stopBps = Number(options["stop-bps"] ?? -500);
const takeProfitBps = options["take-profit-bps"] === undefined ? undefined : Number(options["take-profit-bps"]);
const minTokenOut = options["min-token-out"] ?? "0";
const maxSlippageBps = Number(options["max-slippage-bps"] ?? 100);

// Exit ladder: the stop loss sells everything; with --take-profit-bps the take profit sells everything too.
const exits = [{ triggerType: "StopLoss", triggerBps: stopBps, exitBps: 10000 }];
if (takeProfitBps !== undefined) exits.push({ triggerType: "TakeProfit", triggerBps: takeProfitBps, exitBps: 10000 });

let wallet;
try {
  wallet = new Wallet(key.startsWith("0x") ? key : `0x${key}`);
} catch {
  console.error("--key is not a valid secp256k1 private key (32 bytes of hex)");
  process.exit(2);
}

async function call(method, path, { query, body } = {}) {
  const url = new URL(api + path);
  for (const [name, value] of Object.entries(query ?? {})) url.searchParams.set(name, String(value));
  const response = await fetch(url, {
    method,
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await response.text();
  let json;
  try { json = JSON.parse(text); } catch { json = text; }
  return { status: response.status, ok: response.ok, json };
}

function refuse(what, answer) {
  console.error(`${what}: HTTP ${answer.status}`);
  console.error(typeof answer.json === "string" ? answer.json : JSON.stringify(answer.json, null, 2));
  process.exit(1);
}

const encodedPath = `/agents/${encodeURIComponent(agentId)}/trade-intents`;
const intent = { symbol, usdcAmount: String(usdcAmount), minTokenOut: String(minTokenOut), maxSlippageBps };

// 1. Quote.
console.error(`quote: ${symbol} ${usdcAmount} USDC, exits ${JSON.stringify(exits)}, signer ${wallet.address}`);
const quote = await call("GET", `${encodedPath}/quote`, { query: { ...intent, exits: JSON.stringify(exits) } });
if (!quote.ok) refuse("the quote was refused", quote);
const typedData = quote.json?.typedData;
if (!typedData?.domain || !typedData?.types || !typedData?.message) refuse("the quote has no typedData", quote);
const { domain, message, primaryType } = typedData;

// 2. Check what is about to be signed.
const exitRuleTypes = { ExitRule: [{ name: "triggerType", type: "uint8" }, { name: "triggerBps", type: "int32" }, { name: "exitBps", type: "uint16" }] };
const exitsHash = TypedDataEncoder.from(exitRuleTypes).encodeData("ExitRule[]",
  exits.map((e) => ({ triggerType: e.triggerType === "StopLoss" ? 0 : 1, triggerBps: e.triggerBps, exitBps: e.exitBps })));
const checks = [
  ["primaryType", primaryType, "OpenPosition"],
  ["usdcAmount (base units)", String(message.usdcAmount), parseUnits(String(usdcAmount), 6).toString()],
  ["maxSlippageBps", Number(message.maxSlippageBps), maxSlippageBps],
  ["exitsHash", String(message.exitsHash).toLowerCase(), exitsHash.toLowerCase()],
  ["vault", getAddress(message.vault), quote.json.vault?.address ? getAddress(quote.json.vault.address) : getAddress(message.vault)],
  ["token", getAddress(message.token), quote.json.vault?.token?.address ? getAddress(quote.json.vault.token.address) : getAddress(message.token)],
];
for (const [name, got, expected] of checks) {
  if (got !== expected) {
    console.error(`refusing to sign: the quote's ${name} is ${got}, expected ${expected}`);
    process.exit(1);
  }
}
console.error(`quote: nonce ${message.nonce}, deadline ${message.deadline} (${new Date(Number(message.deadline) * 1000).toISOString()}), vault ${message.vault}, token ${message.token}`);

// 3. Sign. ethers builds the EIP712Domain type from `domain` and refuses an explicit one.
const { EIP712Domain, ...types } = typedData.types;
const signature = await wallet.signTypedData(domain, types, message);
console.error(`signed by ${wallet.address}`);

// 4. Submit: the same fields, plus the quote's deadline and nonce as it sent them, plus the signature.
const submitted = await call("POST", encodedPath, {
  body: { ...intent, exits, deadline: message.deadline, nonce: message.nonce, signature },
});
if (!submitted.ok) refuse("the intent was refused", submitted);
console.log(JSON.stringify(submitted.json, null, 2));
