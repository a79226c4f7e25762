// Every check can fail: each test breaks one thing in a copy of the real files (rendered overlays,
// compose model, Dockerfile text) and expects the matching finding. Run: node --test deploy/validate/test/
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { baseFindings, overlayFindings, render } from '../lib/k8s.mjs';
import { collectorConfigFindings, composeFindings, loadCompose } from '../lib/compose.mjs';
import { dockerfileFindings, dockerignoreFindings } from '../lib/dockerfile.mjs';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const rendered = {
  base: render(join(repoRoot, 'deploy/k8s/base')),
  dev: render(join(repoRoot, 'deploy/k8s/overlays/dev')),
  production: render(join(repoRoot, 'deploy/k8s/overlays/production')),
};

const copy = (overlay) => structuredClone(rendered[overlay]);
const find = (objects, kind, namePrefix) => objects.find((o) => o.kind === kind && o.metadata.name.startsWith(namePrefix));
const silo = (objects) => find(objects, 'Deployment', 'agentdesk-silo');
const gateway = (objects) => find(objects, 'Deployment', 'agentdesk-gateway');
const siloContainer = (objects) => silo(objects).spec.template.spec.containers[0];
const gatewayContainer = (objects) => gateway(objects).spec.template.spec.containers[0];
const without = (objects, predicate) => objects.filter((o) => !predicate(o));

function expectFinding(findings, rule, pattern) {
  const hit = findings.find((f) => f.rule === rule && (!pattern || pattern.test(`${f.where}: ${f.message}`)));
  assert.ok(hit, `expected a "${rule}" finding${pattern ? ` matching ${pattern}` : ''}; got:\n${findings.map((f) => `  ${f.rule}: ${f.where}: ${f.message}`).join('\n') || '  none'}`);
}

describe('kubernetes overlays as committed', () => {
  for (const overlay of ['dev', 'production']) {
    it(`${overlay} has no findings`, async () => assert.deepEqual(await overlayFindings(copy(overlay), overlay), []));
  }
  it('base has no findings', () => assert.deepEqual(baseFindings(copy('base')), []));
});

