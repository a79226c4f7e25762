// Kubernetes checks: render an overlay with `kubectl kustomize`, validate every object against the
// Kubernetes schemas (strict), then check AgentDesk's own rules on the rendered objects.
import { execFileSync } from 'node:child_process';
import YAML from 'yaml';
import { validateObject } from './strict-schema.mjs';

/** Renders a kustomization directory. Throws with kubectl's message when it cannot. */
export function render(dir) {
  let out;
  try {
    out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  } catch (error) {
    const detail = error.stderr?.toString().trim() || error.message;
    throw new Error(`kubectl kustomize ${dir} failed: ${detail}`);
  }
  const docs = YAML.parseAllDocuments(out);
  const broken = docs.find((d) => d.errors.length > 0);
  if (broken) throw new Error(`kubectl kustomize ${dir} printed YAML that does not parse: ${broken.errors[0].message}`);
  return docs.map((d) => d.toJS()).filter((o) => o !== null && o !== undefined);
}

// ---------------------------------------------------------------------------------------------
// Helpers over rendered objects

export const idOf = (o) => `${o?.kind ?? '?'}/${o?.metadata?.name ?? '?'}`;

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob']);
const LONG_RUNNING = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

export function workloads(objects) {
  return objects
    .filter((o) => WORKLOAD_KINDS.has(o.kind))
    .map((o) => {
      const template = o.kind === 'CronJob' ? o.spec?.jobTemplate?.spec?.template : o.spec?.template;
      return { object: o, pod: template?.spec ?? {}, labels: template?.metadata?.labels ?? {} };
    });
}

const containersOf = (pod) => [
  ...(pod.initContainers ?? []).map((c) => ({ container: c, init: true })),
  ...(pod.containers ?? []).map((c) => ({ container: c, init: false })),
];

export function selectorMatches(selector, labels) {
  if (!selector) return false;
  const matchLabels = selector.matchLabels ?? {};
  const expressions = selector.matchExpressions ?? [];
  if (Object.keys(matchLabels).length === 0 && expressions.length === 0) return true;
  for (const [k, v] of Object.entries(matchLabels)) if (labels[k] !== v) return false;
  for (const e of expressions) {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key];
    if (e.operator === 'In' && !(has && e.values.includes(value))) return false;
    if (e.operator === 'NotIn' && has && e.values.includes(value)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

const component = (w) => w.labels['app.kubernetes.io/component'];
const byComponent = (objects, name) => workloads(objects).filter((w) => component(w) === name && w.object.kind === 'Deployment');

/** The environment a container sees: envFrom ConfigMaps/Secrets first, then env entries (which win). */
export function effectiveEnv(container, objects) {
  const env = new Map();
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) {
      const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata?.name === from.configMapRef.name);
      for (const [k, v] of Object.entries(cm?.data ?? {})) env.set((from.prefix ?? '') + k, { value: String(v), source: `configMap ${from.configMapRef.name}` });
    }
    if (from.secretRef) {
      const secret = objects.find((o) => o.kind === 'Secret' && o.metadata?.name === from.secretRef.name);
      for (const k of Object.keys({ ...(secret?.data ?? {}), ...(secret?.stringData ?? {}) })) env.set((from.prefix ?? '') + k, { secret: from.secretRef.name, source: `secret ${from.secretRef.name}` });
    }
  }
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env.set(e.name, { value: String(e.value), source: 'env' });
    else if (e.valueFrom?.fieldRef) env.set(e.name, { fieldRef: e.valueFrom.fieldRef.fieldPath, source: 'env' });
    else if (e.valueFrom?.secretKeyRef) env.set(e.name, { secret: e.valueFrom.secretKeyRef.name, key: e.valueFrom.secretKeyRef.key, source: 'env' });
    else if (e.valueFrom?.configMapKeyRef) {
      const ref = e.valueFrom.configMapKeyRef;
      const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata?.name === ref.name);
      env.set(e.name, { value: cm?.data?.[ref.key], configMap: ref.name, source: 'env' });
    } else env.set(e.name, { value: '', source: 'env' });
  }
  return env;
}

/** The value an env var takes in a pod with these labels (follows fieldRef to metadata.labels['x']). */
function resolvedValue(entry, podLabels) {
  if (!entry) return undefined;
  if (entry.value !== undefined) return entry.value;
  const label = /^metadata\.labels\['(.+)'\]$/.exec(entry.fieldRef ?? '');
  if (label) return podLabels[label[1]];
  return undefined;
}

