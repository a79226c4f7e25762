#!/usr/bin/env node
// Records the OpenAPI examples (src/AgentDesk.Gateway/Http/OpenApiExamples.json) from a real run of AgentDesk.
//
//   node record-examples.mjs [--dll <AgentDesk.Gateway.dll>] [--out <file>] [--keep]
//
// It starts the built gateway (never a build) on a fresh data folder, reads /openapi/v1.json, and drives the API the
// way its users do: the Symphony story (register, accounts, deposits, subscribers, batch-open with a stop, positions,
// a manual close, batch-close, fees, pause/resume), the AlphaGrid story (vault, allowlist, capital, track, binding,
// then quote → sign with ethers 6 → submit for all four intent types, vault positions, a signed signer rotation),
// prices (an outlier held, then accepted), API keys and health. Every call names its operation as the examples file
// does ("METHOD /path/template"); the first 2xx answer of an operation is its example (a call may say
// `example: true` to take over, or `example: false` to stay out). The request example is the body that was sent,
// except for entries marked `"seed": true` in the file: their request example is the seed document's and is kept.
// Response examples are always what AgentDesk answered. Ids, hashes and times are whatever the run produced.
//
// Driven by the document: every operation in /openapi/v1.json must end up with an example. A GET whose path
// parameters are all known from the stories (agentId, smartAccount, vaultId, …) is called as a last resort; any
// other operation the stories do not call is reported as missing with where to add it, and the run exits 1.
// Every example is validated against its schema in the document before it is written (exit 1 on a mismatch).
// Operations that are missing keep their previous entry, if any; entries of operations no longer in the document
// are dropped. Output: operations sorted by path then method, each entry as seed, status (when not 200), request,
// response; two-space JSON, so a re-recording diffs line by line.
//
// After recording, rebuild the gateway (the file is an embedded resource) and run `node run.mjs`.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { Wallet, id as keccakText } from "ethers";
import { createSchemaValidator, pointer } from "./conformance.mjs";
import { defaultDll, killTree, killTreeSync, repoRoot, startGateway } from "./gateway.mjs";

const REQUEST_TIMEOUT_MS = 20_000;
const TOTAL_TIMEOUT_MS = 5 * 60_000;
const METHODS = ["get", "post", "put", "patch", "delete"];
const HERE = "tests/contract/record-examples.mjs";

const argv = process.argv.slice(2);
const option = (name) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined; };
const dll = resolve(option("--dll") ?? process.env.AGENTDESK_GATEWAY_DLL ?? defaultDll);
const outFile = resolve(option("--out") ?? join(repoRoot, "src/AgentDesk.Gateway/Http/OpenApiExamples.json"));
const keep = argv.includes("--keep");

const log = (message) => console.log(`[record] ${message}`);

// ───────────────────────────── the recorder ─────────────────────────────

/** Calls operations by their "METHOD /path/template" name and keeps the first 2xx exchange of each. */
class Recorder {
  constructor(baseUrl, document) {
    this.baseUrl = baseUrl;
    this.document = document;
    /** @type {Map<string, { status: number, request?: unknown, response?: unknown, how: string }>} */
    this.recorded = new Map();
    /** Operations a story called that the document does not have. */
    this.notInDocument = new Set();
    this.story = "";
  }

