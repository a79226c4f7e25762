#!/usr/bin/env node
// @ts-check
// The Symphony story (README "Quick start"), driven only through the client generated from /openapi/v1.json:
// openapi-fetch typed by the `paths` that openapi-typescript generates. run.mjs generates those types into a
// temporary folder, maps the module name "agentdesk-api" to them and type-checks this file with tsc before
// running it, so every path, parameter, body and response field used below must be in the document.
//
//   node symphony-story.mjs <baseUrl> <adminKey> [--openapi <openapi.json>] [--report <conformance.json>]
//
// Exit codes: 0 the story passed and every request/response matched the document; 1 the story failed (the
// message says which step and why); 3 the story passed but what went over the wire does not match the
// document (listed). Without --openapi the document is read from <baseUrl>/openapi/v1.json.
//
// The story: register a PERPETUAL agent with a flat fee; two accounts subscribe, one with 100 USDC, one with
// 4 USDC; SOL at 150; batch-open LONG 2x with a stop at 140 (with an Idempotency-Key, then replayed); the
// poor subscriber fails with below_min_trade_size and the other opens; the position is listed; SOL at 139
// closes it by itself; batch-close of the open batch skips it.
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import createClient from "openapi-fetch";
import { createConformance, formatConformance } from "./conformance.mjs";

/** @typedef {import("agentdesk-api").paths} Paths */

const REQUEST_TIMEOUT_MS = 15_000;
const STORY_TIMEOUT_MS = 120_000;

const args = process.argv.slice(2);
const option = (/** @type {string} */ name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const positional = args.filter((a, i) => !a.startsWith("--") && !["--openapi", "--report"].includes(args[i - 1]));
const [baseUrl, adminKey] = positional;
if (!baseUrl || !adminKey) {
  console.error("usage: node symphony-story.mjs <baseUrl> <adminKey> [--openapi <openapi.json>] [--report <conformance.json>]");
  process.exit(2);
}
setTimeout(() => { console.error(`story: FAILED — did not finish within ${STORY_TIMEOUT_MS / 1000} s`); process.exit(1); }, STORY_TIMEOUT_MS).unref();

const documentFile = option("--openapi");
const document = documentFile
  ? JSON.parse(readFileSync(documentFile, "utf8"))
  : await (await fetch(new URL("/openapi/v1.json", baseUrl), { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })).json();
const conformance = createConformance(document);

/** @type {import("openapi-fetch").Client<Paths, "application/json">} */
const api = createClient({
  baseUrl: baseUrl.replace(/\/$/, ""),
  headers: { "x-api-key": adminKey },
  // Every call is bounded.
  fetch: (request) => fetch(new Request(request, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })),
});
api.use(conformance.middleware);

let step = "start";
const log = (/** @type {string} */ message) => console.log(`  ✓ ${message}`);

/**
 * The data of a successful call; otherwise fails the step with the status and the problem's code.
 * @template T
 * @param {{ data?: T, error?: unknown, response: Response }} result
 * @returns {NonNullable<T>}
 */
function ok(result) {
  if (result.error !== undefined || !result.response.ok || result.data === undefined || result.data === null) {
    throw new assert.AssertionError({
      message: `${step}: HTTP ${result.response.status} ${JSON.stringify(result.error ?? result.data)}`,
    });
  }
  return /** @type {NonNullable<T>} */ (result.data);
}

const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));
const newAddress = () => "0x" + randomBytes(20).toString("hex");