function imageProblem(image) {
  if (!image) return 'has no image';
  if (image.includes('@sha256:')) return null;
  const lastSegment = image.split('/').pop();
  if (!lastSegment.includes(':')) return `image "${image}" has no tag (it would mean :latest)`;
  if (lastSegment.endsWith(':latest')) return `image "${image}" uses the :latest tag`;
  return null;
}

// ---------------------------------------------------------------------------------------------
// The checks. Each returns findings: { where, rule, message }.

/** Schema validation of every object, strict about unknown fields. */
export async function schemaFindings(objects) {
  const findings = [];
  for (const o of objects) {
    for (const message of await validateObject(o)) findings.push({ where: idOf(o), rule: 'schema', message });
  }
  return findings;
}

/** Rules for every container of every workload. */
export function containerFindings(objects) {
  const findings = [];
  for (const w of workloads(objects)) {
    const podSecurity = w.pod.securityContext ?? {};
    for (const { container: c, init } of containersOf(w.pod)) {
      const where = `${idOf(w.object)} container ${c.name}`;
      const add = (rule, message) => findings.push({ where, rule, message });

      const image = imageProblem(c.image);
      if (image) add('image-tag', image);

      const r = c.resources ?? {};
      for (const [section, key] of [['requests', 'cpu'], ['requests', 'memory'], ['limits', 'memory']]) {
        if (r[section]?.[key] === undefined) add('resources', `resources.${section}.${key} is not set`);
      }

      if (LONG_RUNNING.has(w.object.kind) && !init) {
        if (!c.readinessProbe) add('probes', 'has no readinessProbe');
        if (!c.livenessProbe) add('probes', 'has no livenessProbe');
      }

      const sc = c.securityContext ?? {};
      const nonRoot = sc.runAsNonRoot ?? podSecurity.runAsNonRoot;
      if (nonRoot !== true) add('non-root', 'runAsNonRoot is not true (container or pod securityContext)');
      if ((sc.runAsUser ?? podSecurity.runAsUser) === 0) add('non-root', 'runs as UID 0');
      if (sc.privileged === true) add('security-context', 'is privileged');
      if (sc.allowPrivilegeEscalation !== false) add('security-context', 'allowPrivilegeEscalation is not false');
      if (!(sc.capabilities?.drop ?? []).includes('ALL')) add('security-context', 'does not drop ALL capabilities');
      if (sc.readOnlyRootFilesystem !== true) add('security-context', 'readOnlyRootFilesystem is not true');
    }
  }
  return findings;
}

/** Every Secret, ConfigMap and ServiceAccount a pod refers to must exist in the render (where it should). */
export function referenceFindings(objects, { secretsInRender }) {
  const findings = [];
  const has = (kind, name) => objects.some((o) => o.kind === kind && o.metadata?.name === name);
  const secretKeys = (name) => {
    const s = objects.find((o) => o.kind === 'Secret' && o.metadata?.name === name);
    return new Set(Object.keys({ ...(s?.data ?? {}), ...(s?.stringData ?? {}) }));
  };
  const configKeys = (name) => {
    const c = objects.find((o) => o.kind === 'ConfigMap' && o.metadata?.name === name);
    return new Set(Object.keys({ ...(c?.data ?? {}), ...(c?.binaryData ?? {}) }));
  };
  const secretRef = (where, name, key) => {
    if (!secretsInRender) return;
    if (!has('Secret', name)) findings.push({ where, rule: 'secret-exists', message: `refers to Secret "${name}", which the overlay does not define` });
    else if (key && !secretKeys(name).has(key)) findings.push({ where, rule: 'secret-exists', message: `refers to key "${key}" of Secret "${name}", which has no such key` });
  };
  const configRef = (where, name, key, optional) => {
    if (optional) return;
    if (!has('ConfigMap', name)) findings.push({ where, rule: 'configmap-exists', message: `refers to ConfigMap "${name}", which the overlay does not define` });
    else if (key && !configKeys(name).has(key)) findings.push({ where, rule: 'configmap-exists', message: `refers to key "${key}" of ConfigMap "${name}", which has no such key` });
  };

  for (const w of workloads(objects)) {
    const podWhere = idOf(w.object);
    for (const { container: c } of containersOf(w.pod)) {
      const where = `${podWhere} container ${c.name}`;
      for (const e of c.env ?? []) {
        const s = e.valueFrom?.secretKeyRef;
        if (s && !s.optional) secretRef(where, s.name, s.key);
        const m = e.valueFrom?.configMapKeyRef;
        if (m) configRef(where, m.name, m.key, m.optional);
      }
      for (const from of c.envFrom ?? []) {
        if (from.secretRef && !from.secretRef.optional) secretRef(where, from.secretRef.name);
        if (from.configMapRef) configRef(where, from.configMapRef.name, undefined, from.configMapRef.optional);
      }
    }
    for (const v of w.pod.volumes ?? []) {
      if (v.secret && !v.secret.optional) for (const item of v.secret.items ?? [{}]) secretRef(`${podWhere} volume ${v.name}`, v.secret.secretName, item.key);
      if (v.configMap) for (const item of v.configMap.items ?? [{}]) configRef(`${podWhere} volume ${v.name}`, v.configMap.name, item.key, v.configMap.optional);
      for (const source of v.projected?.sources ?? []) {
        if (source.secret && !source.secret.optional) secretRef(`${podWhere} volume ${v.name}`, source.secret.name);
        if (source.configMap) configRef(`${podWhere} volume ${v.name}`, source.configMap.name, undefined, source.configMap.optional);
      }
    }
    for (const pull of w.pod.imagePullSecrets ?? []) secretRef(podWhere, pull.name);
    const sa = w.pod.serviceAccountName;
    if (sa && sa !== 'default' && !has('ServiceAccount', sa)) findings.push({ where: podWhere, rule: 'serviceaccount-exists', message: `uses ServiceAccount "${sa}", which the overlay does not define` });
  }
  return findings;
}

