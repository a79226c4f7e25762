#!/usr/bin/env node
// The API contract check, end to end, every step bounded by a timeout:
//   1. start the built gateway (dotnet <dll>, never a build) in a fresh temporary folder and wait for /health/ready
//   2. fetch /openapi/v1.json
//   3. lint it with Redocly CLI (lint.mjs: recommended ruleset, offline; an example that does not match its schema is an error)
//   3b. check that every operation has its examples (a request example when it takes a body, a 2xx response example)
//   4. generate the client's types with openapi-typescript into the temporary folder
//   5. type-check symphony-story.mjs against them with tsc (every call the story makes must be in the document)
//   6. run the Symphony story through openapi-fetch, checking every request and response against the document
//   7. print a summary; stop the gateway's whole process tree whatever happened, and remove the folder
//
//   node run.mjs [--dll <AgentDesk.Gateway.dll>] [--url <baseUrl> --key <adminKey>] [--keep]
//
// --url/--key use a gateway that is already running instead of starting one. --keep keeps the temporary folder
// (gateway.log, data/, openapi.json, lint.json, schema.d.ts, conformance.json). Exit code 0 only if every step passed.
// Needs `npm ci` in this folder first (nothing is downloaded at run time).
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultDll, killTree, killTreeSync, startGateway } from "./gateway.mjs";
import { formatProblems, missingExamples, runRedocly } from "./lint.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const TOTAL_TIMEOUT_MS = 15 * 60_000;
const TIMEOUTS = { fetch: 30_000, lint: 150_000, generate: 120_000, typecheck: 240_000, story: 180_000 };

const argv = process.argv.slice(2);
const option = (name) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined; };
const keep = argv.includes("--keep");
const dll = option("--dll") ?? process.env.AGENTDESK_GATEWAY_DLL ?? defaultDll;
const givenUrl = option("--url"), givenKey = option("--key");

for (const bin of ["@redocly/cli/bin/cli.js", "openapi-typescript/bin/cli.js", "typescript/bin/tsc", "openapi-fetch/package.json"]) {
  if (!existsSync(join(here, "node_modules", bin))) {
    console.error(`contract: node_modules/${bin} is missing; run \`npm ci\` in ${here} first`);
    process.exit(2);
  }
}

const work = mkdtempSync(join(tmpdir(), "agentdesk-contract-"));
const log = (message) => console.log(`[contract] ${message}`);
/** @type {Array<{ step: string, ok: boolean, seconds: number, note: string }>} */
const summary = [];
let gateway;

let stepChild; // the step's process (its own process group), stopped with the gateway on any way out

async function cleanup() {
  if (stepChild) { await killTree(stepChild, 1_000); stepChild = undefined; }
  if (gateway) { await killTree(gateway.child); log(`gateway stopped (process group ${gateway.child.pid})`); gateway = undefined; }
  if (!keep) rmSync(work, { recursive: true, force: true });
  else log(`kept ${work}`);
}
process.on("exit", () => { killTreeSync(stepChild); killTreeSync(gateway?.child); });
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, async () => { log(`${signal}: stopping`); await cleanup(); process.exit(130); });
}
const watchdog = setTimeout(async () => {
  console.error(`[contract] the whole run took longer than ${TOTAL_TIMEOUT_MS / 60_000} min: stopping`);
  await cleanup();
  process.exit(1);
}, TOTAL_TIMEOUT_MS);
watchdog.unref();

