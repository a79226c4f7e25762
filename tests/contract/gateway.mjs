// Starts the already-built AgentDesk gateway in a folder of its own and stops its whole process tree.
// Plain Node (no packages). It never builds: it runs the dll that `dotnet build` left behind.
import { spawn } from "node:child_process";
import { createWriteStream, existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(fileURLToPath(new URL("../..", import.meta.url)));
export const defaultDll = join(repoRoot, "src/AgentDesk.Gateway/bin/Debug/net10.0/AgentDesk.Gateway.dll");

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Waits (bounded) for the dll: the engineer's rebuild may briefly remove it. */
export async function waitForDll(dll = defaultDll, timeoutMs = 120_000) {
  const started = Date.now();
  while (!existsSync(dll)) {
    if (Date.now() - started > timeoutMs) throw new Error(`${dll} is missing (waited ${timeoutMs / 1000} s); build the gateway first`);
    await sleep(1000);
  }
  return dll;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.unref();
    server.on("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
      server.close(() => done(port));
    });
  });
}

/**
 * Stops a process started with `detached: true` and everything in its process group: SIGTERM, then SIGKILL after
 * `graceMs`. Resolves once the leader has exited (or at once if it already had).
 */
export async function killTree(child, graceMs = 5_000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) {
    try { process.kill(-child.pid, "SIGKILL"); } catch { /* the group is gone */ }
    return;
  }
  const exited = new Promise((r) => child.once("exit", r));
  try { process.kill(-child.pid, "SIGTERM"); } catch { /* gone */ }
  const clean = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
  try { process.kill(-child.pid, "SIGKILL"); } catch { /* gone */ }
  if (!clean) await Promise.race([exited, sleep(2_000)]);
}

/** Last resort at process exit (synchronous): SIGKILL the group. */
export function killTreeSync(child) {
  if (child?.pid) try { process.kill(-child.pid, "SIGKILL"); } catch { /* gone */ }
}

/**
 * Starts `dotnet <dll>` in `dir` as the brief says (Urls=http://127.0.0.1:0, state in ./data there), on free silo
 * ports so it cannot collide with another single-node gateway on this machine (the defaults are 11111/30000),
 * reads the API address from its banner and waits for GET /health/ready to answer 200.
 * Returns { child, baseUrl, adminKey, logFile }.
 */
export async function startGateway({ dll = defaultDll, dir, startTimeoutMs = 60_000, readyTimeoutMs = 90_000, log = () => {} }) {
  await waitForDll(dll);
  const [siloPort, gatewayPort] = [await freePort(), await freePort()];
  const logFile = join(dir, "gateway.log");
  const out = createWriteStream(logFile);
  const child = spawn("dotnet", [dll], {
    cwd: dir,
    detached: true, // its own process group, so the whole tree can be stopped
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      Urls: "http://127.0.0.1:0",
      AgentDesk__Cluster__SiloPort: String(siloPort),
      AgentDesk__Cluster__GatewayPort: String(gatewayPort),
      AgentDesk__Telemetry__Console: "false",
      DOTNET_CLI_TELEMETRY_OPTOUT: "1",
      DOTNET_NOLOGO: "1",
    },
  });
  log(`gateway: dotnet ${dll} (pid ${child.pid}) in ${dir}, silo ports ${siloPort}/${gatewayPort}`);
  let banner = "";
  const api = new Promise((done, fail) => {
    const onData = (chunk) => {
      out.write(chunk);
      banner += chunk;
      const match = banner.match(/API:\s+(http:\/\/\S+)/);
      if (match) done(match[1]);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", (chunk) => { out.write(chunk); banner += chunk; });
    child.once("exit", (code, signal) => fail(new Error(`the gateway exited (${code ?? signal}) before printing its API address:\n${banner}`)));
    child.once("error", fail);
  });
  let baseUrl;
  try {
    baseUrl = await Promise.race([
      api,
      sleep(startTimeoutMs).then(() => { throw new Error(`the gateway printed no "API:" line within ${startTimeoutMs / 1000} s:\n${banner}`); }),
    ]);
  } catch (error) {
    await killTree(child);
    throw error;
  }
  log(`gateway: API ${baseUrl}`);
  const started = Date.now();
  for (;;) {
    let status = 0;
    try {
      status = (await fetch(`${baseUrl}/health/ready`, { signal: AbortSignal.timeout(5_000) })).status;
    } catch { /* not listening yet */ }
    if (status === 200) break;
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the gateway exited while starting:\n${banner}`);
    if (Date.now() - started > readyTimeoutMs) {
      await killTree(child);
      throw new Error(`GET /health/ready did not answer 200 within ${readyTimeoutMs / 1000} s (last: ${status || "no answer"})`);
    }
    await sleep(500);
  }
  const adminKey = readFileSync(join(dir, "data", "admin.key"), "utf8").trim();
  log(`gateway: ready after ${((Date.now() - started) / 1000).toFixed(1)} s; admin key from ${join(dir, "data", "admin.key")}`);
  return { child, baseUrl, adminKey, logFile };
}