/** Silo ports private to silos and gateways, health port open in-cluster, gateway HTTP from the ingress. */
export function networkPolicyFindings(objects) {
  const findings = [];
  const add = (where, message) => findings.push({ where, rule: 'network-policy', message });
  const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
  const silos = byComponent(objects, 'silo');
  const gateways = byComponent(objects, 'gateway');
  if (policies.length === 0) add('overlay', 'renders no NetworkPolicy');

  const portOf = (p) => Number(p.port);
  const siloOrGateway = (peer) => {
    if (peer.ipBlock || peer.namespaceSelector || !peer.podSelector) return false;
    const sel = peer.podSelector;
    // The peer must select only silo or gateway pods: it has to pin the component label to those values.
    const pinned = sel.matchLabels?.['app.kubernetes.io/component'];
    if (pinned) return pinned === 'silo' || pinned === 'gateway';
    const expr = (sel.matchExpressions ?? []).find((e) => e.key === 'app.kubernetes.io/component' && e.operator === 'In');
    return !!expr && expr.values.every((v) => v === 'silo' || v === 'gateway');
  };

  for (const silo of silos) {
    const governing = policies.filter((p) => (p.spec?.policyTypes ?? ['Ingress']).includes('Ingress') && selectorMatches(p.spec?.podSelector, silo.labels));
    if (governing.length === 0) {
      add(idOf(silo.object), 'no NetworkPolicy restricts ingress to the silo pods');
      continue;
    }
    let healthOpen = false;
    for (const p of governing) {
      for (const [i, rule] of (p.spec.ingress ?? []).entries()) {
        const ports = (rule.ports ?? []).map(portOf);
        const coversAll = !rule.ports || rule.ports.length === 0;
        const touchesSiloPorts = coversAll || ports.includes(11111) || ports.includes(30000);
        if (touchesSiloPorts) {
          const from = rule.from ?? [];
          if (from.length === 0 || !from.every(siloOrGateway)) {
            add(`${idOf(p)} ingress[${i}]`, `opens ${coversAll ? 'every port' : 'silo port 11111/30000'} of the silos to peers other than silo and gateway pods`);
          }
        }
        if ((coversAll || ports.includes(8080)) && (rule.from ?? []).some((peer) => peer.namespaceSelector && Object.keys(peer.namespaceSelector).length === 0 && !peer.podSelector)) healthOpen = true;
      }
    }
    if (!healthOpen) add(idOf(silo.object), 'no NetworkPolicy rule opens the silo health port 8080 to the whole cluster (namespaceSelector: {})');
  }

  for (const gateway of gateways) {
    const governing = policies.filter((p) => (p.spec?.policyTypes ?? ['Ingress']).includes('Ingress') && selectorMatches(p.spec?.podSelector, gateway.labels));
    if (governing.length === 0) {
      add(idOf(gateway.object), 'no NetworkPolicy restricts ingress to the gateway pods');
      continue;
    }
    const fromIngress = governing.some((p) => (p.spec.ingress ?? []).some((rule) =>
      (rule.ports ?? []).some((port) => portOf(port) === 8080 || port.port === 'http') &&
      (rule.from ?? []).some((peer) => peer.namespaceSelector && Object.keys(peer.namespaceSelector.matchLabels ?? {}).length > 0)));
    if (!fromIngress) add(idOf(gateway.object), 'no NetworkPolicy rule lets the ingress controller\'s namespace reach the gateway on 8080');
  }
  return findings;
}