describe('kubernetes checks catch', () => {
  const broken = async (overlay, mutate) => {
    const objects = copy(overlay);
    const result = mutate(objects) ?? objects;
    return overlayFindings(result, overlay);
  };

  it('an unknown field (strict schema)', async () => expectFinding(await broken('dev', (o) => { siloContainer(o).livenessProbe.httpGet.pathh = '/x'; }), 'schema', /pathh: unknown field/));
  it('an unknown field at the top of a spec', async () => expectFinding(await broken('production', (o) => { gateway(o).spec.replica = 3; }), 'schema', /\/spec\/replica: unknown field/));
  it('a wrongly typed field', async () => expectFinding(await broken('dev', (o) => { silo(o).spec.replicas = 'two'; }), 'schema', /replicas: must be integer/));
  it('a missing required field', async () => expectFinding(await broken('dev', (o) => { delete find(o, 'Service', 'agentdesk-gateway').spec.ports[0].port; }), 'schema', /missing required field "port"/));
  it('a malformed object without crashing the rules', async () => expectFinding(await broken('dev', (o) => { silo(o).spec.template.spec.containers = { silo: {} }; }), 'schema', /containers: must be array/));
  it('a misspelt kind', async () => expectFinding(await broken('dev', (o) => { find(o, 'PodDisruptionBudget', 'agentdesk-silo').kind = 'PodDisruptionBudgets'; }), 'schema', /no schema/));
  it('an image without a tag', async () => expectFinding(await broken('dev', (o) => { siloContainer(o).image = 'agentdesk/silo'; }), 'image-tag'));
  it('an image on :latest', async () => expectFinding(await broken('production', (o) => { gatewayContainer(o).image = 'registry.example.com/agentdesk/gateway:latest'; }), 'image-tag', /:latest/));
  it('a container without CPU requests', async () => expectFinding(await broken('dev', (o) => { delete gatewayContainer(o).resources.requests.cpu; }), 'resources', /requests\.cpu/));
  it('a container without a memory limit', async () => expectFinding(await broken('production', (o) => { delete siloContainer(o).resources.limits; }), 'resources', /limits\.memory/));
  it('a missing readiness probe', async () => expectFinding(await broken('dev', (o) => { delete siloContainer(o).readinessProbe; }), 'probes', /readinessProbe/));
  it('a missing liveness probe', async () => expectFinding(await broken('production', (o) => { delete gatewayContainer(o).livenessProbe; }), 'probes', /livenessProbe/));
  it('a root container', async () => expectFinding(await broken('dev', (o) => { silo(o).spec.template.spec.securityContext.runAsNonRoot = false; }), 'non-root'));
  it('a writable root filesystem', async () => expectFinding(await broken('dev', (o) => { gatewayContainer(o).securityContext.readOnlyRootFilesystem = false; }), 'security-context', /readOnlyRootFilesystem/));
  it('privilege escalation', async () => expectFinding(await broken('dev', (o) => { delete siloContainer(o).securityContext.allowPrivilegeEscalation; }), 'security-context', /allowPrivilegeEscalation/));
  it('a Secret the dev overlay does not define', async () => expectFinding(await broken('dev', (o) => without(o, (x) => x.kind === 'Secret' && x.metadata.name.startsWith('agentdesk-admin'))), 'secret-exists', /agentdesk-admin/));
  it('a Secret key that does not exist', async () => expectFinding(await broken('dev', (o) => { gatewayContainer(o).env.find((e) => e.name === 'AgentDesk__Auth__AdminKey').valueFrom.secretKeyRef.key = 'adminkey'; }), 'secret-exists', /key "adminkey"/));
  it('a ConfigMap that does not exist', async () => expectFinding(await broken('production', (o) => without(o, (x) => x.kind === 'ConfigMap' && x.metadata.name.startsWith('agentdesk-config'))), 'configmap-exists'));
  it('no NetworkPolicy at all', async () => expectFinding(await broken('dev', (o) => without(o, (x) => x.kind === 'NetworkPolicy')), 'network-policy'));
  it('silo ports open to the whole cluster', async () => expectFinding(await broken('production', (o) => { find(o, 'NetworkPolicy', 'agentdesk-silo').spec.ingress[0].from = [{ namespaceSelector: {} }]; }), 'network-policy', /11111\/30000/));
  it('a silo policy rule without ports', async () => expectFinding(await broken('dev', (o) => { delete find(o, 'NetworkPolicy', 'agentdesk-silo').spec.ingress[2].ports; }), 'network-policy', /every port/));
  it('gateway HTTP not reachable from the ingress', async () => expectFinding(await broken('dev', (o) => { find(o, 'NetworkPolicy', 'agentdesk-gateway').spec.ingress = []; }), 'network-policy', /ingress controller/));
  it('a missing silo PDB', async () => expectFinding(await broken('production', (o) => without(o, (x) => x.kind === 'PodDisruptionBudget' && x.metadata.name === 'agentdesk-silo')), 'pdb', /agentdesk-silo/));
  it('a missing gateway PDB', async () => expectFinding(await broken('dev', (o) => without(o, (x) => x.kind === 'PodDisruptionBudget' && x.metadata.name === 'agentdesk-gateway')), 'pdb', /agentdesk-gateway/));
  it('RBAC without the delete verb', async () => expectFinding(await broken('production', (o) => { find(o, 'Role', 'agentdesk-silo-pods').rules[0].verbs = ['get', 'list', 'watch', 'patch']; }), 'rbac', /delete/));
  it('no RoleBinding for the silo ServiceAccount', async () => expectFinding(await broken('dev', (o) => without(o, (x) => x.kind === 'RoleBinding')), 'rbac', /RoleBinding/));
  it('a RoleBinding subject in another namespace', async () => expectFinding(await broken('dev', (o) => { find(o, 'RoleBinding', 'agentdesk-silo-pods').subjects[0].namespace = 'default'; }), 'rbac'));
  it('a silo pod without a ServiceAccount token', async () => expectFinding(await broken('dev', (o) => { silo(o).spec.template.spec.automountServiceAccountToken = false; }), 'rbac', /token/));
  it('a silo without the orleans/clusterId label', async () => expectFinding(await broken('dev', (o) => { delete silo(o).spec.template.metadata.labels['orleans/clusterId']; }), 'orleans', /orleans\/clusterId/));
  it('POD_IP not from the downward API', async () => expectFinding(await broken('production', (o) => { siloContainer(o).env = siloContainer(o).env.filter((e) => e.name !== 'POD_IP'); }), 'orleans', /POD_IP/));
  it('Kubernetes hosting switched off', async () => expectFinding(await broken('dev', (o) => { siloContainer(o).env.find((e) => e.name === 'AgentDesk__Cluster__Kubernetes').value = 'false'; }), 'orleans', /Kubernetes/));
  it('a silo that migrates on start', async () => expectFinding(await broken('dev', (o) => { siloContainer(o).env.push({ name: 'AgentDesk__Cluster__MigrateOnStart', value: 'true' }); }), 'orleans', /MigrateOnStart/));
  it('too short a grace period for a silo', async () => expectFinding(await broken('production', (o) => { silo(o).spec.template.spec.terminationGracePeriodSeconds = 30; }), 'orleans', /drain/));
  it('gateways on another Orleans cluster', async () => expectFinding(await broken('dev', (o) => { find(o, 'ConfigMap', 'agentdesk-config').data.AgentDesk__Cluster__ClusterId = 'other'; }), 'orleans', /differ/));
  it('a gateway pod with orleans labels', async () => expectFinding(await broken('dev', (o) => { gateway(o).spec.template.metadata.labels['orleans/serviceId'] = 'agentdesk'; }), 'orleans', /non-silo/));
  it('gateway replicas fighting the HPA', async () => expectFinding(await broken('production', (o) => { gateway(o).spec.replicas = 2; }), 'hpa'));
  it('a Service exposing the silo gateway port', async () => expectFinding(await broken('dev', (o) => { find(o, 'Service', 'agentdesk-gateway').spec.ports.push({ name: 'orleans', port: 30000, targetPort: 30000 }); }), 'exposure', /30000/));
  it('a LoadBalancer Service', async () => expectFinding(await broken('production', (o) => { find(o, 'Service', 'agentdesk-gateway').spec.type = 'LoadBalancer'; }), 'exposure', /LoadBalancer/));
  it('no migration Job', async () => expectFinding(await broken('dev', (o) => without(o, (x) => x.kind === 'Job')), 'migration'));
  it('an executor key mounted read-write', async () => expectFinding(await broken('production', (o) => { siloContainer(o).volumeMounts.find((m) => m.name === 'executor-key').readOnly = false; }), 'evm', /read-write/));
  it('an executor key in an environment variable', async () => expectFinding(await broken('production', (o) => { siloContainer(o).env.push({ name: 'AgentDesk__Evm__ExecutorKey', value: '0x00' }); }), 'evm', /file/));
  it('a Secret committed to production', async () => expectFinding(await broken('production', (o) => [...o, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'agentdesk-admin', namespace: 'agentdesk' }, data: { 'admin-key': 'eA==' } }]), 'production', /secret store/));
  it('fewer than 3 production silos', async () => expectFinding(await broken('production', (o) => { silo(o).spec.replicas = 2; }), 'production', /fewer than 3/));
  it('production silos without anti-affinity', async () => expectFinding(await broken('production', (o) => { delete silo(o).spec.template.spec.affinity; }), 'production', /anti-affinity/));
  it('a production Ingress without TLS', async () => expectFinding(await broken('production', (o) => { delete find(o, 'Ingress', 'agentdesk-gateway').spec.tls; }), 'production', /TLS/));
  it('a dev overlay with 3 silos', async () => expectFinding(await broken('dev', (o) => { silo(o).spec.replicas = 3; }), 'dev', /not 2/));
  it('a namespace in the base', () => {
    const objects = copy('base');
    objects[0].metadata.namespace = 'agentdesk';
    expectFinding(baseFindings(objects), 'base', /namespace-agnostic/);
  });
});

