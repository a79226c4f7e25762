#!/usr/bin/env node
// Runs README.md's "Quick start" as written and fails if any command fails or any response shows an error.
//
//   node tests/readme/run-quickstart.mjs [README.md | tests/readme/PROPOSED_QUICKSTART.md]
//        [--dll <AgentDesk.Gateway.dll>] [--keep-going] [--readme-ports] [--keep] [--timeout <seconds>]
//
// What it does:
//   - takes the section whose heading starts with "Quick start" (down to the next heading of the same or a higher
//     level, so its "Symphony" and "AlphaGrid" subsections are included) and joins its ```bash blocks, in order,
//     into one bash script;
//   - runs that script with bash in a fresh temporary folder, where the gateway keeps its ./data as it would in a
//     checkout. The README starts the gateway with `dotnet run --project src/AgentDesk.Gateway &`; this test runs
//     the already-built dll instead, in the same way (same place in the script, same arguments, in the
//     background, same working folder, with the environment variables of the gateway's launch profile, which
//     `dotnet run` applies): `dotnet "$AGENTDESK_GATEWAY_DLL" &`. It never builds. The repository's
//     examples/ folder is copied in (without node_modules) so that paths the quick start uses from the
//     repository root resolve; NODE_PATH points at tests/interop/node_modules so that a `require("ethers")` the
//     README runs finds ethers 6 without a global install.
//   - unless --readme-ports: the gateway gets a free HTTP port instead of 5080 (every "localhost:5080" and
//     "127.0.0.1:5080" in the script is rewritten to it) and free silo ports instead of 11111/30000, so the test
//     cannot collide with another gateway on this machine. With --readme-ports it uses the README's ports and
//     first checks that they are free;
//   - `curl` is wrapped so that an HTTP error status fails the command (--fail-with-body: the body is still
//     printed) and no call hangs (--max-time); the script runs with `set -eo pipefail` and stops at the first
//     failing command (--keep-going: runs everything and lists every failing command);
//   - afterwards every response printed is scanned for errors that came with a 2xx status: problem details,
//     "success": false, "failed": N > 0, a non-null "error";
//   - the whole script is bounded (--timeout, default 600 s) and its whole process group, gateway included, is
//     killed at the end whatever happens.
// Exit code 0 when the quick start ran cleanly; 1 otherwise; 2 for a usage problem.
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, relative, resolve } from "node:path";
import { createServer } from "node:net";
import { defaultDll, freePort, killTree, killTreeSync, repoRoot, waitForDll } from "../contract/gateway.mjs";

const argv = process.argv.slice(2);
const option = (name) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined; };
const valued = new Set(["--dll", "--timeout"]);
const positional = argv.filter((a, i) => !a.startsWith("--") && !valued.has(argv[i - 1]));
const markdownFile = resolve(positional[0] ?? join(repoRoot, "README.md"));
const dll = resolve(option("--dll") ?? process.env.AGENTDESK_GATEWAY_DLL ?? defaultDll);
const keepGoing = argv.includes("--keep-going");
const readmePorts = argv.includes("--readme-ports");
const keep = argv.includes("--keep");
const timeoutMs = Number(option("--timeout") ?? 600) * 1000;
const shown = relative(process.cwd(), markdownFile) || markdownFile;

if (!existsSync(markdownFile)) { console.error(`quickstart: ${markdownFile} does not exist`); process.exit(2); }