/** Every long-running workload is covered by a PodDisruptionBudget. */
export function pdbFindings(objects) {
  const pdbs = objects.filter((o) => o.kind === 'PodDisruptionBudget');
  const findings = [];
  for (const w of workloads(objects).filter((w) => LONG_RUNNING.has(w.object.kind))) {
    if (!pdbs.some((p) => selectorMatches(p.spec?.selector, w.labels))) findings.push({ where: idOf(w.object), rule: 'pdb', message: 'no PodDisruptionBudget selects its pods' });
  }
  if (byComponent(objects, 'silo').length === 0) findings.push({ where: 'overlay', rule: 'pdb', message: 'renders no silo Deployment' });
  if (byComponent(objects, 'gateway').length === 0) findings.push({ where: 'overlay', rule: 'pdb', message: 'renders no gateway Deployment' });
  return findings;
}

const ORLEANS_VERBS = ['get', 'list', 'watch', 'patch', 'delete'];

/** The silo's ServiceAccount may get/list/watch/patch/delete pods in its namespace (Orleans Kubernetes hosting). */
export function rbacFindings(objects) {
  const findings = [];
  for (const silo of byComponent(objects, 'silo')) {
    const where = idOf(silo.object);
    const add = (message) => findings.push({ where, rule: 'rbac', message });
    const saName = silo.pod.serviceAccountName ?? 'default';
    const sa = objects.find((o) => o.kind === 'ServiceAccount' && o.metadata?.name === saName);
    if (silo.pod.automountServiceAccountToken === false || (silo.pod.automountServiceAccountToken === undefined && sa?.automountServiceAccountToken === false)) {
      add('the silo pod gets no ServiceAccount token, so the Orleans Kubernetes hosting cannot reach the API server');
    }
    const namespace = silo.object.metadata?.namespace;
    const bindings = objects.filter((o) => o.kind === 'RoleBinding' && (o.subjects ?? []).some((s) => s.kind === 'ServiceAccount' && s.name === saName && (namespace ? s.namespace === namespace : true)));
    const granted = new Set();
    for (const b of bindings) {
      const role = objects.find((o) => o.kind === b.roleRef?.kind && o.metadata?.name === b.roleRef?.name);
      for (const rule of role?.rules ?? []) {
        if ((rule.apiGroups ?? []).includes('') && (rule.resources ?? []).some((r) => r === 'pods' || r === '*')) {
          for (const verb of rule.verbs ?? []) granted.add(verb);
        }
      }
    }
    const missing = ORLEANS_VERBS.filter((v) => !granted.has(v) && !granted.has('*'));
    if (bindings.length === 0) add(`no RoleBinding (with the subject's namespace set) binds ServiceAccount "${saName}"`);
    else if (missing.length > 0) add(`ServiceAccount "${saName}" may not ${missing.join('/')} pods (Orleans Kubernetes hosting needs ${ORLEANS_VERBS.join(', ')})`);
  }
  return findings;
}