  /**
   * @param {string} operation "METHOD /path/{param}", as in the document
   * @param {{ path?: Record<string, string>, query?: Record<string, unknown>, body?: unknown, headers?: Record<string, string>,
   *           key?: string, example?: boolean }} [options]
   */
  async call(operation, { path = {}, query, body, headers = {}, key, example, stream } = {}) {
    const [method, template] = operation.split(" ");
    if (!this.document.paths?.[template]?.[method.toLowerCase()]) this.notInDocument.add(operation);
    const url = new URL(this.baseUrl + template.replace(/\{(\w+)\}/g, (_, name) => {
      if (path[name] === undefined) throw new Error(`${operation}: no value for the path parameter {${name}}`);
      return encodeURIComponent(path[name]);
    }));
    for (const [name, value] of Object.entries(query ?? {})) if (value !== undefined) url.searchParams.set(name, String(value));
    const response = await fetch(url, {
      method,
      headers: { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...(key ? { "x-api-key": key } : {}), ...headers },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    // A stream (server-sent events) never ends by itself: its first `stream.events` events are the example.
    const text = stream ? await firstEvents(response, stream.events) : await response.text();
    let json;
    try { json = text ? JSON.parse(text) : undefined; } catch { json = text; }
    if (!response.ok) throw new Error(`${operation} (${url.pathname}${url.search}) answered ${response.status}: ${text.slice(0, 600)}`);
    if (example === true || (example !== false && !this.recorded.has(operation)))
      this.recorded.set(operation, { status: response.status, request: body, response: json, how: this.story });
    return json;
  }
}

/** Reads a text/event-stream response until it has carried `count` events (or 10 s passed), then lets it go. */
async function firstEvents(response, count) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const deadline = Date.now() + 10_000;
  let text = "";
  try {
    while ((text.match(/^id: /gm) ?? []).length < count && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  // Whole events only: everything up to the blank line that ends the last one counted.
  const ends = [...text.matchAll(/\n\n/g)].map((m) => m.index + 2);
  return text.slice(0, ends.find((end) => (text.slice(0, end).match(/^id: /gm) ?? []).length >= count) ?? text.length);
}

// ───────────────────────────── the stories ─────────────────────────────
// Each story is a function (api, ctx) that calls operations in the order a user would. A story that fails stops
// there; the others still run. To give a new operation its example, call it in the story that already creates what
// it needs (or add a story to STORIES), with a realistic body: `await api.call("POST /api/v1/things", { key: ctx.adminKey, body })`.

const SYMPHONY_AGENT = "63946153-9f33-4b7e-9b32-b99a4a6037e2"; // the README's ids, so examples and README tell one story
const ALPHAGRID_AGENT = "337c2c59-ae4a-477c-9771-e66de0fdd669";
const FEE_ADDRESS = "0x56d0573c786d3000000000000000000000000001";
const SUBSCRIBERS = ["0xbaf3de56e5815e9b2894a95d85b8023c3ac03e4e", "0xe1f8d0d7b845a2da77182325263285c88830adc0"];
const LEAVING_SUBSCRIBER = "0x2cd40dfcc2bbf13539ec7f961cb5fee8d4cb924c";
const VAULT = { vaultId: "equities", address: "0x1111111111111111111111111111111111111111", name: "Equities" };
const NVDA = { symbol: "NVDA", address: "0x2222222222222222222222222222222222222222", decimals: 18 };
// A fixed, public example key (keccak256 of a text): the signer address stays the same between recordings. Never
// use it for anything real.
const EXAMPLE_SIGNER = new Wallet(keccakText("agentdesk openapi example signer"));
const NEXT_SIGNER = new Wallet(keccakText("agentdesk openapi example signer 2"));

async function symphonyStory(api, ctx) {
  const key = ctx.adminKey;
  await api.call("POST /agent/register", {
    key,
    body: {
      agentId: SYMPHONY_AGENT, name: "Momentum", description: "Trend follower on majors", imageUrl: "https://example.com/momentum.png",
      agentType: "PERPETUAL", isPublic: true,
      agentFees: { owner_flat: { fee: 0.1, feeAddress: FEE_ADDRESS, type: "FLAT" }, owner_bps: { fee: 5, feeAddress: FEE_ADDRESS, type: "BPS" } },
    },
  });
  ctx.known.agentId = SYMPHONY_AGENT;
  ctx.known.feeAddress = FEE_ADDRESS;
  for (const [i, smartAccount] of [...SUBSCRIBERS, LEAVING_SUBSCRIBER].entries()) {
    await api.call("POST /api/v1/accounts", { key, body: { smartAccount } });
    await api.call("POST /api/v1/accounts/{smartAccount}/deposits", {
      key, path: { smartAccount }, headers: { "Idempotency-Key": `deposit-${i + 1}` }, body: { amount: "100.00", depositId: `deposit-${i + 1}` },
    });
    await api.call("POST /api/v1/agents/{agentId}/subscribers", { key, path: { agentId: SYMPHONY_AGENT }, body: { smartAccount } });
  }
  ctx.known.smartAccount = SUBSCRIBERS[0];
  await api.call("DELETE /api/v1/agents/{agentId}/subscribers/{smartAccount}", { key, path: { agentId: SYMPHONY_AGENT, smartAccount: LEAVING_SUBSCRIBER } });
  await api.call("GET /api/v1/agents/{agentId}/subscribers", { key, path: { agentId: SYMPHONY_AGENT } });
  await api.call("POST /api/v1/prices", { key, body: { prices: [{ symbol: "SOL", priceUsd: "150" }, { symbol: "ETH", priceUsd: "3000" }] } });

  const opened = await api.call("POST /agent/batch-open", {
    key, headers: { "Idempotency-Key": "first-trade" },
    body: {
      agentId: SYMPHONY_AGENT, symbol: "SOL", action: "LONG", weight: 100, leverage: 2,
      orderOptions: { triggerPrice: 0, stopLossPrice: 140, takeProfitPrice: 180, trailingStopPercentage: 10 },
    },
  });
  ctx.known.batchId = opened.batchId;
  await api.call("GET /api/v1/batches/{batchId}", { key, path: { batchId: opened.batchId } });
  const positions = await api.call("GET /api/v1/agent-positions/{agentId}", { key, path: { agentId: SYMPHONY_AGENT } });
  await api.call("GET /api/v1/agents/{agentId}/positions", { key, path: { agentId: SYMPHONY_AGENT }, query: { walletAddress: SUBSCRIBERS[0] } });
  await api.call("GET /api/v1/agents/{agentId}", { key, path: { agentId: SYMPHONY_AGENT } });
  await api.call("GET /api/v1/accounts/{smartAccount}", { key, path: { smartAccount: SUBSCRIBERS[0] } });
  await api.call("GET /api/v1/fees/{feeAddress}", { key, path: { feeAddress: FEE_ADDRESS } });

  // One position closed by hand, then batch-close: one closed by the batch, one skipped.
  await api.call("POST /api/v1/prices", { key, body: { prices: [{ symbol: "SOL", priceUsd: "156.5" }] }, example: false });
  const manual = positions.find((p) => p.walletAddress === SUBSCRIBERS[1]) ?? positions[0];
  if (!manual) throw new Error("batch-open opened no position");
  ctx.known.positionId = manual.id;
  await api.call("POST /api/v1/agent-positions/{agentId}/{positionId}/close", { key, path: { agentId: SYMPHONY_AGENT, positionId: manual.id }, body: { reason: "manual" } });
  await api.call("POST /agent/batch-close", { key, headers: { "Idempotency-Key": "close-first-trade" }, body: { agentId: SYMPHONY_AGENT, batchId: opened.batchId } });

  await api.call("POST /api/v1/agents/{agentId}/pause", { key, path: { agentId: SYMPHONY_AGENT } });
  await api.call("POST /api/v1/agents/{agentId}/resume", { key, path: { agentId: SYMPHONY_AGENT } });
}

/** Quotes an intent, checks the typed data names this agent's next nonce, signs it with ethers and submits it. */
async function signedIntent(api, wallet, kind, quoteQuery, fields) {
  const quote = await api.call(`GET /agents/{agentId}/${kind}/quote`, { path: { agentId: ALPHAGRID_AGENT }, query: quoteQuery });
  const { domain, types, message } = quote.typedData;
  const { EIP712Domain, ...signedTypes } = types; // ethers derives the domain type and refuses an explicit one
  const signature = await wallet.signTypedData(domain, signedTypes, message);
  return api.call(`POST /agents/{agentId}/${kind}`, {
    path: { agentId: ALPHAGRID_AGENT },
    body: { ...fields, deadline: message.deadline, nonce: message.nonce, signature },
  });
}

async function alphaGridStory(api, ctx) {
  const key = ctx.adminKey;
  await api.call("POST /agent/register", { key, body: { agentId: ALPHAGRID_AGENT, name: "AlphaGrid NVDA", agentType: "SWAP", signerAddress: EXAMPLE_SIGNER.address } });
  await api.call("POST /api/v1/vaults", { key, body: { ...VAULT, capitalUsdc: "100000" } });
  ctx.known.vaultId = VAULT.vaultId;
  await api.call("PUT /api/v1/vaults/{vaultId}/tokens/{symbol}", { key, path: { vaultId: VAULT.vaultId, symbol: NVDA.symbol }, body: { address: NVDA.address, decimals: NVDA.decimals } });
  await api.call("PUT /api/v1/vaults/{vaultId}/capital", { key, path: { vaultId: VAULT.vaultId }, body: { capitalUsdc: "250000" } });
  await api.call("PUT /api/v1/agents/{agentId}/track", { key, path: { agentId: ALPHAGRID_AGENT }, body: { track: "Funded" } });
  await api.call("PUT /api/v1/agents/{agentId}/vault", { key, path: { agentId: ALPHAGRID_AGENT }, body: { vaultId: VAULT.vaultId, allocationUsdc: "10000" } });
  await api.call("GET /vaults/{vaultId}/tokens", { path: { vaultId: VAULT.vaultId } });
  await api.call("POST /api/v1/prices", { key, body: { prices: [{ symbol: NVDA.symbol, priceUsd: "130" }] }, example: false });

  // The Funded track asks every ladder for a take profit as well as a stop loss.
  const exits = [{ triggerType: "TakeProfit", triggerBps: 1500, exitBps: 5000 }, { triggerType: "StopLoss", triggerBps: -500, exitBps: 10000 }];
  const open = { symbol: NVDA.symbol, usdcAmount: "100", minTokenOut: "0", maxSlippageBps: 100 };
  await signedIntent(api, EXAMPLE_SIGNER, "trade-intents", { ...open, exits: JSON.stringify(exits) }, { ...open, exits });
  const add = { symbol: NVDA.symbol, usdcAmount: "50", minTokenOut: "0", maxSlippageBps: 100 };
  await signedIntent(api, EXAMPLE_SIGNER, "add-intents", add, add);
  const reduce = { symbol: NVDA.symbol, tokenAmount: "0.5", minUsdcOut: "60", maxSlippageBps: 100 };
  await signedIntent(api, EXAMPLE_SIGNER, "reduce-intents", reduce, reduce);
  const ladder = [{ triggerType: "TakeProfit", triggerBps: 1000, exitBps: 5000 }, { triggerType: "StopLoss", triggerBps: -1000, exitBps: 10000 }];
  await signedIntent(api, EXAMPLE_SIGNER, "exit-ladder-intents", { symbol: NVDA.symbol, exits: JSON.stringify(ladder) }, { symbol: NVDA.symbol, exits: ladder });
  await api.call("GET /agents/{agentId}/positions", { path: { agentId: ALPHAGRID_AGENT } });
  await api.call("GET /api/v1/vaults/{vaultId}", { key, path: { vaultId: VAULT.vaultId } });

  // The current signer hands the agent to a new key: EIP-712 RotateSigner under the domain the quotes use.
  const agent = await api.call("GET /api/v1/agents/{agentId}", { key, path: { agentId: ALPHAGRID_AGENT }, example: false });
  const { typedData } = await api.call("GET /agents/{agentId}/trade-intents/quote", { path: { agentId: ALPHAGRID_AGENT }, query: { symbol: NVDA.symbol }, example: false });
  const deadline = String(Math.floor(Date.now() / 1000) + 600);
  const rotation = { agentId: BigInt("0x" + ALPHAGRID_AGENT.replace(/-/g, "")), newSigner: NEXT_SIGNER.address, deadline, nonce: String(agent.nonce) };
  const signature = await EXAMPLE_SIGNER.signTypedData(typedData.domain, {
    RotateSigner: [{ name: "agentId", type: "uint256" }, { name: "newSigner", type: "address" }, { name: "deadline", type: "uint256" }, { name: "nonce", type: "uint256" }],
  }, rotation);
  await api.call("PUT /api/v1/agents/{agentId}/signer", {
    path: { agentId: ALPHAGRID_AGENT }, body: { signerAddress: NEXT_SIGNER.address, deadline, nonce: String(agent.nonce), signature },
  });
}

async function pricesStory(api, ctx) {
  const key = ctx.adminKey;
  await api.call("POST /api/v1/prices", { key, body: { prices: [{ symbol: "BTC", priceUsd: "60000" }] }, example: false });
  // A jump beyond the guard's band is held, not published, until confirmed or accepted by the admin.
  await api.call("POST /api/v1/prices", { key, body: { prices: [{ symbol: "BTC", priceUsd: "90000" }] }, example: false });
  await api.call("GET /prices", { query: { symbols: "SOL,BTC" } });
  ctx.known.symbol = "BTC";
  await api.call("POST /api/v1/prices/{symbol}/accept-held", { key, path: { symbol: "BTC" } });
}

async function accessStory(api, ctx) {
  const key = ctx.adminKey;
  const issued = await api.call("POST /api/v1/api-keys", { key, body: { role: "operator", organization: "Symphony", expiresAt: "2030-01-01T00:00:00Z" } });
  await api.call("POST /api/v1/api-keys", { key, body: { role: "oracle", organization: "Symphony" }, example: false });
  await api.call("GET /api/v1/api-keys", { key });
  ctx.known.keyId = issued.keyId;
  await api.call("DELETE /api/v1/api-keys/{keyId}", { key, path: { keyId: issued.keyId } });
}

async function eventsStory(api, ctx) {
  const key = ctx.adminKey;
  await api.call("GET /api/v1/agents", { key });
  // The log already holds the stories' fills, exits and batch steps: the stream from the start shows the first three.
  await api.call("GET /api/v1/events", { key, query: { lastEventId: "0" }, stream: { events: 3 } });
  const hook = await api.call("POST /api/v1/webhooks", {
    key, body: { url: "https://hooks.example.com/agentdesk", events: ["position.exited", "batch.completed"], secret: "whsec_an-example-secret-of-32-chars" },
  });
  ctx.known.webhookId = hook.webhookId;
  await api.call("GET /api/v1/webhooks", { key });
  await api.call("GET /api/v1/webhooks/{webhookId}", { key, path: { webhookId: hook.webhookId } });
  await api.call("GET /api/v1/webhooks/{webhookId}/deliveries", { key, path: { webhookId: hook.webhookId } });
  await api.call("DELETE /api/v1/webhooks/{webhookId}", { key, path: { webhookId: hook.webhookId } });
}

async function historyStory(api, ctx) {
  const key = ctx.adminKey;
  // The Symphony story closed its positions (one by hand, the rest by batch-close): they are the history.
  const deadline = Date.now() + 15_000;
  let page;
  do {
    page = await api.call("GET /api/v1/historical-swaps", { key, query: { agentId: SYMPHONY_AGENT, limit: 2 }, example: true });
    if (page.trades.length === 0) await new Promise((r) => setTimeout(r, 200));
  } while (page.trades.length === 0 && Date.now() < deadline);
  const first = page.trades[0];
  if (!first) throw new Error("the Symphony story's closed trades never reached the history");
  ctx.known.historicalSwapId = first.historicalSwapId;
  await api.call("GET /api/v1/historical-swaps/{historicalSwapId}", { key, path: { historicalSwapId: first.historicalSwapId } });
  await api.call("GET /api/v1/agents/{agentId}/performance", { key, path: { agentId: SYMPHONY_AGENT } });
}

async function operationsStory(api) {
  await api.call("GET /health");
}

const STORIES = [
  ["symphony", symphonyStory],
  ["alphagrid", alphaGridStory],
  ["prices", pricesStory],
  ["access", accessStory],
  ["events", eventsStory],
  ["history", historyStory],
  ["operations", operationsStory],
];

// ───────────────────────────── the run ─────────────────────────────

const operationsOf = (document) => Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
  METHODS.filter((m) => item[m]).map((m) => ({ key: `${m.toUpperCase()} ${path}`, method: m, path, op: item[m] })));

const jsonMedia = (content) => content?.["application/json"] ? "application/json" : Object.keys(content ?? {}).find((m) => m.endsWith("json"));

/** Last resort for a GET nobody calls: every path parameter from what the stories know, no required query. */
async function callByDocument(api, ctx, { key, path, op }) {
  const parameters = op.parameters ?? [];
  const requiredQuery = parameters.filter((p) => p.required && p.in !== "path").map((p) => `${p.in} ${p.name}`);
  if (requiredQuery.length) return `it needs ${requiredQuery.join(", ")}`;
  const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
  const unknown = names.filter((n) => ctx.known[n] === undefined);
  if (unknown.length) return `no story provides ${unknown.map((n) => `{${n}}`).join(", ")}`;
  api.story = "document (GET with known path parameters)";
  try {
    await api.call(key, { key: ctx.adminKey, path: Object.fromEntries(names.map((n) => [n, ctx.known[n]])) });
    return undefined;
  } catch (error) {
    return `calling it as a GET with known parameters failed: ${error.message}`;
  }
}

/** The file's entry order: seed, status (only when not 200), request, response. */
function entryOf(previous, recorded, op) {
  const entry = {};
  if (previous?.seed === true) entry.seed = true;
  if (recorded.status !== 200) entry.status = recorded.status;
  const request = previous?.seed === true && previous.request !== undefined ? previous.request : recorded.request;
  if (op.requestBody && request !== undefined) entry.request = request;
  if (recorded.response !== undefined && recorded.response !== "") entry.response = recorded.response;
  return entry;
}

function sortKeys(keys) {
  const order = Object.fromEntries(METHODS.map((m, i) => [m.toUpperCase(), i]));
  const split = (k) => { const i = k.indexOf(" "); return [k.slice(0, i), k.slice(i + 1)]; };
  return keys.sort((a, b) => {
    const [ma, pa] = split(a), [mb, pb] = split(b);
    return pa < pb ? -1 : pa > pb ? 1 : (order[ma] ?? 9) - (order[mb] ?? 9);
  });
}

/** Problems of one entry against the document: each example must validate against the schema it illustrates. */
function validateEntry(validate, { key, method, path, op }, entry) {
  const problems = [];
  if (entry.request !== undefined) {
    const media = jsonMedia(op.requestBody?.content);
    if (!media) problems.push("a request example, but the operation documents no JSON request body");
    else for (const p of validate(["paths", path, method, "requestBody", "content", media, "schema"], entry.request))
      problems.push(`request example ${p}  (${pointer(["paths", path, method, "requestBody", "content", media, "schema"])})`);
  }
  if (entry.response !== undefined) {
    const status = String(entry.status ?? 200);
    const content = op.responses?.[status]?.content;
    const media = jsonMedia(content);
    // A text response (the event stream) has its example as text and no JSON schema to check it against.
    if (!media && content?.["text/event-stream"] && typeof entry.response === "string") return problems;
    if (!media || !content[media].schema) problems.push(`a ${status} response example, but the document has no JSON schema for ${status}`);
    else for (const p of validate(["paths", path, method, "responses", status, "content", media, "schema"], entry.response))
      problems.push(`${status} response example ${p}  (${pointer(["paths", path, method, "responses", status, "content", media, "schema"])})`);
  }
  return problems.map((p) => `${key}: ${p}`);
}

let gateway, work;
async function stop() {
  if (gateway) { await killTree(gateway.child); gateway = undefined; }
  if (work && !keep) rmSync(work, { recursive: true, force: true });
}
process.on("exit", () => killTreeSync(gateway?.child));
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, async () => { await stop(); process.exit(130); });
setTimeout(async () => { console.error(`[record] did not finish within ${TOTAL_TIMEOUT_MS / 1000} s`); await stop(); process.exit(1); }, TOTAL_TIMEOUT_MS).unref();

let exitCode = 0;
try {
  work = mkdtempSync(join(tmpdir(), "agentdesk-record-"));
  gateway = await startGateway({ dll, dir: work, log });
  const document = await (await fetch(`${gateway.baseUrl}/openapi/v1.json`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })).json();
  const operations = operationsOf(document);
  log(`document: ${operations.length} operations`);
  const api = new Recorder(gateway.baseUrl, document);
  const ctx = { adminKey: gateway.adminKey, known: {} };