/** The ```bash blocks of the "Quick start" section, each with the markdown line its first line is on. */
export function quickStartBlocks(markdown) {
  const lines = markdown.split("\n");
  let inFence = false, start = -1, level = 0, end = lines.length;
  for (let i = 0; i < lines.length; i++) {
    if (/^\s*(```|~~~)/.test(lines[i])) { inFence = !inFence; continue; }
    if (inFence) continue;
    const heading = lines[i].match(/^(#{1,6})\s+(.*)$/);
    if (!heading) continue;
    if (start < 0 && /^quick start\b/i.test(heading[2].trim())) { start = i; level = heading[1].length; continue; }
    if (start >= 0 && heading[1].length <= level) { end = i; break; }
  }
  if (start < 0) throw new Error("no heading that starts with \"Quick start\"");
  const blocks = [];
  let block;
  for (let i = start + 1; i < end; i++) {
    if (!block && /^```bash\s*$/.test(lines[i])) { block = { line: i + 2, text: [] }; continue; }
    if (block && /^```\s*$/.test(lines[i])) { blocks.push(block); block = undefined; continue; }
    if (block) block.text.push(lines[i]);
  }
  if (block) throw new Error(`the bash block at line ${block.line - 1} is not closed`);
  return blocks;
}

function portIsFree(port, host = "127.0.0.1") {
  return new Promise((done) => {
    const server = createServer();
    server.once("error", () => done(false));
    server.listen(port, host, () => server.close(() => done(true)));
  });
}

const blocks = (() => {
  try { return quickStartBlocks(readFileSync(markdownFile, "utf8")); }
  catch (error) { console.error(`quickstart: ${shown}: ${error.message}`); process.exit(2); }
})();
if (blocks.length === 0) { console.error(`quickstart: ${shown} has no \`\`\`bash block in its Quick start section`); process.exit(2); }

// The script: a preamble, then each block preceded by a marker; scriptLine → markdown line for messages.
const preamble = [
  "# generated by tests/readme/run-quickstart.mjs",
  keepGoing ? "set -o pipefail" : "set -eo pipefail",
  "trap 'echo \"##QUICKSTART-FAILED $? $LINENO $BASH_COMMAND\" >&2' ERR",
  "# curl: an HTTP error status fails the command (the body is still printed); no call hangs",
  "curl() {",
  "  local a",
  "  for a in \"$@\"; do   # the command's own -f/--fail wins (curl refuses both)",
  "    if [[ \"$a\" == --fail || \"$a\" =~ ^-[A-Za-z]*f[A-Za-z]*$ ]]; then command curl --max-time 30 \"$@\"; return; fi",
  "  done",
  "  command curl --fail-with-body --max-time 30 \"$@\"",
  "}",
];
const scriptLines = [...preamble];
const lineMap = new Map();
let gatewayStarts = 0;
let httpPort = 5080;
const substitutions = [];
if (!readmePorts) httpPort = await freePort();
for (const block of blocks) {
  scriptLines.push(`# ── ${basename(markdownFile)}:${block.line}`);
  block.text.forEach((text, i) => {
    let line = text;
    // The README starts the gateway with `dotnet run`; the test runs the built dll the same way (never a build).
    const replaced = line.replace(/dotnet run --project src\/AgentDesk\.Gateway(?:\s+--(?=\s|$))?/g, () => { gatewayStarts++; return 'dotnet "$AGENTDESK_GATEWAY_DLL"'; });
    if (replaced !== line) substitutions.push(`${basename(markdownFile)}:${block.line + i}: \`dotnet run --project src/AgentDesk.Gateway\` → \`dotnet "$AGENTDESK_GATEWAY_DLL"\``);
    line = replaced;
    if (!readmePorts) {
      const ported = line.replace(/\b(localhost|127\.0\.0\.1):5080\b/g, `$1:${httpPort}`);
      if (ported !== line) substitutions.push(`${basename(markdownFile)}:${block.line + i}: port 5080 → ${httpPort}`);
      line = ported;
    }
    scriptLines.push(line);
    lineMap.set(scriptLines.length, block.line + i);
  });
}
if (gatewayStarts === 0) {
  console.error(`quickstart: ${shown}'s Quick start never runs \`dotnet run --project src/AgentDesk.Gateway\`, so this test cannot start the gateway the way it says`);
  process.exit(2);
}

const work = mkdtempSync(join(tmpdir(), "agentdesk-quickstart-"));
const scriptFile = join(work, "quickstart.sh");
writeFileSync(scriptFile, scriptLines.join("\n") + "\n");
if (existsSync(join(repoRoot, "examples"))) {
  cpSync(join(repoRoot, "examples"), join(work, "examples"), { recursive: true, filter: (source) => basename(source) !== "node_modules" });
}

// `dotnet run` starts the gateway with its launch profile's environment variables (the GC's gen0 budget); the dll
// started in its place gets them too.
const launchSettings = JSON.parse(readFileSync(join(repoRoot, "src/AgentDesk.Gateway/Properties/launchSettings.json"), "utf8"));
const launchProfile = Object.values(launchSettings.profiles).find((profile) => profile.commandName === "Project");
const env = {
  ...process.env,
  ...(launchProfile?.environmentVariables ?? {}),
  AGENTDESK_GATEWAY_DLL: dll,
  NODE_PATH: join(repoRoot, "tests/interop/node_modules"),
  DOTNET_NOLOGO: "1",
  DOTNET_CLI_TELEMETRY_OPTOUT: "1",
  npm_config_prefer_offline: "true",
  npm_config_audit: "false",
  npm_config_fund: "false",
  npm_config_update_notifier: "false",
};
if (!readmePorts) {
  env.Urls = `http://localhost:${httpPort}`;
  env.AgentDesk__Cluster__SiloPort = String(await freePort());
  env.AgentDesk__Cluster__GatewayPort = String(await freePort());
} else {
  for (const port of [5080, 11111, 30000]) {
    if (!(await portIsFree(port))) {
      console.error(`quickstart: port ${port} is in use; the README's ports are needed with --readme-ports (or run without it)`);
      rmSync(work, { recursive: true, force: true });
      process.exit(1);
    }
  }
}

console.log(`[quickstart] ${shown}: ${blocks.length} bash blocks, ${scriptLines.length - preamble.length - blocks.length} lines, run in ${work}`);
console.log(`[quickstart] gateway: ${dll}${readmePorts ? " on the README's ports" : `, HTTP port ${httpPort}, silo ports ${env.AgentDesk__Cluster__SiloPort}/${env.AgentDesk__Cluster__GatewayPort}`}`);
for (const s of substitutions) console.log(`[quickstart]   ${s}`);

let child;
async function stop() {
  if (child) { await killTree(child); child = undefined; }
  if (!keep) rmSync(work, { recursive: true, force: true });
}
process.on("exit", () => killTreeSync(child));
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, async () => { await stop(); process.exit(130); });

try {
  await waitForDll(dll);
} catch (error) {
  console.error(`quickstart: ${error.message}`);
  await stop();
  process.exit(1);
}

let output = "", errors = "";
const started = Date.now();
const exit = await new Promise((done) => {
  child = spawn("bash", [scriptFile], { cwd: work, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.on("data", (chunk) => { output += chunk; process.stdout.write(chunk); });
  // The trap's markers are reported below, with the markdown line; every other stderr line is shown as it comes.
  let pending = "";
  const showErrors = (text) => { for (const l of text.split("\n")) if (!l.startsWith("##QUICKSTART-FAILED")) process.stderr.write(l + "\n"); };
  child.stderr.on("data", (chunk) => {
    errors += chunk;
    pending += chunk;
    const cut = pending.lastIndexOf("\n");
    if (cut >= 0) { showErrors(pending.slice(0, cut)); pending = pending.slice(cut + 1); }
  });
  child.stderr.on("end", () => { if (pending) showErrors(pending); });
  const timer = setTimeout(() => { killTreeSync(child); done({ code: null, timedOut: true }); }, timeoutMs);
  // 'exit', not 'close': the gateway started in the background keeps the pipes open until it is stopped.
  child.once("exit", (code, signal) => { clearTimeout(timer); done({ code, signal, timedOut: false }); });
});
const seconds = ((Date.now() - started) / 1000).toFixed(1);
// Let the last output arrive, then stop the gateway (the whole process group).
await new Promise((r) => setTimeout(r, 200));
await stop();

const problems = [];
if (exit.timedOut) problems.push(`the script did not finish within ${timeoutMs / 1000} s (killed)`);
const markdownLines = readFileSync(markdownFile, "utf8").split("\n");
for (const match of errors.matchAll(/^##QUICKSTART-FAILED (\d+) (\d+) (.*)$/gm)) {
  const at = lineMap.get(Number(match[2]));
  // Name the command as the markdown has it (bash's own text would be the curl wrapper's inner call).
  const command = at ? markdownLines[at - 1].trim() : match[3];
  problems.push(`command failed (exit ${match[1]}) at ${at ? `${basename(markdownFile)}:${at}` : `script line ${match[2]}`}: ${command.length > 200 ? command.slice(0, 197) + "..." : command}`);
}
if (!exit.timedOut && exit.code !== 0 && problems.length === 0) problems.push(`the script exited ${exit.code ?? exit.signal}`);
// Errors a response shows (also those that came with a 2xx status): every JSON object printed is looked at.
for (const object of jsonObjects(output)) {
  const found = [];
  const visit = (value, path) => {
    if (Array.isArray(value)) { value.forEach((v, i) => visit(v, `${path}[${i}]`)); return; }
    if (!value || typeof value !== "object") return;
    if (typeof value.type === "string" && value.type.includes("/problems/")) found.push(`problem ${value.status ?? ""} ${value.code}: ${value.detail ?? value.title}`);
    else {
      if (value.success === false) found.push(`${path || "response"}: success false${value.code ? ` (${value.code}${value.error ? `: ${value.error}` : ""})` : ""}`);
      if (typeof value.failed === "number" && value.failed > 0) found.push(`${path || "response"}: failed ${value.failed}`);
      if (typeof value.error === "string" && value.success !== false) found.push(`${path || "response"}: error ${value.error}`);
    }
    for (const [k, v] of Object.entries(value)) if (v && typeof v === "object") visit(v, path ? `${path}.${k}` : k);
  };
  visit(object, "");
  for (const f of found) problems.push(`a response shows an error: ${f}`);
}

/** The top-level JSON objects and arrays in a text (responses printed back to back, among other output). */
function* jsonObjects(text) {
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== "{" && text[i] !== "[") continue;
    let depth = 0, inString = false, end = -1;
    for (let j = i; j < text.length; j++) {
      const c = text[j];
      if (inString) { if (c === "\\") j++; else if (c === '"') inString = false; continue; }
      if (c === '"') inString = true;
      else if (c === "{" || c === "[") depth++;
      else if (c === "}" || c === "]") { if (--depth === 0) { end = j; break; } }
    }
    if (end < 0) continue;
    try { yield JSON.parse(text.slice(i, end + 1)); i = end; } catch { /* not JSON: go on after this character */ }
  }
}

console.log(`\n[quickstart] ${shown}: script ${exit.timedOut ? "timed out" : `exited ${exit.code ?? exit.signal}`} after ${seconds} s; gateway stopped`);
if (keep) console.log(`[quickstart] kept ${work} (quickstart.sh, data/)`);
for (const p of problems) console.log(`  FAIL ${p}`);
console.log(problems.length === 0 ? "quickstart: 1 passed, 0 failed" : "quickstart: 0 passed, 1 failed");
process.exit(problems.length === 0 ? 0 : 1);