/** What the silo needs from its pod: labels, downward API, cluster settings, probes, time to drain. */
export function orleansFindings(objects) {
  const findings = [];
  const silos = byComponent(objects, 'silo');
  for (const silo of silos) {
    const where = idOf(silo.object);
    const add = (message) => findings.push({ where, rule: 'orleans', message });
    const serviceId = silo.labels['orleans/serviceId'];
    const clusterId = silo.labels['orleans/clusterId'];
    if (!serviceId) add('pod template has no orleans/serviceId label');
    if (!clusterId) add('pod template has no orleans/clusterId label');
    const c = (silo.pod.containers ?? [])[0] ?? {};
    const env = effectiveEnv(c, objects);
    const expectField = (name, fieldPath) => {
      if (env.get(name)?.fieldRef !== fieldPath) add(`env ${name} must come from the downward API (fieldRef ${fieldPath})`);
    };
    expectField('POD_NAME', 'metadata.name');
    expectField('POD_NAMESPACE', 'metadata.namespace');
    expectField('POD_IP', 'status.podIP');
    expectField('AgentDesk__Cluster__AdvertisedAddress', 'status.podIP');
    const value = (name) => resolvedValue(env.get(name), silo.labels);
    if (value('AgentDesk__Cluster__Mode') !== 'Postgres') add('AgentDesk__Cluster__Mode is not Postgres');
    if (value('AgentDesk__Cluster__Kubernetes') !== 'true') add('AgentDesk__Cluster__Kubernetes is not "true"');
    if (value('AgentDesk__Cluster__MigrateOnStart') !== 'false') add('AgentDesk__Cluster__MigrateOnStart is not "false" (the migration Job owns the schema)');
    if (value('AgentDesk__Cluster__SiloPort') !== '11111') add('AgentDesk__Cluster__SiloPort is not 11111');
    if (value('AgentDesk__Cluster__GatewayPort') !== '30000') add('AgentDesk__Cluster__GatewayPort is not 30000');
    if (value('AgentDesk__Silo__HealthPort') !== '8080') add('AgentDesk__Silo__HealthPort is not 8080');
    if (!env.get('AgentDesk__Cluster__ConnectionString')?.secret) add('AgentDesk__Cluster__ConnectionString does not come from a Secret');
    if (value('AgentDesk__Cluster__ServiceId') !== serviceId) add(`AgentDesk__Cluster__ServiceId (${value('AgentDesk__Cluster__ServiceId')}) differs from the orleans/serviceId label (${serviceId})`);
    if (value('AgentDesk__Cluster__ClusterId') !== clusterId) add(`AgentDesk__Cluster__ClusterId (${value('AgentDesk__Cluster__ClusterId')}) differs from the orleans/clusterId label (${clusterId})`);
    for (const orleansVar of ['ORLEANS_SERVICE_ID', 'ORLEANS_CLUSTER_ID']) {
      const v = value(orleansVar);
      const expected = orleansVar === 'ORLEANS_SERVICE_ID' ? serviceId : clusterId;
      if (v !== undefined && v !== expected) add(`${orleansVar} (${v}) differs from the pod label (${expected})`);
    }
    if (c.readinessProbe?.httpGet?.path !== '/health/ready') add('readinessProbe is not GET /health/ready');
    if (c.livenessProbe?.httpGet?.path !== '/health/live') add('livenessProbe is not GET /health/live');
    const grace = silo.pod.terminationGracePeriodSeconds ?? 30;
    if (grace < 60) add(`terminationGracePeriodSeconds is ${grace}: a silo needs 60 s or more to drain`);
    const hostTimeout = Number(value('DOTNET_shutdownTimeoutSeconds') ?? 30);
    if (hostTimeout >= grace) add(`the host's shutdown timeout (${hostTimeout} s) is not shorter than terminationGracePeriodSeconds (${grace} s)`);
    if (c.lifecycle?.preStop) add('has a preStop hook: the silo drains on SIGTERM alone');
    if (silo.object.spec?.strategy?.rollingUpdate?.maxUnavailable !== 0) add('rolling updates may take a silo away before its replacement is ready (set maxUnavailable: 0)');

    // The gateways must talk to the same Orleans service and cluster.
    for (const gateway of byComponent(objects, 'gateway')) {
      const genv = effectiveEnv((gateway.pod.containers ?? [])[0] ?? {}, objects);
      const gv = (name) => resolvedValue(genv.get(name), gateway.labels) ?? 'agentdesk';
      if (gv('AgentDesk__Cluster__ServiceId') !== serviceId || gv('AgentDesk__Cluster__ClusterId') !== clusterId) {
        findings.push({ where: idOf(gateway.object), rule: 'orleans', message: `gateway ServiceId/ClusterId (${gv('AgentDesk__Cluster__ServiceId')}/${gv('AgentDesk__Cluster__ClusterId')}) differ from the silos' labels (${serviceId}/${clusterId})` });
      }
    }
  }
  for (const w of workloads(objects)) {
    if (component(w) === 'silo') continue;
    if (w.labels['orleans/serviceId'] || w.labels['orleans/clusterId']) {
      findings.push({ where: idOf(w.object), rule: 'orleans', message: 'a non-silo pod carries orleans/* labels: the silos would take it for a silo without membership' });
    }
  }
  return findings;
}