  const failedStories = new Map();
  for (const [name, story] of STORIES) {
    api.story = name;
    const before = api.recorded.size;
    try {
      await story(api, ctx);
      log(`story ${name}: ${api.recorded.size - before} operations recorded`);
    } catch (error) {
      failedStories.set(name, error.message);
      console.error(`[record] story ${name} FAILED after ${api.recorded.size - before} operations: ${error.message}`);
    }
  }

  const why = new Map();
  for (const operation of operations) {
    if (api.recorded.has(operation.key)) continue;
    if (operation.method !== "get") { why.set(operation.key, "no story calls it"); continue; }
    const reason = await callByDocument(api, ctx, operation);
    if (reason) why.set(operation.key, `no story calls it, and ${reason}`);
    else log(`${operation.key}: recorded by calling it with the stories' ids (no story calls it)`);
  }

  const previous = existsSync(outFile) ? JSON.parse(readFileSync(outFile, "utf8")) : {};
  const validate = createSchemaValidator(document);
  const output = {};
  const invalid = [];
  for (const operation of operations) {
    const recorded = api.recorded.get(operation.key);
    if (!recorded) { if (previous[operation.key]) output[operation.key] = previous[operation.key]; continue; }
    const entry = entryOf(previous[operation.key], recorded, operation.op);
    invalid.push(...validateEntry(validate, operation, entry));
    output[operation.key] = entry;
  }
  const sorted = Object.fromEntries(sortKeys(Object.keys(output)).map((k) => [k, output[k]]));
  writeFileSync(outFile, JSON.stringify(sorted, null, 2) + "\n");

