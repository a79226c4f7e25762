// Compose checks: the Compose Specification JSON schema (as shipped in the npm package dclint, which
// keeps a copy of compose-spec/schema/compose-spec.json) plus AgentDesk's own rules.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import Ajv from 'ajv';
import YAML from 'yaml';

const require = createRequire(import.meta.url);
const dclintRoot = dirname(require.resolve('dclint/package.json'));
export const COMPOSE_SCHEMA_SOURCE = `dclint@${JSON.parse(readFileSync(join(dclintRoot, 'package.json'), 'utf8')).version}/schemas/compose.schema.json`;

let validateCompose;
function composeValidator() {
  if (!validateCompose) {
    const schema = JSON.parse(readFileSync(join(dclintRoot, 'schemas', 'compose.schema.json'), 'utf8'));
    // The file names its meta-schema with an https URL Ajv does not know; it is plain draft-07.
    delete schema.$schema;
    const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
    validateCompose = ajv.compile(schema);
  }
  return validateCompose;
}

/**
 * Compose interpolation as `docker compose` does it, with every variable unset: `${X:-d}` and `${X-d}`
 * give d, `$$` gives `$`. A variable without a default would be empty: reported by the caller.
 */
export function interpolate(value, missing = []) {
  if (typeof value === 'string') {
    return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (all, name, op, arg, bare) => {
      if (all === '$$') return '$';
      if (bare) { missing.push(bare); return ''; }
      if (op === ':-' || op === '-') return arg;
      missing.push(name);
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, missing));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, missing)]));
  return value;
}

/** Parses compose.yaml the way Compose does: YAML merge keys resolved, variables interpolated. */
export function loadCompose(file) {
  const doc = YAML.parseDocument(readFileSync(file, 'utf8'), { merge: true });
  if (doc.errors.length > 0) throw new Error(`${file} does not parse: ${doc.errors[0].message}`);
  const missing = [];
  const model = interpolate(doc.toJS({ maxAliasCount: -1 }), missing);
  return { model, missing };
}

const REQUIRED_SERVICES = ['postgres', 'migrate', 'silo1', 'silo2', 'gateway', 'anvil', 'otel-collector'];
const SILOS = ['silo1', 'silo2'];
// Services allowed to run without a healthcheck, and why.
const NO_HEALTHCHECK = { 'otel-collector': 'the collector image has no shell or HTTP client to run one' };

const seconds = (duration) => {
  if (duration === undefined) return undefined;
  let total = 0;
  for (const [, n, unit] of String(duration).matchAll(/(\d+(?:\.\d+)?)(ms|us|ns|h|m|s)/g)) total += Number(n) * { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6, ns: 1e-9 }[unit];
  return total;
};
const envOf = (service) => {
  const env = service?.environment;
  if (Array.isArray(env)) return Object.fromEntries(env.map((e) => { const i = e.indexOf('='); return i < 0 ? [e, ''] : [e.slice(0, i), e.slice(i + 1)]; }));
  return Object.fromEntries(Object.entries(env ?? {}).map(([k, v]) => [k, v === null ? '' : String(v)]));
};
const dependsOn = (service) => {
  const d = service?.depends_on;
  if (!d) return {};
  if (Array.isArray(d)) return Object.fromEntries(d.map((name) => [name, { condition: 'service_started' }]));
  return d;
};
// A string command is split into words the way Compose does (shell-like, quotes respected).
const commandWords = (c) => {
  if (c === undefined || c === null) return [];
  if (Array.isArray(c)) return c.map(String);
  return (String(c).match(/(?:[^\s"']+|"[^"]*"|'[^']*')+/g) ?? []).map((w) => w.replace(/^(["'])(.*)\1$/, '$2'));
};
const asArray = (v) => (Array.isArray(v) ? v : []);
const publishedTargets = (service) => asArray(service?.ports).map((p) => {
  if (typeof p === 'object') return { published: String(p.published ?? ''), target: Number(p.target) };
  const parts = String(p).split('/')[0].split(':');
  return { published: parts.length > 1 ? parts[parts.length - 2] : '', target: Number(parts[parts.length - 1]) };
});
const hasHealthcheck = (service) => !!service?.healthcheck?.test && service.healthcheck.disable !== true && !(Array.isArray(service.healthcheck.test) && service.healthcheck.test[0] === 'NONE');
const oneShot = (service) => service?.restart === 'no' || service?.restart === undefined;

