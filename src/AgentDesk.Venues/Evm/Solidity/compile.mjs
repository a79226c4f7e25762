#!/usr/bin/env node
// Compiles contracts/**/*.sol with solc-js and writes one artifact per deployable contract to ../Artifacts:
//   { "contractName": ..., "abi": [...], "bytecode": "0x..." }
//
//   node compile.mjs                 write the artifacts
//   node compile.mjs --check         recompile in memory; exit 1 naming every artifact that differs
//   --out <dir>                      use another artifacts folder (the tests check a scratch copy)
//   --sizes                          also print each contract's runtime code size
//
// The settings are fixed so that a compile is byte-for-byte reproducible: the same solc (pinned in
// package.json), the optimizer at 200 runs, evmVersion cancun, and no metadata hash in the bytecode
// (bytecodeHash "none": the hash would change with comments and paths, not with behaviour).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import solc from "solc";

const here = path.dirname(fileURLToPath(import.meta.url));
const contractsDir = path.join(here, "contracts");
const nodeModules = path.join(here, "node_modules");

// EIP-170: the largest runtime code a chain accepts.
const MAX_RUNTIME_BYTES = 24_576;

export const SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: "cancun",
  viaIR: false,
  metadata: { bytecodeHash: "none" },
  outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
};

function listSources(dir) {
  const found = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...listSources(full));
    else if (entry.name.endsWith(".sol")) found.push(full);
  }
  return found;
}

function findImports(importPath) {
  // Only packages from this folder's node_modules (OpenZeppelin); never anything outside it.
  const resolved = path.resolve(nodeModules, importPath);
  if (!resolved.startsWith(nodeModules + path.sep)) return { error: `import outside node_modules: ${importPath}` };
  try {
    return { contents: fs.readFileSync(resolved, "utf8") };
  } catch {
    return { error: `not found: ${importPath}` };
  }
}

/** Compiles every source; returns Map(fileName -> artifact JSON text). Throws on compile errors. */
export function compileAll({ printSizes = false } = {}) {
  const sources = {};
  for (const file of listSources(contractsDir)) {
    // Source units are named by their path from this folder, so artifacts do not depend on where the repo lives.
    sources[path.relative(here, file).split(path.sep).join("/")] = { content: fs.readFileSync(file, "utf8") };
  }
  const input = { language: "Solidity", sources, settings: SETTINGS };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));

  const errors = (output.errors ?? []).filter((e) => e.severity === "error");
  for (const e of output.errors ?? []) {
    // Our own warnings only: OpenZeppelin's (e.g. the note on its transient-storage reentrancy guard) are noise.
    const file = e.sourceLocation?.file ?? "";
    if (e.severity !== "error" && !file.startsWith("@")) process.stderr.write(`${e.formattedMessage}\n`);
  }
  if (errors.length > 0) throw new Error(errors.map((e) => e.formattedMessage).join("\n"));

  const artifacts = new Map();
  for (const sourceName of Object.keys(sources).sort()) {
    for (const [contractName, c] of Object.entries(output.contracts[sourceName] ?? {})) {
      const bytecode = c.evm.bytecode.object;
      if (!bytecode) continue; // interfaces and abstract contracts deploy nothing
      const runtimeBytes = c.evm.deployedBytecode.object.length / 2;
      if (runtimeBytes > MAX_RUNTIME_BYTES) {
        throw new Error(`${contractName}: runtime code is ${runtimeBytes} bytes, over the EIP-170 limit of ${MAX_RUNTIME_BYTES}`);
      }
      if (printSizes) console.log(`${contractName}: ${runtimeBytes} bytes of runtime code (limit ${MAX_RUNTIME_BYTES})`);
      if (artifacts.has(`${contractName}.json`)) throw new Error(`two contracts named ${contractName}`);
      const artifact = { contractName, abi: c.abi, bytecode: `0x${bytecode}` };
      artifacts.set(`${contractName}.json`, JSON.stringify(artifact, null, 2) + "\n");
    }
  }
  return artifacts;
}

function main(argv) {
  const check = argv.includes("--check");
  const outIndex = argv.indexOf("--out");
  const outDir = outIndex >= 0 ? path.resolve(argv[outIndex + 1]) : path.resolve(here, "..", "Artifacts");

  let artifacts;
  try {
    artifacts = compileAll({ printSizes: argv.includes("--sizes") });
  } catch (e) {
    console.error(e.message);
    return 1;
  }

  if (check) {
    const problems = [];
    for (const [name, text] of artifacts) {
      const file = path.join(outDir, name);
      if (!fs.existsSync(file)) problems.push(`missing: ${file}`);
      else if (fs.readFileSync(file, "utf8") !== text) problems.push(`differs from a fresh compile: ${file}`);
    }
    const existing = fs.existsSync(outDir) ? fs.readdirSync(outDir).filter((f) => f.endsWith(".json")) : [];
    for (const f of existing) if (!artifacts.has(f)) problems.push(`not produced by any contract: ${path.join(outDir, f)}`);
    if (problems.length > 0) {
      for (const p of problems) console.error(p);
      console.error("Artifacts are out of date: run `node compile.mjs` in src/AgentDesk.Venues/Evm/Solidity and commit them.");
      return 1;
    }
    console.log(`${artifacts.size} artifacts match a fresh compile (${outDir}).`);
    return 0;
  }

  fs.mkdirSync(outDir, { recursive: true });
  for (const f of fs.readdirSync(outDir).filter((f) => f.endsWith(".json"))) {
    if (!artifacts.has(f)) fs.rmSync(path.join(outDir, f)); // a renamed or removed contract
  }
  for (const [name, text] of artifacts) fs.writeFileSync(path.join(outDir, name), text);
  console.log(`wrote ${artifacts.size} artifacts to ${outDir}: ${[...artifacts.keys()].join(", ")}`);
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