/** Gateway settings, and that nothing but the gateway's HTTP port is exposed. */
export function gatewayFindings(objects) {
  const findings = [];
  const add = (where, rule, message) => findings.push({ where, rule, message });
  const gateways = byComponent(objects, 'gateway');
  for (const gateway of gateways) {
    const where = idOf(gateway.object);
    const c = (gateway.pod.containers ?? [])[0] ?? {};
    const env = effectiveEnv(c, objects);
    if (env.get('ASPNETCORE_URLS')?.value !== 'http://+:8080') add(where, 'gateway', 'ASPNETCORE_URLS is not http://+:8080');
    if (!env.get('AgentDesk__Auth__AdminKey')?.secret) add(where, 'gateway', 'AgentDesk__Auth__AdminKey does not come from a Secret');
    if (!env.get('AgentDesk__Cluster__ConnectionString')?.secret) add(where, 'gateway', 'AgentDesk__Cluster__ConnectionString does not come from a Secret');
    if (resolvedValue(env.get('AgentDesk__Cluster__Mode'), gateway.labels) !== 'Postgres') add(where, 'gateway', 'AgentDesk__Cluster__Mode is not Postgres');
    if (c.readinessProbe?.httpGet?.path !== '/health/ready') add(where, 'gateway', 'readinessProbe is not GET /health/ready');
    if (c.livenessProbe?.httpGet?.path !== '/health/live') add(where, 'gateway', 'livenessProbe is not GET /health/live');
    const services = objects.filter((o) => o.kind === 'Service' && o.spec?.selector && selectorMatches({ matchLabels: o.spec.selector }, gateway.labels));
    if (services.length === 0) add(where, 'gateway', 'no Service selects the gateway pods');
    const hpas = objects.filter((o) => o.kind === 'HorizontalPodAutoscaler' && o.spec?.scaleTargetRef?.kind === 'Deployment' && o.spec.scaleTargetRef.name === gateway.object.metadata.name);
    for (const hpa of hpas) {
      if (hpa.apiVersion !== 'autoscaling/v2') add(idOf(hpa), 'hpa', `uses ${hpa.apiVersion}, not autoscaling/v2`);
      if (!(hpa.spec.metrics ?? []).some((m) => m.type === 'Resource' && m.resource?.name === 'cpu')) add(idOf(hpa), 'hpa', 'does not scale on CPU');
      if (gateway.object.spec?.replicas !== undefined) add(where, 'hpa', 'sets spec.replicas although an HPA scales it (every apply would reset the count)');
    }
  }
  for (const s of objects.filter((o) => o.kind === 'Service')) {
    for (const p of s.spec?.ports ?? []) {
      if ([11111, 30000].includes(Number(p.port)) || [11111, 30000, 'silo', 'orleans-gw'].includes(p.targetPort)) add(idOf(s), 'exposure', `exposes silo port ${p.port}: silo ports stay private`);
    }
    if (['NodePort', 'LoadBalancer'].includes(s.spec?.type)) add(idOf(s), 'exposure', `is of type ${s.spec.type}: only the Ingress exposes AgentDesk`);
  }
  const gatewayServices = new Set(objects.filter((o) => o.kind === 'Service' && gateways.some((g) => o.spec?.selector && selectorMatches({ matchLabels: o.spec.selector }, g.labels))).map((o) => o.metadata.name));
  const ingresses = objects.filter((o) => o.kind === 'Ingress');
  if (ingresses.length === 0) add('overlay', 'exposure', 'renders no Ingress for the gateway');
  for (const ing of ingresses) {
    const backends = [ing.spec?.defaultBackend, ...(ing.spec?.rules ?? []).flatMap((r) => (r.http?.paths ?? []).map((p) => p.backend))].filter(Boolean);
    for (const b of backends) if (!gatewayServices.has(b.service?.name)) add(idOf(ing), 'exposure', `routes to "${b.service?.name}", which is not the gateway Service`);
  }
  return findings;
}