function imageProblem(image) {
  if (!image) return null;
  if (image.includes('@sha256:')) return null;
  const last = image.split('/').pop();
  if (!last.includes(':')) return `image "${image}" has no tag (it would mean :latest)`;
  if (last.endsWith(':latest')) return `image "${image}" uses the :latest tag`;
  return null;
}

/**
 * All compose checks. `composeFile` locates relative paths (build contexts, mounted files);
 * `repoRoot` is where the Dockerfiles' build context must be.
 */
export function composeFindings({ model, missing }, { composeFile, repoRoot }) {
  const findings = [];
  const add = (where, rule, message) => findings.push({ where, rule, message });
  const composeDir = dirname(composeFile);

  const validate = composeValidator();
  if (!validate(model)) {
    for (const e of validate.errors) add(`compose ${e.instancePath || '/'}`, 'compose-schema', `${e.message}${e.params?.additionalProperty ? ` ("${e.params.additionalProperty}")` : ''}`);
  }
  for (const name of new Set(missing)) add('compose', 'interpolation', `variable ${name} has no default: the file only works with it set`);
  try {
    projectRules(model, { composeDir, repoRoot, add });
  } catch (error) {
    add('compose', 'rules', `the project rules could not run on this file (${error.message}); fix the schema findings first`);
  }
  return findings;
}