async function story() {
  const agentId = randomUUID();
  const feeAddress = "0x56d0573c786d3000000000000000000000000001";
  const rich = newAddress();
  const poor = newAddress();

  step = "register the agent";
  const registered = ok(await api.POST("/agent/register", {
    body: {
      agentId,
      name: "Momentum (contract test)",
      agentType: "PERPETUAL",
      agentFees: { owner_flat: { fee: 0.1, feeAddress, type: "FLAT" } },
    },
  }));
  assert.equal(registered.status, "success", step);
  assert.equal(registered.agentId, agentId, step);
  assert.equal(registered.agentType, "PERPETUAL", step);
  assert.equal(registered.feeData.length, 1, `${step}: one fee`);
  log(`${step}: ${agentId}`);

  let subscribers = 0;
  for (const [account, amount] of [[rich, "100.00"], [poor, "4.00"]]) {
    step = `create account ${account}`;
    const created = ok(await api.POST("/api/v1/accounts", { body: { smartAccount: account } }));
    assert.equal(created.smartAccount.toLowerCase(), account, step);
    assert.equal(created.freeUsdc, 0, `${step}: starts empty`);

    step = `deposit ${amount} to ${account}`;
    const deposited = ok(await api.POST("/api/v1/accounts/{smartAccount}/deposits", {
      params: { path: { smartAccount: account } },
      body: { amount },
    }));
    assert.equal(deposited.freeUsdc, Number(amount), step);
    assert.equal(deposited.depositedUsdc, Number(amount), step);

    step = `subscribe ${account}`;
    const subscription = ok(await api.POST("/api/v1/agents/{agentId}/subscribers", {
      params: { path: { agentId } },
      body: { smartAccount: account },
    }));
    assert.equal(subscription.subscribed, true, step);
    assert.equal(subscription.subscriberCount, ++subscribers, `${step}: subscriber count`);
    log(`${step} with ${amount} USDC`);
  }

  step = "list subscribers";
  const listed = ok(await api.GET("/api/v1/agents/{agentId}/subscribers", { params: { path: { agentId } } }));
  assert.equal(listed.subscriberCount, 2, step);
  assert.deepEqual([...listed.subscribers].map((a) => a.toLowerCase()).sort(), [rich, poor].sort(), step);
  log(step);

  step = "push SOL 150";
  const pushed = ok(await api.POST("/api/v1/prices", {
    body: { prices: [{ symbol: "SOL", priceUsd: "150" }, { symbol: "ETH", priceUsd: "3000" }] },
  }));
  assert.equal(pushed.prices.length, 2, step);
  assert.ok(pushed.prices.every((p) => p.decision === "accepted"), `${step}: ${JSON.stringify(pushed.prices)}`);
  log(step);

  step = "batch-open LONG SOL 2x, stop 140";
  const idempotencyKey = `contract-${agentId}`;
  const openBody = {
    agentId,
    symbol: "SOL",
    action: "LONG",
    weight: 100,
    leverage: 2,
    orderOptions: { triggerPrice: 0, stopLossPrice: 140, takeProfitPrice: 0 },
  };
  const openResult = await api.POST("/agent/batch-open", {
    params: { header: { "Idempotency-Key": idempotencyKey } },
    body: openBody,
  });
  assert.equal(openResult.response.status, 200, `${step}: a two-subscriber batch answers at once (200), got ${openResult.response.status}`);
  const opened = /** @type {import("agentdesk-api").components["schemas"]["BatchOpenResponse"]} */ (ok(openResult));
  assert.equal(opened.successful, 1, `${step}: successful`);
  assert.equal(opened.failed, 1, `${step}: failed`);
  const byAccount = new Map(opened.results.map((r) => [r.smartAccount.toLowerCase(), r.result]));
  const poorResult = byAccount.get(poor);
  const richResult = byAccount.get(rich);
  assert.ok(poorResult && richResult, `${step}: a result for each subscriber: ${JSON.stringify(opened.results)}`);
  assert.equal(poorResult.success, false, `${step}: the 4 USDC subscriber fails`);
  assert.equal(poorResult.code, "below_min_trade_size", `${step}: the 4 USDC subscriber's code`);
  assert.equal(richResult.success, true, `${step}: the 100 USDC subscriber trades: ${JSON.stringify(richResult)}`);
  assert.ok(richResult.positionId, `${step}: positionId`);
  log(`${step}: batch ${opened.batchId}, ${richResult.positionId} opened, 4 USDC subscriber refused with below_min_trade_size`);

  step = "batch-open replayed with the same Idempotency-Key";
  const replayResult = await api.POST("/agent/batch-open", {
    params: { header: { "Idempotency-Key": idempotencyKey } },
    body: openBody,
  });
  const replayed = /** @type {import("agentdesk-api").components["schemas"]["BatchOpenResponse"]} */ (ok(replayResult));
  assert.equal(replayed.batchId, opened.batchId, `${step}: the first result comes back`);
  log(step);

  step = "the open batch's record";
  const batch = ok(await api.GET("/api/v1/batches/{batchId}", { params: { path: { batchId: opened.batchId } } }));
  assert.equal(batch.status, "Completed", step);
  assert.equal(batch.kind, "Open", step);
  assert.equal(batch.successful, 1, step);
  assert.equal(batch.failed, 1, step);
  const poorStep = batch.results.find((r) => r.account.toLowerCase() === poor);
  assert.equal(poorStep?.problem?.code, "below_min_trade_size", `${step}: the poor subscriber's problem`);
  log(step);

  step = "list the agent's positions";
  const positions = ok(await api.GET("/api/v1/agent-positions/{agentId}", { params: { path: { agentId } } }));
  assert.equal(positions.length, 1, `${step}: one open position: ${JSON.stringify(positions)}`);
  const [position] = positions;
  assert.equal(position.id, richResult.positionId, step);
  assert.equal(position.walletAddress.toLowerCase(), rich, step);
  assert.equal(position.tokenSymbol, "SOL", step);
  assert.equal(position.side, "LONG", step);
  assert.equal(position.leverage, 2, step);
  assert.equal(position.status, "OPEN", step);
  assert.equal(position.exitPlan.stopLossPrice, 140, step);
  assert.ok(position.purchase.priceUsd >= 150, `${step}: bought at or above 150 (paper slippage)`);
  const poorPositions = ok(await api.GET("/api/v1/agent-positions/{agentId}", {
    params: { path: { agentId }, query: { walletAddress: poor } },
  }));
  assert.equal(poorPositions.length, 0, `${step}: none for the poor subscriber`);
  log(`${step}: ${position.id} SOL LONG 2x, stop ${position.exitPlan.stopLossPrice}`);

  step = "push SOL 139, below the stop";
  ok(await api.POST("/api/v1/prices", { body: { prices: [{ symbol: "SOL", priceUsd: "139" }] } }));
  let open = positions;
  for (const started = Date.now(); open.length > 0 && Date.now() - started < 10_000; await sleep(200)) {
    open = ok(await api.GET("/api/v1/agent-positions/{agentId}", { params: { path: { agentId } } }));
  }
  assert.equal(open.length, 0, `${step}: the stop closes the position within 10 s: ${JSON.stringify(open)}`);
  const account = ok(await api.GET("/api/v1/accounts/{smartAccount}", { params: { path: { smartAccount: rich } } }));
  assert.equal(account.openPositionKeys.length, 0, `${step}: no open position left on the account`);
  assert.equal(account.lockedUsdc, 0, `${step}: nothing locked`);
  assert.ok(account.realizedPnlUsdc < 0, `${step}: a realised loss, got ${account.realizedPnlUsdc}`);
  assert.ok(account.freeUsdc < 100 && account.freeUsdc > 0, `${step}: collateral back minus the loss, got ${account.freeUsdc}`);
  log(`${step}: closed by the stop, realised ${account.realizedPnlUsdc} USDC`);

  step = "batch-close the open batch";
  const closeResult = await api.POST("/agent/batch-close", { body: { agentId, batchId: opened.batchId } });
  assert.equal(closeResult.response.status, 200, `${step}: answers at once (200), got ${closeResult.response.status}`);
  const closed = /** @type {import("agentdesk-api").components["schemas"]["BatchCloseResponse"]} */ (ok(closeResult));
  assert.equal(closed.successful, 0, `${step}: successful`);
  assert.equal(closed.failed, 0, `${step}: failed`);
  assert.equal(closed.skipped, 1, `${step}: the stopped position is skipped`);
  const skipped = closed.results.find((r) => r.smartAccount.toLowerCase() === rich);
  assert.equal(skipped?.result.skipped, true, `${step}: ${JSON.stringify(closed.results)}`);
  assert.notEqual(closed.batchId, opened.batchId, `${step}: the close has its own batch id`);
  log(`${step}: skipped ${closed.skipped}`);
}

let exitCode = 0;
try {
  console.log(`Symphony story against ${baseUrl}`);
  await story();
  console.log("story: passed");
} catch (error) {
  exitCode = 1;
  const message = error instanceof Error ? error.message : String(error);
  console.error(`story: FAILED at "${step}": ${message}`);
}
const report = conformance.report();
console.log(formatConformance(report));
const reportFile = option("--report");
if (reportFile) writeFileSync(reportFile, JSON.stringify(report, null, 2));
if (exitCode === 0 && report.violations.length > 0) exitCode = 3;
process.exit(exitCode);
