// The committed artifacts are exactly what the pinned compiler produces, and `--check` notices any difference.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const run = (...args) => spawnSync(process.execPath, ["compile.mjs", ...args], { cwd: root, encoding: "utf8", timeout: 120_000 });

test("the committed artifacts match a fresh compile", { timeout: 120_000 }, () => {
  const r = run("--check");
  assert.equal(r.status, 0, r.stderr);
});

test("compile then --check passes; a one-byte edit of an artifact makes --check fail and name the file", { timeout: 240_000 }, () => {
  // A scratch copy of the artifacts folder: the committed files are never touched, even if this test dies
  // half-way, and the other test files can keep reading them.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "agentdesk-artifacts-"));
  try {
    execFileSync(process.execPath, ["compile.mjs", "--out", dir], { cwd: root, timeout: 120_000 });
    const names = fs.readdirSync(dir).sort();
    assert.deepEqual(names, ["OraclePool.json", "PriceFeed.json", "TestToken.json", "TokenRegistry.json", "TradeRouter.json", "Vault.json"]);
    for (const name of names) {
      const a = JSON.parse(fs.readFileSync(path.join(dir, name), "utf8"));
      assert.deepEqual(Object.keys(a), ["contractName", "abi", "bytecode"]);
      assert.equal(`${a.contractName}.json`, name);
      assert.match(a.bytecode, /^0x[0-9a-f]+$/);
      // Identical to the committed artifact.
      assert.equal(fs.readFileSync(path.join(dir, name), "utf8"), fs.readFileSync(path.join(root, "..", "Artifacts", name), "utf8"), name);
    }
    assert.equal(run("--check", "--out", dir).status, 0, "passes right after compile");

    const file = path.join(dir, "TradeRouter.json");
    const original = fs.readFileSync(file);
    const edited = Buffer.from(original);
    const at = edited.indexOf('"bytecode": "0x') + 40; // one hex digit inside the bytecode
    edited[at] = edited[at] === 0x61 ? 0x62 : 0x61;
    fs.writeFileSync(file, edited);
    const r = run("--check", "--out", dir);
    assert.notEqual(r.status, 0, "a one-byte edit fails the check");
    assert.match(r.stderr, /TradeRouter\.json/);
    assert.doesNotMatch(r.stderr, /Vault\.json/);

    fs.writeFileSync(file, original);
    assert.equal(run("--check", "--out", dir).status, 0, "restored: passes again");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