/** A Job runs `dotnet AgentDesk.Silo.dll migrate` with the silo image. */
export function migrationFindings(objects) {
  const silo = byComponent(objects, 'silo')[0];
  const siloImage = silo?.pod.containers?.[0]?.image;
  const jobs = workloads(objects).filter((w) => w.object.kind === 'Job');
  const migrate = jobs.find((j) => (j.pod.containers ?? []).some((c) => [...(c.command ?? []), ...(c.args ?? [])].includes('migrate')));
  if (!migrate) return [{ where: 'overlay', rule: 'migration', message: 'no Job runs `dotnet AgentDesk.Silo.dll migrate`' }];
  const findings = [];
  const c = migrate.pod.containers.find((x) => [...(x.command ?? []), ...(x.args ?? [])].includes('migrate'));
  if (siloImage && c.image !== siloImage) findings.push({ where: idOf(migrate.object), rule: 'migration', message: `runs image ${c.image}, not the silo's ${siloImage}` });
  const env = effectiveEnv(c, objects);
  if (!env.get('AgentDesk__Cluster__ConnectionString')?.secret) findings.push({ where: idOf(migrate.object), rule: 'migration', message: 'AgentDesk__Cluster__ConnectionString does not come from a Secret' });
  if (resolvedValue(env.get('AgentDesk__Cluster__Mode'), migrate.labels) !== 'Postgres') findings.push({ where: idOf(migrate.object), rule: 'migration', message: 'AgentDesk__Cluster__Mode is not Postgres' });
  if (migrate.pod.restartPolicy === 'Always') findings.push({ where: idOf(migrate.object), rule: 'migration', message: 'restartPolicy Always is invalid for a Job' });
  return findings;
}

/** The EVM venue, where enabled: key as a read-only Secret file, never an env var; addresses from a ConfigMap. */
export function evmFindings(objects) {
  const findings = [];
  for (const w of workloads(objects)) {
    for (const { container: c } of containersOf(w.pod)) {
      const where = `${idOf(w.object)} container ${c.name}`;
      const env = effectiveEnv(c, objects);
      for (const name of env.keys()) {
        if (/private.?key|executor.?key$/i.test(name)) findings.push({ where, rule: 'evm', message: `env ${name} carries a key: mount it as a file instead` });
      }
      if (resolvedValue(env.get('AgentDesk__Venue__Kind'), w.labels) !== 'Evm') continue;
      const mountOf = (file) => (c.volumeMounts ?? []).find((m) => file?.startsWith(m.mountPath.replace(/\/?$/, '/')));
      const volumeOf = (mount) => (w.pod.volumes ?? []).find((v) => v.name === mount?.name);
      const keyFile = resolvedValue(env.get('AgentDesk__Evm__ExecutorKeyFile'), w.labels);
      const keyMount = mountOf(keyFile);
      if (!keyFile) findings.push({ where, rule: 'evm', message: 'AgentDesk__Evm__ExecutorKeyFile is not set' });
      else if (!keyMount || !volumeOf(keyMount)?.secret) findings.push({ where, rule: 'evm', message: `${keyFile} is not on a Secret volume` });
      else if (keyMount.readOnly !== true) findings.push({ where, rule: 'evm', message: `${keyFile} is mounted read-write` });
      const deployments = resolvedValue(env.get('AgentDesk__Evm__DeploymentsFile'), w.labels);
      const depMount = mountOf(deployments);
      if (!deployments) findings.push({ where, rule: 'evm', message: 'AgentDesk__Evm__DeploymentsFile is not set' });
      else if (!depMount || !volumeOf(depMount)?.configMap) findings.push({ where, rule: 'evm', message: `${deployments} is not on a ConfigMap volume` });
      for (const name of ['AgentDesk__Evm__RpcUrl', 'AgentDesk__Evm__ChainId']) if (!env.get(name)) findings.push({ where, rule: 'evm', message: `${name} is not set` });
    }
  }
  return findings;
}

/** The base stays namespace-agnostic and creates no Secret. */
export function baseFindings(objects) {
  const findings = [];
  for (const o of objects) {
    if (o.metadata?.namespace) findings.push({ where: idOf(o), rule: 'base', message: `sets namespace "${o.metadata.namespace}": the base is namespace-agnostic` });
    if (o.kind === 'Namespace') findings.push({ where: idOf(o), rule: 'base', message: 'the base creates no Namespace' });
    if (o.kind === 'Secret') findings.push({ where: idOf(o), rule: 'base', message: 'the base creates no Secret: it refers to them by name' });
  }
  return findings;
}

