#!/usr/bin/env node
// Offline checks of AgentDesk's deployment files. Needs node (>= 20.19), kubectl (for `kubectl
// kustomize`) and `npm ci` in this folder; downloads nothing.
//
//   node deploy/validate/validate.mjs                       every target
//   node deploy/validate/validate.mjs dev production        some of them
//
// Targets: base (namespace-agnostic base), dev, production (the overlays), compose (compose.yaml,
// otel-collector.yaml, both Dockerfiles, .dockerignore). Prints every finding; exits 1 if there is one,
// 2 on a usage error.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KUBERNETES_API, SCHEMA_PACKAGE } from './lib/strict-schema.mjs';
import { baseFindings, overlayFindings, referencedSecrets, render, schemaFindings } from './lib/k8s.mjs';
import { COMPOSE_SCHEMA_SOURCE, composeFindings, loadCompose } from './lib/compose.mjs';
import { dockerfileFindings, dockerignoreFindings } from './lib/dockerfile.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..');
const rel = (p) => relative(repoRoot, p) || '.';
const TARGETS = ['base', 'dev', 'production', 'compose'];

async function checkBase() {
  const dir = join(repoRoot, 'deploy/k8s/base');
  const objects = render(dir);
  console.log(`   kubectl kustomize ${rel(dir)}: ${objects.length} objects`);
  return [...(await schemaFindings(objects)), ...baseFindings(objects)];
}

async function checkOverlay(name) {
  const dir = join(repoRoot, 'deploy/k8s/overlays', name);
  const objects = render(dir);
  const kinds = {};
  for (const o of objects) kinds[o.kind] = (kinds[o.kind] ?? 0) + 1;
  console.log(`   kubectl kustomize ${rel(dir)}: ${objects.length} objects (${Object.entries(kinds).map(([k, n]) => `${n} ${k}`).join(', ')})`);
  const secrets = referencedSecrets(objects);
  console.log(`   Secrets referenced: ${secrets.join(', ') || 'none'}${name === 'production' ? ' (all from the operator\'s secret store)' : ''}`);
  return overlayFindings(objects, name);
}

function checkCompose() {
  const composeFile = join(repoRoot, 'deploy/compose/compose.yaml');
  const findings = [];
  if (!existsSync(composeFile)) findings.push({ where: rel(composeFile), rule: 'compose', message: 'does not exist' });
  else {
    const loaded = loadCompose(composeFile);
    console.log(`   ${rel(composeFile)}: ${Object.keys(loaded.model?.services ?? {}).length} services, schema ${COMPOSE_SCHEMA_SOURCE}`);
    findings.push(...composeFindings(loaded, { composeFile, repoRoot }));
  }
  for (const [project, file] of [['AgentDesk.Silo', 'deploy/docker/silo.Dockerfile'], ['AgentDesk.Gateway', 'deploy/docker/gateway.Dockerfile']]) {
    const path = join(repoRoot, file);
    if (!existsSync(path)) { findings.push({ where: file, rule: 'dockerfile', message: 'does not exist' }); continue; }
    console.log(`   ${file}`);
    findings.push(...dockerfileFindings(readFileSync(path, 'utf8'), { project, where: file }));
  }
  const ignore = join(repoRoot, '.dockerignore');
  console.log('   .dockerignore');
  findings.push(...dockerignoreFindings(existsSync(ignore) ? readFileSync(ignore, 'utf8') : null));
  return findings;
}

async function main() {
  const asked = process.argv.slice(2);
  const unknown = asked.filter((a) => !TARGETS.includes(a));
  if (unknown.length > 0) {
    console.error(`unknown target(s): ${unknown.join(', ')}; targets: ${TARGETS.join(', ')}`);
    return 2;
  }
  const targets = asked.length > 0 ? TARGETS.filter((t) => asked.includes(t)) : TARGETS;
  console.log(`Kubernetes schemas: ${SCHEMA_PACKAGE} (Kubernetes ${KUBERNETES_API} API), unknown fields refused`);
  let total = 0;
  for (const target of targets) {
    console.log(`== ${target}`);
    let findings;
    try {
      findings = target === 'base' ? await checkBase() : target === 'compose' ? checkCompose() : await checkOverlay(target);
    } catch (error) {
      findings = [{ where: target, rule: 'tool', message: error.message }];
    }
    for (const f of findings) console.log(`FAIL [${target}] ${f.where}: ${f.rule}: ${f.message}`);
    console.log(findings.length === 0 ? `   OK` : `   ${findings.length} finding(s)`);
    total += findings.length;
  }
  console.log(total === 0 ? `deploy validation passed (${targets.join(', ')})` : `deploy validation FAILED: ${total} finding(s) (${targets.join(', ')})`);
  return total === 0 ? 0 : 1;
}

process.exitCode = await main();