/** Runs a child process in its own process group, echoing and capturing its output; kills the group on timeout. */
function run(command, args, { cwd = here, timeoutMs, env = {} }) {
  return new Promise((done) => {
    const child = spawn(command, args, { cwd, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    stepChild = child;
    let output = "", timedOut = false;
    const echo = (chunk) => { output += chunk; process.stdout.write(chunk); };
    child.stdout.on("data", echo);
    child.stderr.on("data", echo);
    const timer = setTimeout(() => { timedOut = true; killTreeSync(child); }, timeoutMs);
    child.on("error", (error) => { clearTimeout(timer); done({ code: -1, output: output + String(error), timedOut }); });
    child.on("close", (code) => {
      clearTimeout(timer);
      if (stepChild === child) stepChild = undefined;
      done({ code: timedOut ? -1 : code, output, timedOut });
    });
  });
}

async function step(name, body) {
  log(`── ${name}`);
  const started = Date.now();
  let ok = false, note = "";
  try {
    ({ ok, note } = await body());
  } catch (error) {
    note = error instanceof Error ? error.message : String(error);
  }
  const seconds = (Date.now() - started) / 1000;
  summary.push({ step: name, ok, seconds, note });
  log(`${ok ? "ok  " : "FAIL"} ${name} (${seconds.toFixed(1)} s)${note ? `: ${note}` : ""}`);
  return ok;
}

let baseUrl = givenUrl, adminKey = givenKey;
const documentFile = join(work, "openapi.json");
const schemaFile = join(work, "schema.d.ts");
let generated = false;
let afterStory;

/** Names the API call behind each tsc error in symphony-story.mjs (the nearest `api.METHOD("/path"` above it). */
function explainTypeErrors(output) {
  const story = readFileSync(join(here, "symphony-story.mjs"), "utf8").split("\n");
  const lines = ["[contract] type errors by API call:"];
  for (const match of output.matchAll(/symphony-story\.mjs\((\d+),(\d+)\): error (TS\d+): ([^\n]*)/g)) {
    const line = Number(match[1]);
    let call = "(no API call found above)";
    for (let i = line - 1; i >= 0 && i >= line - 15; i--) {
      const found = story[i].match(/api\.(GET|POST|PUT|DELETE|PATCH)\("([^"]+)"/);
      if (found) { call = `${found[1]} ${found[2]}`; break; }
    }
    const first = match[4].length > 160 ? match[4].slice(0, 157) + "..." : match[4];
    lines.push(`  symphony-story.mjs:${line}  ${call}  ${match[3]} ${first}`);
  }
  return lines.join("\n");
}

try {
  if (!baseUrl) {
    await step("start the gateway", async () => {
      gateway = await startGateway({ dll, dir: work, log });
      baseUrl = gateway.baseUrl; adminKey = gateway.adminKey;
      return { ok: true, note: `${baseUrl} (dll ${dll})` };
    });
  }
  const haveGateway = Boolean(baseUrl && adminKey);

  const haveDocument = haveGateway && await step("fetch /openapi/v1.json", async () => {
    const response = await fetch(`${baseUrl}/openapi/v1.json`, { signal: AbortSignal.timeout(TIMEOUTS.fetch) });
    if (response.status !== 200) return { ok: false, note: `HTTP ${response.status}` };
    const text = await response.text();
    const document = JSON.parse(text);
    writeFileSync(documentFile, text);
    return { ok: true, note: `OpenAPI ${document.openapi}, ${Object.keys(document.paths ?? {}).length} paths, ${Object.keys(document.components?.schemas ?? {}).length} schemas, ${text.length} bytes` };
  });

  if (haveDocument) {
    await step("lint (Redocly CLI, recommended)", async () => {
      const report = await runRedocly(documentFile, { timeoutMs: TIMEOUTS.lint });
      writeFileSync(join(work, "lint.json"), JSON.stringify(report, null, 2));
      if (report.problems.length) console.log(formatProblems(report.problems));
      const errors = report.problems.filter((p) => p.severity === "error").length;
      const warnings = report.problems.length - errors;
      const rules = [...new Set(report.problems.map((p) => `${p.ruleId}${p.severity === "error" ? "" : " (warn)"}`))].join(", ");
      return { ok: errors === 0, note: `${errors} errors, ${warnings} warnings${rules ? ` — ${rules}` : ""}` };
    });

    await step("every operation has its examples (request body, 2xx response)", async () => {
      const { operations, missing } = missingExamples(JSON.parse(readFileSync(documentFile, "utf8")));
      for (const m of missing) console.log(`  missing example: ${m}`);
      if (missing.length) console.log("  (record them with `node record-examples.mjs` in tests/contract, then rebuild the gateway: the examples file is an embedded resource)");
      return {
        ok: missing.length === 0,
        note: missing.length ? `${missing.length} examples missing in ${operations} operations` : `${operations} operations, each with a request example when it takes a body and a 2xx response example`,
      };
    });

    generated = await step("generate the client (openapi-typescript → schema.d.ts, for openapi-fetch)", async () => {
      // Run from the temporary folder so that openapi-typescript does not pick up this folder's redocly.yaml (its
      // own checks would then refuse to generate from a document the linter flags): generation is judged apart.
      const { code, timedOut } = await run(process.execPath,
        [join(here, "node_modules/openapi-typescript/bin/cli.js"), documentFile, "-o", schemaFile],
        { cwd: work, timeoutMs: TIMEOUTS.generate, env: { REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_NOTIFICATIONS: "true", NO_COLOR: "1" } });
      if (timedOut) return { ok: false, note: `timed out after ${TIMEOUTS.generate / 1000} s` };
      if (code !== 0 || !existsSync(schemaFile)) return { ok: false, note: `openapi-typescript exited ${code}` };
      const lines = readFileSync(schemaFile, "utf8").split("\n").length;
      return { ok: true, note: `${schemaFile} (${lines} lines)` };
    });
  }

  if (generated) {
    await step("type-check symphony-story.mjs against the generated client (tsc)", async () => {
      const tsconfig = join(work, "tsconfig.json");
      writeFileSync(tsconfig, JSON.stringify({
        compilerOptions: {
          allowJs: true, checkJs: false, noEmit: true, strict: true,
          module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", lib: ["ES2023", "DOM"],
          types: ["node"], typeRoots: [join(here, "node_modules/@types")], skipLibCheck: true,
          paths: { "agentdesk-api": ["./schema.d.ts"] },
        },
        files: [join(here, "symphony-story.mjs")],
      }, null, 2));
      const { code, output, timedOut } = await run(process.execPath,
        [join(here, "node_modules/typescript/bin/tsc"), "-p", tsconfig, "--pretty", "false"], { cwd: work, timeoutMs: TIMEOUTS.typecheck });
      if (timedOut) return { ok: false, note: `timed out after ${TIMEOUTS.typecheck / 1000} s` };
      const errors = (output.match(/error TS\d+/g) ?? []).length;
      if (errors) console.log(explainTypeErrors(output));
      return { ok: code === 0, note: code === 0 ? "every call, body and field the story uses is typed by the document" : `${errors} type errors (each is a call the document does not describe as the server accepts it)` };
    });
  }

  if (haveGateway) {
    await step("Symphony story through the generated client", async () => {
      const reportFile = join(work, "conformance.json");
      const args = [join(here, "symphony-story.mjs"), baseUrl, adminKey, "--report", reportFile];
      if (haveDocument) args.push("--openapi", documentFile);
      const { code, timedOut } = await run(process.execPath, args, { timeoutMs: TIMEOUTS.story });
      if (timedOut) return { ok: false, note: `timed out after ${TIMEOUTS.story / 1000} s` };
      const report = existsSync(reportFile) ? JSON.parse(readFileSync(reportFile, "utf8")) : undefined;
      const mismatches = report ? `; ${report.violations.length} request/response mismatches with the document` : "";
      if (code === 0) return { ok: true, note: `passed${mismatches}` };
      if (code === 3) {
        afterStory = { step: "requests and responses match the document", ok: false, seconds: 0, note: `${report?.violations.length} mismatches (listed above)` };
        return { ok: true, note: `passed (behaviour)${mismatches}` };
      }
      return { ok: false, note: `failed (exit ${code})${mismatches}` };
    });
    if (afterStory) summary.push(afterStory);
  }
} catch (error) {
  summary.push({ step: "run.mjs", ok: false, seconds: 0, note: error instanceof Error ? error.message : String(error) });
} finally {
  await cleanup();
}

console.log("\n[contract] summary");
for (const s of summary) console.log(`  ${s.ok ? "PASS" : "FAIL"}  ${s.step}${s.seconds ? ` (${s.seconds.toFixed(1)} s)` : ""}${s.note ? `\n        ${s.note}` : ""}`);
const passed = summary.filter((s) => s.ok).length, failed = summary.length - passed;
console.log(`contract: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && summary.length > 0 ? 0 : 1);