/** What distinguishes the dev overlay. */
export function devFindings(objects) {
  const findings = [];
  const add = (message) => findings.push({ where: 'overlay dev', rule: 'dev', message });
  const silo = byComponent(objects, 'silo')[0];
  if (silo && silo.object.spec?.replicas !== 2) add(`runs ${silo.object.spec?.replicas ?? 1} silos, not 2`);
  const gateway = byComponent(objects, 'gateway')[0];
  if (gateway && (gateway.object.spec?.replicas ?? 1) !== 1) add('runs more than 1 gateway');
  if (objects.some((o) => o.kind === 'HorizontalPodAutoscaler')) add('has an HPA: dev runs exactly 1 gateway');
  const postgres = objects.find((o) => o.kind === 'StatefulSet' && /postgres/.test(o.spec?.template?.spec?.containers?.[0]?.image ?? ''));
  if (!postgres) add('has no in-cluster PostgreSQL StatefulSet');
  if (!objects.some((o) => o.kind === 'Secret')) add('generates no Secrets');
  return findings;
}

/** What distinguishes the production overlay. */
export function productionFindings(objects) {
  const findings = [];
  const add = (message) => findings.push({ where: 'overlay production', rule: 'production', message });
  for (const s of objects.filter((o) => o.kind === 'Secret')) add(`renders ${idOf(s)}: production Secrets come from the operator's secret store, never from the repository`);
  const silo = byComponent(objects, 'silo')[0];
  if (silo && (silo.object.spec?.replicas ?? 1) < 3) add(`runs ${silo.object.spec?.replicas ?? 1} silos, fewer than 3`);
  if (silo && !silo.pod.affinity?.podAntiAffinity && !(silo.pod.topologySpreadConstraints ?? []).some((t) => t.topologyKey === 'kubernetes.io/hostname')) add('silos have no pod anti-affinity');
  const gateway = byComponent(objects, 'gateway')[0];
  if (gateway && !gateway.pod.affinity?.podAntiAffinity && !(gateway.pod.topologySpreadConstraints ?? []).some((t) => t.topologyKey === 'kubernetes.io/hostname')) add('gateways have no pod anti-affinity');
  const hpa = objects.find((o) => o.kind === 'HorizontalPodAutoscaler' && o.spec?.scaleTargetRef?.name === gateway?.object.metadata.name);
  if (!hpa) add('has no HPA for the gateways');
  else if ((hpa.spec.minReplicas ?? 1) < 2) add('the gateway HPA allows fewer than 2 gateways');
  if (objects.some((o) => o.kind === 'StatefulSet' && /postgres/.test(o.spec?.template?.spec?.containers?.[0]?.image ?? ''))) add('runs PostgreSQL in the cluster: production uses an external PostgreSQL');
  for (const ing of objects.filter((o) => o.kind === 'Ingress')) {
    if (!(ing.spec?.rules ?? []).every((r) => r.host)) add(`${idOf(ing)} has a rule without a host`);
    if (!(ing.spec?.tls ?? []).length) add(`${idOf(ing)} has no TLS`);
  }
  return findings;
}

/** The secrets a render refers to (for the report). */
export function referencedSecrets(objects) {
  const names = new Set();
  for (const w of workloads(objects)) {
    for (const { container: c } of containersOf(w.pod)) {
      for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef) names.add(e.valueFrom.secretKeyRef.name);
      for (const f of c.envFrom ?? []) if (f.secretRef) names.add(f.secretRef.name);
    }
    for (const v of w.pod.volumes ?? []) if (v.secret) names.add(v.secret.secretName);
  }
  for (const ing of objects.filter((o) => o.kind === 'Ingress')) for (const t of ing.spec?.tls ?? []) if (t.secretName) names.add(t.secretName);
  return [...names].sort();
}

/** All checks of a rendered overlay. */
export async function overlayFindings(objects, overlay) {
  const secretsInRender = overlay !== 'production';
  const rules = [
    containerFindings,
    (o) => referenceFindings(o, { secretsInRender }),
    networkPolicyFindings,
    pdbFindings,
    rbacFindings,
    orleansFindings,
    gatewayFindings,
    migrationFindings,
    evmFindings,
    ...(overlay === 'dev' ? [devFindings] : []),
    ...(overlay === 'production' ? [productionFindings] : []),
  ];
  const findings = await schemaFindings(objects);
  for (const rule of rules) {
    try {
      findings.push(...rule(objects));
    } catch (error) {
      // Objects the schema already rejected can trip a rule; report it rather than stop.
      findings.push({ where: 'overlay', rule: 'rules', message: `${rule.name || 'a rule'} could not run (${error.message}); fix the schema findings first` });
    }
  }
  return findings;
}