function projectRules(model, { composeDir, repoRoot, add }) {
  const services = model?.services ?? {};
  for (const name of REQUIRED_SERVICES) if (!services[name]) add('compose', 'services', `service "${name}" is missing`);

  for (const [name, s] of Object.entries(services)) {
    const where = `compose service ${name}`;
    const image = imageProblem(s.image);
    if (image) add(where, 'image-tag', image);
    if (!s.image && !s.build) add(where, 'services', 'has neither image nor build');
    if (s.build) {
      const context = resolve(composeDir, typeof s.build === 'string' ? s.build : s.build.context ?? '.');
      if (context !== resolve(repoRoot)) add(where, 'build', `build context ${context} is not the repository root`);
      const dockerfile = resolve(context, s.build.dockerfile ?? 'Dockerfile');
      if (!existsSync(dockerfile)) add(where, 'build', `Dockerfile ${dockerfile} does not exist`);
    }
    for (const [target, dep] of Object.entries(dependsOn(s))) {
      const other = services[target];
      if (!other) { add(where, 'depends-on', `depends on "${target}", which is not a service`); continue; }
      if (dep.condition === 'service_healthy' && !hasHealthcheck(other)) add(where, 'depends-on', `waits for "${target}" to be healthy, but "${target}" has no healthcheck`);
      if (dep.condition === 'service_completed_successfully' && !oneShot(other)) add(where, 'depends-on', `waits for "${target}" to complete, but "${target}" restarts`);
    }
    if (!oneShot(s) && !hasHealthcheck(s) && !NO_HEALTHCHECK[name]) add(where, 'healthcheck', 'a long-running service without a healthcheck');
    for (const p of publishedTargets(s)) if (p.target === 11111 || p.target === 30000) add(where, 'exposure', `publishes silo port ${p.target}: silo ports stay on the compose network`);
    for (const [k, v] of Object.entries(envOf(s))) {
      if (k === 'OTEL_EXPORTER_OTLP_ENDPOINT' && services['otel-collector'] && !/^https?:\/\/otel-collector:431[78]\/?$/.test(v)) add(where, 'telemetry', `OTEL_EXPORTER_OTLP_ENDPOINT ${v} is not the compose collector`);
    }
  }

  const postgres = services.postgres;
  if (postgres && !/^postgres:15(\b|[.-])/.test(postgres.image ?? '')) add('compose service postgres', 'services', `image ${postgres.image} is not PostgreSQL 15`);

  const migrate = services.migrate;
  if (migrate) {
    const where = 'compose service migrate';
    if (!/silo\.Dockerfile$/.test(migrate.build?.dockerfile ?? '') && !/agentdesk\/silo/.test(migrate.image ?? '')) add(where, 'migration', 'does not run the silo image');
    if (!commandWords(migrate.command).includes('migrate')) add(where, 'migration', 'does not run `migrate`');
    if (!oneShot(migrate)) add(where, 'migration', `restart: ${migrate.restart}: a one-shot service must not restart`);
    if (dependsOn(migrate).postgres?.condition !== 'service_healthy') add(where, 'depends-on', 'does not wait for postgres to be healthy');
  }

  const siloImages = new Set();
  for (const name of SILOS) {
    const s = services[name];
    if (!s) continue;
    const where = `compose service ${name}`;
    siloImages.add(s.image);
    const deps = dependsOn(s);
    if (deps.migrate?.condition !== 'service_completed_successfully') add(where, 'depends-on', 'does not wait for migrate to complete successfully');
    if (!hasHealthcheck(s)) add(where, 'healthcheck', 'has no healthcheck');
    if ((seconds(s.stop_grace_period) ?? 10) < 60) add(where, 'shutdown', `stop_grace_period ${s.stop_grace_period ?? '10s (default)'} is too short for a silo to drain (60 s or more)`);
    const env = envOf(s);
    if (env.AgentDesk__Cluster__Mode !== 'Postgres') add(where, 'orleans', 'AgentDesk__Cluster__Mode is not Postgres');
    if (env.AgentDesk__Cluster__MigrateOnStart !== 'false') add(where, 'orleans', 'AgentDesk__Cluster__MigrateOnStart is not "false" (migrate owns the schema)');
    if (env.AgentDesk__Silo__HealthPort !== '8080') add(where, 'orleans', 'AgentDesk__Silo__HealthPort is not 8080');
    const staticIp = Object.values(s.networks ?? {}).map((n) => n?.ipv4_address).find(Boolean);
    if (!env.AgentDesk__Cluster__AdvertisedAddress) add(where, 'orleans', 'AgentDesk__Cluster__AdvertisedAddress is not set (the default, 127.0.0.1, is unreachable from other containers)');
    else if (env.AgentDesk__Cluster__AdvertisedAddress !== staticIp) add(where, 'orleans', `advertises ${env.AgentDesk__Cluster__AdvertisedAddress} but its address on the network is ${staticIp ?? 'dynamic'}`);
  }
  if (siloImages.size > 1) add('compose', 'services', `silos run different images: ${[...siloImages].join(', ')}`);
  const advertised = SILOS.map((n) => envOf(services[n]).AgentDesk__Cluster__AdvertisedAddress).filter(Boolean);
  if (new Set(advertised).size !== advertised.length) add('compose', 'orleans', 'two silos advertise the same address');

  const gateway = services.gateway;
  if (gateway) {
    const where = 'compose service gateway';
    const deps = dependsOn(gateway);
    for (const silo of SILOS) if (services[silo] && deps[silo]?.condition !== 'service_healthy') add(where, 'depends-on', `does not wait for ${silo} to be healthy`);
    if (!publishedTargets(gateway).some((p) => p.published === '5080' && p.target === 8080)) add(where, 'exposure', 'does not publish 8080 as host port 5080');
    if (!hasHealthcheck(gateway)) add(where, 'healthcheck', 'has no healthcheck');
    const env = envOf(gateway);
    if (env.ASPNETCORE_URLS !== 'http://+:8080') add(where, 'gateway', 'ASPNETCORE_URLS is not http://+:8080');
    if (env.AgentDesk__Cluster__Mode !== 'Postgres') add(where, 'gateway', 'AgentDesk__Cluster__Mode is not Postgres');
    if (!env.AgentDesk__Auth__AdminKey) add(where, 'gateway', 'AgentDesk__Auth__AdminKey is not set');
  }

  const anvil = services.anvil;
  if (anvil) {
    const where = 'compose service anvil';
    if (!/^ghcr\.io\/foundry-rs\/foundry[:@]/.test(anvil.image ?? '')) add(where, 'services', `image ${anvil.image} is not ghcr.io/foundry-rs/foundry`);
    const words = commandWords(anvil.command);
    // The image's entrypoint is `/bin/sh -c`: the whole command line must be one argument.
    if (anvil.entrypoint === undefined && !(words.length === 1 && /^anvil\b.*--host 0\.0\.0\.0/.test(words[0]))) {
      add(where, 'services', `command ${JSON.stringify(anvil.command)} reaches the image's /bin/sh -c as ${words.length} argument(s): give it as a one-element list, ["anvil --host 0.0.0.0"]`);
    }
  }

  const collector = services['otel-collector'];
  if (collector) {
    const where = 'compose service otel-collector';
    if (!/^otel\/opentelemetry-collector-contrib[:@]/.test(collector.image ?? '')) add(where, 'services', `image ${collector.image} is not otel/opentelemetry-collector-contrib`);
    const mount = asArray(collector.volumes).map((v) => (typeof v === 'string' ? v.split(':')[0] : v.source)).find((src) => /otel-collector\.yaml$/.test(src ?? ''));
    if (!mount) add(where, 'telemetry', 'does not mount otel-collector.yaml');
    else {
      const file = resolve(composeDir, mount);
      if (!existsSync(file)) add(where, 'telemetry', `${file} does not exist`);
      else for (const f of collectorConfigFindings(YAML.parse(readFileSync(file, 'utf8')))) add(`otel-collector.yaml ${f.where}`, 'telemetry', f.message);
    }
  }
}

