#!/usr/bin/env node
// Lints an OpenAPI document with Redocly CLI (the pinned @redocly/cli in ./node_modules), fully offline.
//
//   node lint.mjs <openapi.json> [--strict] [--json <report.json>]
//
// Ruleset: redocly.yaml beside this file (Redocly's built-in `recommended`). Every problem is printed as
//   <severity> <rule> <JSON pointer> (line:col) <message>
// and the run exits 1 when there is any error (with --strict: any error or warning), 0 otherwise, 2 when the
// linter itself could not run. --json writes Redocly's JSON report (with pointers) to a file as well.
//
// Offline: no remote ruleset or plugin is configured, the document is self-contained, and the environment
// below turns off Redocly's telemetry (REDOCLY_TELEMETRY=off, plus `telemetry: off` in redocly.yaml) and its
// update check / announcements (REDOCLY_SUPPRESS_NOTIFICATIONS, REDOCLY_SUPPRESS_UPDATE_NOTICE), which are the
// only network calls `redocly lint` makes.
import { spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const LINT_TIMEOUT_MS = 120_000;

export const offlineRedoclyEnv = {
  REDOCLY_TELEMETRY: "off",
  REDOCLY_SUPPRESS_NOTIFICATIONS: "true",
  REDOCLY_SUPPRESS_UPDATE_NOTICE: "true",
  NO_COLOR: "1",
  FORCE_COLOR: "0",
};

/** Runs `redocly lint` on `file` and resolves with { totals, problems, version, exitCode, stderr }. */
export function runRedocly(file, { timeoutMs = LINT_TIMEOUT_MS } = {}) {
  const cli = join(here, "node_modules", "@redocly", "cli", "bin", "cli.js");
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm ci\` in ${here}`);
  const args = [cli, "lint", resolve(file), "--config", join(here, "redocly.yaml"),
    "--format", "json", "--max-problems", "1000000", "--lint-config", "error"];
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, args, {
      cwd: here,
      env: { ...process.env, ...offlineRedoclyEnv },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "", stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      fail(new Error(`redocly lint did not finish within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    child.on("error", (error) => { clearTimeout(timer); fail(error); });
    child.on("close", (exitCode) => {
      clearTimeout(timer);
      let report;
      try {
        report = JSON.parse(stdout);
      } catch {
        fail(new Error(`redocly lint (exit ${exitCode}) printed no JSON report.\nstdout:\n${stdout}\nstderr:\n${stderr}`));
        return;
      }
      done({ ...report, exitCode, stderr });
    });
  });
}

/** One line per problem: severity, rule, JSON pointer, line:col, message (and every further location). */
export function formatProblems(problems) {
  const order = { error: 0, warn: 1, warning: 1 };
  const sorted = [...problems].sort((a, b) =>
    (order[a.severity] ?? 2) - (order[b.severity] ?? 2) || a.ruleId.localeCompare(b.ruleId)
      || (a.location?.[0]?.pointer ?? "").localeCompare(b.location?.[0]?.pointer ?? ""));
  return sorted.map((p) => {
    const [first, ...rest] = p.location ?? [];
    const where = (l) => `${l.pointer}${l.reportOnKey ? " (key)" : ""}${l.start ? ` (line ${l.start.line}:${l.start.col})` : ""}`;
    const severity = p.severity === "warn" ? "warning" : p.severity;
    let line = `${severity.padEnd(7)} ${p.ruleId.padEnd(32)} ${first ? where(first) : "(no location)"}\n        ${p.message}`;
    for (const l of rest) line += `\n        also at ${where(l)}`;
    return line;
  }).join("\n");
}

/**
 * A check Redocly has no rule for. Operations without the examples a reader needs: a request example when the operation takes a body, and an example on
 * a 2xx response that has content (a 2xx without content, such as 204, has nothing to show).
 */
export function missingExamples(document) {
  const hasExample = (media) => media?.example !== undefined || Object.keys(media?.examples ?? {}).length > 0;
  const missing = [];
  let operations = 0;
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const method of ["get", "post", "put", "patch", "delete"]) {
      const op = item[method];
      if (!op) continue;
      operations++;
      const name = `${method.toUpperCase()} ${path}`;
      if (op.requestBody && !Object.values(op.requestBody.content ?? {}).some(hasExample))
        missing.push(`${name}: no request example (#/paths/${path.replace(/~/g, "~0").replace(/\//g, "~1")}/${method}/requestBody)`);
      const success = Object.entries(op.responses ?? {}).filter(([status]) => status.startsWith("2"));
      const withContent = success.filter(([, response]) => Object.keys(response.content ?? {}).length > 0);
      if (success.length === 0) missing.push(`${name}: no 2xx response is documented`);
      else if (withContent.length > 0 && !withContent.some(([, response]) => Object.values(response.content).some(hasExample)))
        missing.push(`${name}: no example on its ${withContent.map(([status]) => status).join(" or ")} response`);
    }
  }
  return { operations, missing };
}

async function main() {
  const argv = process.argv.slice(2);
  const strict = argv.includes("--strict");
  const jsonAt = argv.indexOf("--json");
  const jsonOut = jsonAt >= 0 ? argv[jsonAt + 1] : undefined;
  const file = argv.find((a, i) => !a.startsWith("--") && (jsonAt < 0 || i !== jsonAt + 1));
  if (!file) {
    console.error("usage: node lint.mjs <openapi.json> [--strict] [--json <report.json>]");
    process.exit(2);
  }
  if (!existsSync(file)) {
    console.error(`lint: ${file} does not exist`);
    process.exit(2);
  }
  let report;
  try {
    report = await runRedocly(file);
  } catch (error) {
    console.error(`lint: ${error.message}`);
    process.exit(2);
  }
  if (jsonOut) writeFileSync(jsonOut, JSON.stringify(report, null, 2));
  const errors = report.problems.filter((p) => p.severity === "error");
  const warnings = report.problems.filter((p) => p.severity !== "error");
  console.log(`Redocly CLI ${report.version}, ruleset: recommended (redocly.yaml), document: ${file}`);
  if (report.problems.length) console.log(formatProblems(report.problems));
  const byRule = {};
  for (const p of report.problems) byRule[`${p.severity === "warn" ? "warning" : p.severity} ${p.ruleId}`] = (byRule[`${p.severity === "warn" ? "warning" : p.severity} ${p.ruleId}`] ?? 0) + 1;
  for (const [rule, count] of Object.entries(byRule)) console.log(`  ${String(count).padStart(4)} × ${rule}`);
  console.log(`lint: ${errors.length} errors, ${warnings.length} warnings${strict ? " (strict: warnings fail too)" : ""}`);
  const failed = errors.length > 0 || (strict && warnings.length > 0);
  process.exit(failed ? 1 : 0);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