describe('compose checks', () => {
  const composeFile = join(repoRoot, 'deploy/compose/compose.yaml');
  const load = () => loadCompose(composeFile);
  const check = (mutate) => {
    const loaded = load();
    mutate(loaded.model);
    return composeFindings(loaded, { composeFile, repoRoot });
  };

  it('pass on compose.yaml as committed', () => assert.deepEqual(check(() => {}), []));
  it('catch an unknown key (Compose schema)', () => expectFinding(check((m) => { m.services.gateway.restart_policy = 'always'; }), 'compose-schema', /restart_policy/));
  it('catch a wrongly typed value (Compose schema)', () => expectFinding(check((m) => { m.services.gateway.ports = '5080:8080'; }), 'compose-schema'));
  it('catch a missing service', () => expectFinding(check((m) => { delete m.services.anvil; }), 'services', /anvil/));
  it('catch silos that do not wait for the migration', () => expectFinding(check((m) => { m.services.silo2.depends_on.migrate.condition = 'service_started'; }), 'depends-on', /migrate/));
  it('catch a gateway that does not wait for healthy silos', () => expectFinding(check((m) => { delete m.services.gateway.depends_on.silo1; }), 'depends-on', /silo1/));
  it('catch waiting for health that is never reported', () => expectFinding(check((m) => { delete m.services.silo1.healthcheck; }), 'depends-on', /no healthcheck/));
  it('catch a long-running service without a healthcheck', () => expectFinding(check((m) => { delete m.services.postgres.healthcheck; }), 'healthcheck', /postgres/));
  it('catch a published silo port', () => expectFinding(check((m) => { m.services.silo1.ports = ['11111:11111']; }), 'exposure', /11111/));
  it('catch an image on :latest', () => expectFinding(check((m) => { m.services.anvil.image = 'ghcr.io/foundry-rs/foundry:latest'; }), 'image-tag'));
  it('catch an anvil command given as one string (Compose splits it)', () => expectFinding(check((m) => { m.services.anvil.command = 'anvil --host 0.0.0.0'; }), 'services', /sh -c/));
  it('catch an anvil command split into words', () => expectFinding(check((m) => { m.services.anvil.command = ['anvil', '--host', '0.0.0.0']; }), 'services', /sh -c/));
  it('catch a silo that cannot drain', () => expectFinding(check((m) => { m.services.silo1.stop_grace_period = '10s'; }), 'shutdown'));
  it('catch a silo advertising the wrong address', () => expectFinding(check((m) => { m.services.silo2.environment.AgentDesk__Cluster__AdvertisedAddress = '127.0.0.1'; }), 'orleans', /advertises/));
  it('catch a migrate service that restarts', () => expectFinding(check((m) => { m.services.migrate.restart = 'always'; }), 'migration'));
  it('catch a build context that is not the repository root', () => expectFinding(check((m) => { m.services.gateway.build.context = '.'; }), 'build'));
  it('catch a collector config without the debug exporter', () => {
    const config = YAML.parse(readFileSync(join(repoRoot, 'deploy/compose/otel-collector.yaml'), 'utf8'));
    assert.deepEqual(collectorConfigFindings(config), []);
    delete config.exporters.debug;
    assert.ok(collectorConfigFindings(config).some((f) => /debug/.test(f.message)));
  });
});