  const dropped = Object.keys(previous).filter((k) => !operations.some((o) => o.key === k));
  const missing = operations.filter((o) => !api.recorded.has(o.key));
  const seeds = Object.values(sorted).filter((e) => e.seed).length;
  log(`wrote ${relative(process.cwd(), outFile) || outFile}: ${operations.length - missing.length} of ${operations.length} operations recorded (${seeds} keep their seed request)`);
  for (const k of dropped) log(`dropped ${k}: no longer in the document`);
  for (const k of api.notInDocument) console.error(`[record] a story calls ${k}, which the document does not have: fix the call in ${HERE}`);
  if (failedStories.size) for (const [name, message] of failedStories) console.error(`[record] story ${name} failed: ${message}`);
  const failedNote = failedStories.size ? `; the stories that failed (${[...failedStories.keys()].join(", ")}) may be what calls it` : "";
  for (const o of missing) {
    const kept = previous[o.key] ? " (its previous entry is kept)" : "";
    const credential = o.op.security?.length === 0 ? "" : "key: ctx.adminKey, ";
    console.error(`[record] MISSING ${o.key} (operationId ${o.op.operationId ?? "none"}): ${why.get(o.key)}${failedNote}${kept}.`
      + `\n         Add a call in ${HERE}: in the story that creates what it needs (${STORIES.map(([n]) => n).join(", ")}; see STORIES),`
      + `\n         e.g. await api.call("${o.key}", { ${credential}${o.path.includes("{") ? "path: { … }, " : ""}${o.op.requestBody ? "body: { … }, " : ""}});`);
  }
  for (const problem of invalid) console.error(`[record] INVALID ${problem}`);
  if (missing.length || invalid.length || failedStories.size || api.notInDocument.size) exitCode = 1;
  log(exitCode === 0
    ? "every operation has its examples; rebuild the gateway to serve them (the file is an embedded resource)"
    : `incomplete: ${missing.length} missing, ${invalid.length} invalid, ${failedStories.size} stories failed`);
} catch (error) {
  console.error(`[record] ${error instanceof Error ? error.stack : error}`);
  exitCode = 1;
} finally {
  await stop();
  if (keep && work) log(`kept ${work}`);
}
process.exit(exitCode);
