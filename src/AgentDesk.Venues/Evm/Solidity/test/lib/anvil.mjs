// Starts a private anvil for one test file and stops it (its whole process group) afterwards.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The anvil binary that @foundry-rs/anvil installed for this platform (an optional dependency). */
export function anvilBinary() {
  const arch = { x64: "amd64", arm64: "arm64" }[process.arch] ?? process.arch;
  const exe = process.platform === "win32" ? "anvil.exe" : "anvil";
  const bin = path.join(root, "node_modules", "@foundry-rs", `anvil-${process.platform}-${arch}`, "bin", exe);
  if (!fs.existsSync(bin)) {
    throw new Error(`anvil not found at ${bin}: run npm ci in ${root} (without --omit=optional)`);
  }
  return bin;
}

/**
 * Starts anvil on a random free port and resolves once it listens.
 * @param {string[]} extraArgs e.g. ["--accounts", "210"]
 * @param {number} timeoutMs bound on the wait for "Listening on"
 * @returns {Promise<{url: string, stop: () => Promise<void>}>}
 */
export function startAnvil(extraArgs = [], timeoutMs = 20_000) {
  const child = spawn(anvilBinary(), ["--port", "0", ...extraArgs], {
    // Own process group, so that stop() can signal the group and leave nothing behind.
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let exited = false;
  child.on("exit", () => {
    exited = true;
  });
  // Whatever happens to the test process, do not leave anvil running.
  const killGroup = (signal) => {
    if (exited) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      /* already gone */
    }
  };
  process.once("exit", () => killGroup("SIGKILL"));

  const stop = () =>
    new Promise((resolve) => {
      if (exited) return resolve();
      const hard = setTimeout(() => killGroup("SIGKILL"), 3_000);
      child.once("exit", () => {
        clearTimeout(hard);
        resolve();
      });
      killGroup("SIGTERM");
    });

  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => {
      killGroup("SIGKILL");
      reject(new Error(`anvil did not listen within ${timeoutMs} ms:\n${out.slice(-2000)}`));
    }, timeoutMs);
    const onData = (chunk) => {
      out += chunk.toString();
      const m = out.match(/Listening on ([\d.]+):(\d+)/);
      if (m) {
        clearTimeout(timer);
        child.stdout.off("data", onData);
        child.stdout.resume(); // keep draining so anvil never blocks on a full pipe
        resolve({ url: `http://${m[1]}:${m[2]}`, stop });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", (c) => (out += c.toString()));
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`anvil exited (${code}) before listening:\n${out.slice(-2000)}`));
    });
  });
}