describe('Dockerfile checks', () => {
  const silo = readFileSync(join(repoRoot, 'deploy/docker/silo.Dockerfile'), 'utf8');
  const gatewayFile = readFileSync(join(repoRoot, 'deploy/docker/gateway.Dockerfile'), 'utf8');
  const check = (text, project = 'AgentDesk.Silo') => dockerfileFindings(text, { project, where: 'test' });

  it('pass on the committed Dockerfiles', () => {
    assert.deepEqual(check(silo), []);
    assert.deepEqual(check(gatewayFile, 'AgentDesk.Gateway'), []);
  });
  it('catch a missing USER', () => expectFinding(check(silo.replace(/^USER .*$/m, '')), 'non-root', /no USER/));
  it('catch USER root', () => expectFinding(check(silo.replace(/^USER .*$/m, 'USER root')), 'non-root', /root/));
  it('catch an SDK final stage', () => expectFinding(check(silo.replace('FROM mcr.microsoft.com/dotnet/aspnet:10.0', 'FROM mcr.microsoft.com/dotnet/sdk:10.0')), 'stages', /aspnet/));
  it('catch a single stage', () => expectFinding(check(silo.slice(0, silo.indexOf('FROM mcr.microsoft.com/dotnet/aspnet'))), 'multi-stage'));
  it('catch a base image on :latest', () => expectFinding(check(silo.replace('aspnet:10.0', 'aspnet:latest')), 'image-tag'));
  it('catch a Debug publish', () => expectFinding(check(silo.replace('-c Release', '-c Debug')), 'publish', /Release/));
  it('catch a shell-form ENTRYPOINT', () => expectFinding(check(silo.replace('ENTRYPOINT ["dotnet", "AgentDesk.Silo.dll"]', 'ENTRYPOINT dotnet AgentDesk.Silo.dll')), 'entrypoint', /SIGTERM/));
  it('catch a final stage that copies nothing from the build', () => expectFinding(check(silo.replace('COPY --from=build /app ./', 'COPY src/ ./')), 'stages', /COPY --from/));
});

describe('.dockerignore checks', () => {
  const ignore = readFileSync(join(repoRoot, '.dockerignore'), 'utf8');
  it('pass on the committed .dockerignore', () => assert.deepEqual(dockerignoreFindings(ignore), []));
  it('catch bin/ that only matches the root (not **/bin/)', () => expectFinding(dockerignoreFindings(ignore.replace('**/bin/', 'bin/')), 'dockerignore', /bin\/Release/));
  it('catch a missing node_modules rule', () => expectFinding(dockerignoreFindings(ignore.replace('**/node_modules/', '')), 'dockerignore', /node_modules/));
  it('catch excluding what the build needs', () => expectFinding(dockerignoreFindings(`${ignore}\ndeploy/sql/\n`), 'dockerignore', /deploy\/sql/));
  it('catch a missing .dockerignore', () => expectFinding(dockerignoreFindings(null), 'dockerignore'));
});