/** The collector's config: an OTLP receiver on all interfaces, a debug exporter, pipelines that use only defined components. */
export function collectorConfigFindings(config) {
  const findings = [];
  const add = (where, message) => findings.push({ where, message });
  const otlp = config?.receivers?.otlp;
  if (!otlp) add('receivers', 'has no otlp receiver');
  else if (!/^(0\.0\.0\.0)?:4317$/.test(otlp.protocols?.grpc?.endpoint ?? '')) add('receivers.otlp', 'does not listen for OTLP/gRPC on 0.0.0.0:4317 (the default binds localhost only)');
  if (!config?.exporters?.debug) add('exporters', 'has no debug exporter');
  const pipelines = config?.service?.pipelines ?? {};
  if (Object.keys(pipelines).length === 0) add('service.pipelines', 'defines no pipeline');
  for (const [name, p] of Object.entries(pipelines)) {
    for (const [section, ids] of [['receivers', p.receivers], ['processors', p.processors], ['exporters', p.exporters]]) {
      for (const id of ids ?? []) if (!Object.hasOwn(config?.[section] ?? {}, id)) add(`service.pipelines.${name}`, `uses ${section.slice(0, -1)} "${id}", which is not defined`);
    }
    if (!(p.receivers ?? []).includes('otlp')) add(`service.pipelines.${name}`, 'does not receive OTLP');
    if (!(p.exporters ?? []).length) add(`service.pipelines.${name}`, 'exports nowhere');
  }
  for (const ext of config?.service?.extensions ?? []) if (!Object.hasOwn(config?.extensions ?? {}, ext)) add('service.extensions', `uses extension "${ext}", which is not defined`);
  return findings;
}
