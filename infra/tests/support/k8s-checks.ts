import path from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { BILLING_WORKER_HEALTH_PORT, PORTAL_PORT, nodeServices, requiredEnv } from './conventions';
import { asArray, asObject, asString, isObject, type Json, type JsonObject } from './yaml-files';

type Model = new (data: never) => { validate(): void };

/** The kinds Tollgate's manifests may use, each with its `kubernetes-models` class (OpenAPI schema). */
const models: Readonly<Record<string, Model>> = {
  'v1/Namespace': Namespace as unknown as Model,
  'v1/ConfigMap': ConfigMap as unknown as Model,
  'v1/Secret': Secret as unknown as Model,
  'v1/Service': Service as unknown as Model,
  'apps/v1/Deployment': Deployment as unknown as Model,
  'batch/v1/Job': Job as unknown as Model,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler as unknown as Model,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget as unknown as Model,
  'networking.k8s.io/v1/Ingress': Ingress as unknown as Model,
};

export interface K8sObject extends JsonObject {
  apiVersion: string;
  kind: string;
}

export const isK8sObject = (v: unknown): v is K8sObject =>
  isObject(v) && typeof v['apiVersion'] === 'string' && typeof v['kind'] === 'string';

export const nameOf = (o: JsonObject): string => asString(asObject(o['metadata'])['name']) ?? '';

export const describe_ = (o: K8sObject): string => `${o.kind}/${nameOf(o)}`;

/** Validates one object against its Kubernetes OpenAPI schema; returns the problems found. */
export function validateObject(obj: unknown): string[] {
  if (!isK8sObject(obj)) return ['not a Kubernetes object (apiVersion and kind missing)'];
  const Cls = models[`${obj.apiVersion}/${obj.kind}`];
  if (!Cls)
    return [`${describe_(obj)}: ${obj.apiVersion} ${obj.kind} is not a kind these checks know`];
  try {
    new Cls(obj as never).validate();
    return [];
  } catch (err) {
    return [`${describe_(obj)}: ${err instanceof Error ? err.message : String(err)}`];
  }
}

// ---------------------------------------------------------------- kustomizations

/**
 * A kustomization must list every manifest beside it (a file nobody lists is never deployed) and every
 * path it lists must exist. `*.template.yaml` files are documentation, deliberately not resources.
 */
export function checkKustomization(
  kustomization: unknown,
  filesInDir: readonly string[],
  exists: (relPath: string) => boolean,
): string[] {
  const problems: string[] = [];
  const k = asObject(kustomization);
  const listed = [
    ...asArray(k['resources']).map(String),
    ...asArray(k['patches'])
      .map((p) => (isObject(p) ? asString(p['path']) : String(p)))
      .filter((p): p is string => !!p),
    ...asArray(k['patchesStrategicMerge']).map(String),
  ];
  for (const file of filesInDir) {
    if (file === 'kustomization.yaml' || file.endsWith('.template.yaml')) continue;
    if (!listed.includes(file))
      problems.push(`${file} exists but the kustomization does not list it`);
  }
  for (const entry of listed) {
    if (!exists(entry)) problems.push(`${entry} is listed but does not exist`);
  }
  for (const file of filesInDir) {
    if (file.endsWith('.template.yaml') && listed.includes(file))
      problems.push(`${file} is a template and must not be deployed`);
  }
  return problems;
}

// ---------------------------------------------------------------- workloads

const byKind = (objects: readonly K8sObject[], kind: string): K8sObject[] =>
  objects.filter((o) => o.kind === kind);

const podTemplate = (o: K8sObject): JsonObject => asObject(asObject(o['spec'])['template']);
const podSpec = (o: K8sObject): JsonObject => asObject(podTemplate(o)['spec']);
const podLabels = (o: K8sObject): Record<string, string> =>
  asObject(asObject(podTemplate(o)['metadata'])['labels']) as Record<string, string>;
const containersOf = (spec: JsonObject): JsonObject[] => asArray(spec['containers']).map(asObject);
const initContainersOf = (spec: JsonObject): JsonObject[] =>
  asArray(spec['initContainers']).map(asObject);

const selects = (selector: Record<string, Json>, labels: Record<string, string>): boolean =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

/** The Deployments Tollgate runs, each with its process (requiredEnv key) and the project of its image. */
export const expectedDeployments: Readonly<Record<string, { image: string; entry: string }>> = {
  accounts: { image: 'accounts', entry: 'main' },
  'billing-api': { image: 'billing', entry: 'main' },
  'billing-worker': { image: 'billing', entry: 'worker' },
  proxy: { image: 'proxy', entry: 'main' },
  portal: { image: 'portal', entry: 'apps/portal/server' },
};

/** `registry/tollgate/billing:1.2` → `billing` */
const imageProject = (image: string): string => path.posix.basename(image.replace(/[:@].*$/, ''));

function portNumbers(container: JsonObject): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of asArray(container['ports']).map(asObject)) {
    const n = Number(p['containerPort']);
    out.set(String(n), n);
    const name = asString(p['name']);
    if (name) out.set(name, n);
  }
  return out;
}

function checkContainer(where: string, c: JsonObject, opts: { probes: boolean }): string[] {
  const problems: string[] = [];
  const name = `${where} container ${asString(c['name']) ?? '?'}`;
  const res = asObject(c['resources']);
  for (const side of ['requests', 'limits']) {
    for (const r of ['cpu', 'memory']) {
      if (asObject(res[side])[r] === undefined) problems.push(`${name}: no resources.${side}.${r}`);
    }
  }
  const sc = asObject(c['securityContext']);
  if (sc['allowPrivilegeEscalation'] !== false)
    problems.push(`${name}: allowPrivilegeEscalation must be false`);
  if (sc['readOnlyRootFilesystem'] !== true)
    problems.push(`${name}: readOnlyRootFilesystem must be true`);
  if (!asArray(asObject(sc['capabilities'])['drop']).includes('ALL'))
    problems.push(`${name}: must drop ALL capabilities`);
  if (sc['runAsUser'] === 0 || sc['runAsNonRoot'] === false) problems.push(`${name}: runs as root`);
  if (!asString(c['image'])) problems.push(`${name}: no image`);

  if (opts.probes) {
    const ports = portNumbers(c);
    const wanted: Record<string, string> = {
      readinessProbe: '/health/ready',
      livenessProbe: '/health/live',
    };
    for (const [probe, pathWanted] of Object.entries(wanted)) {
      const get = asObject(asObject(c[probe])['httpGet']);
      if (!isObject(c[probe])) problems.push(`${name}: no ${probe}`);
      else if (get['path'] !== pathWanted)
        problems.push(`${name}: ${probe} must GET ${pathWanted} (is ${String(get['path'])})`);
      else if (!ports.has(String(get['port'])))
        problems.push(`${name}: ${probe} port ${String(get['port'])} is not a container port`);
    }
  }
  return problems;
}

function checkPodSecurity(where: string, spec: JsonObject): string[] {
  const sc = asObject(spec['securityContext']);
  const problems: string[] = [];
  if (sc['runAsNonRoot'] !== true)
    problems.push(`${where}: pod securityContext.runAsNonRoot must be true`);
  if (!(typeof sc['runAsUser'] === 'number' && sc['runAsUser'] > 0))
    problems.push(`${where}: pod securityContext.runAsUser must be a non-zero uid`);
  if (asObject(sc['seccompProfile'])['type'] !== 'RuntimeDefault')
    problems.push(`${where}: seccompProfile must be RuntimeDefault`);
  return problems;
}

/** Names a container's process can read: its `env`, plus every key of the ConfigMaps it takes `envFrom`. */
function envNames(c: JsonObject, configMaps: Map<string, JsonObject>): Set<string> {
  const names = new Set(asArray(c['env']).map((e) => asString(asObject(e)['name']) ?? ''));
  for (const from of asArray(c['envFrom']).map(asObject)) {
    const cm = configMaps.get(asString(asObject(from['configMapRef'])['name']) ?? '');
    for (const k of Object.keys(asObject(cm?.['data']))) names.add(k);
  }
  return names;
}

/** The command a container runs, relative entry without `.js`: ['node', 'worker.js'] → 'worker'. */
function entryOf(c: JsonObject): string | null {
  const cmd = asArray(c['command']).map(String);
  return cmd[0] === 'node' && cmd.length === 2 ? cmd[1]!.replace(/\.js$/, '') : null;
}

function checkEntry(where: string, c: JsonObject, expected?: string): string[] {
  const project = imageProject(asString(c['image']) ?? '');
  const entry = entryOf(c);
  if (!entry) return [`${where}: command must be ["node", "<entry>.js"]`];
  if (expected && entry !== expected)
    return [`${where}: runs ${entry}.js, expected ${expected}.js`];
  if (project === 'portal')
    return entry === 'apps/portal/server'
      ? []
      : [`${where}: the portal runs apps/portal/server.js`];
  const convention = nodeServices[project];
  if (!convention) return [`${where}: image ${project} is not a service of the conventions`];
  return convention.entries.includes(entry)
    ? []
    : [`${where}: ${project} has no entry ${entry}.js (${convention.entries.join(', ')})`];
}

/**
 * Everything the rendered set of objects must get right, as a list of problems (empty = fine): the
 * Deployments (probes, resources, non-root, entries, environment), Services selecting real pods and ports,
 * the proxy's autoscaler and disruption budget, the migrations Job, the Ingress and the config references.
 */
export function checkWorkloads(
  objects: readonly K8sObject[],
  secretKeys: ReadonlySet<string>,
): string[] {
  const problems: string[] = [];
  const deployments = new Map(byKind(objects, 'Deployment').map((d) => [nameOf(d), d]));
  const services = new Map(byKind(objects, 'Service').map((s) => [nameOf(s), s]));
  const configMaps = new Map(byKind(objects, 'ConfigMap').map((c) => [nameOf(c), c as JsonObject]));

  for (const name of Object.keys(expectedDeployments))
    if (!deployments.has(name)) problems.push(`missing Deployment ${name}`);
  for (const name of deployments.keys())
    if (!(name in expectedDeployments)) problems.push(`unexpected Deployment ${name}`);

  const checkConfigRefs = (where: string, c: JsonObject): void => {
    for (const from of asArray(c['envFrom']).map(asObject)) {
      const cm = asString(asObject(from['configMapRef'])['name']);
      if (cm !== undefined && !configMaps.has(cm))
        problems.push(`${where}: envFrom ConfigMap ${cm} does not exist`);
      if (isObject(from['secretRef']))
        problems.push(`${where}: takes a whole Secret; reference the keys it needs`);
    }
    for (const e of asArray(c['env']).map(asObject)) {
      const ref = asObject(asObject(e['valueFrom'])['secretKeyRef']);
      const key = asString(ref['key']);
      if (key !== undefined) {
        if (ref['name'] !== 'tollgate-secrets')
          problems.push(`${where}: secret ${String(ref['name'])} is not tollgate-secrets`);
        if (!secretKeys.has(key))
          problems.push(`${where}: secret key ${key} is not in secret.template.yaml`);
      }
    }
  };

  const checkProcessEnv = (where: string, process: string, c: JsonObject): void => {
    const have = envNames(c, configMaps);
    for (const key of (requiredEnv as Record<string, readonly string[]>)[process] ?? []) {
      if (!have.has(key)) problems.push(`${where}: environment lacks ${key}`);
    }
  };

  for (const [name, d] of deployments) {
    const where = `Deployment/${name}`;
    const spec = asObject(d['spec']);
    const pod = podSpec(d);
    const selector = asObject(asObject(spec['selector'])['matchLabels']);
    if (!selects(selector, podLabels(d)))
      problems.push(`${where}: selector does not match its pod labels`);
    if (
      spec['replicas'] !== undefined &&
      !(Number.isInteger(spec['replicas']) && Number(spec['replicas']) >= 1)
    ) {
      problems.push(`${where}: replicas must be a positive integer`);
    }
    problems.push(...checkPodSecurity(where, pod));
    if (pod['automountServiceAccountToken'] !== false)
      problems.push(`${where}: automountServiceAccountToken must be false`);
    const containers = containersOf(pod);
    if (containers.length !== 1) problems.push(`${where}: expected one container`);
    for (const c of [...containers, ...initContainersOf(pod)]) {
      problems.push(...checkContainer(where, c, { probes: containers.includes(c) }));
      checkConfigRefs(where, c);
    }
    const main = containers[0];
    const expected = expectedDeployments[name];
    if (main && expected) {
      if (imageProject(asString(main['image']) ?? '') !== expected.image)
        problems.push(`${where}: image must be tollgate/${expected.image}`);
      problems.push(...checkEntry(where, main, expected.entry));
      checkProcessEnv(where, name, main);
      const env = new Map(
        asArray(main['env']).map((e) => [asString(asObject(e)['name']), asObject(e)['value']]),
      );
      const port =
        name === 'billing-worker'
          ? BILLING_WORKER_HEALTH_PORT
          : name === 'portal'
            ? PORTAL_PORT
            : nodeServices[expected.image]?.port;
      const portEnv = name === 'billing-worker' ? 'HEALTH_PORT' : 'PORT';
      if (String(env.get(portEnv)) !== String(port))
        problems.push(`${where}: ${portEnv} must be ${port}`);
      if (!portNumbers(main).has(String(port)))
        problems.push(`${where}: container port ${port} is not declared`);
    }
  }

  // Services select the pods of a Deployment and target one of its ports.
  for (const [name, s] of services) {
    const spec = asObject(s['spec']);
    const selector = asObject(spec['selector']);
    const targets = [...deployments.values()].filter((d) => selects(selector, podLabels(d)));
    if (targets.length !== 1) {
      problems.push(
        `Service/${name}: selects ${targets.length} Deployments' pods (want exactly one)`,
      );
      continue;
    }
    const ports = portNumbers(containersOf(podSpec(targets[0]!))[0] ?? {});
    for (const p of asArray(spec['ports']).map(asObject)) {
      const target = String(p['targetPort'] ?? p['port']);
      if (!ports.has(target))
        problems.push(
          `Service/${name}: targetPort ${target} is not a port of ${nameOf(targets[0]!)}`,
        );
    }
  }
  const servicePort = (svc: string, port: Json | undefined): boolean =>
    asArray(asObject(services.get(svc)?.['spec'])['ports']).some((p) => {
      const o = asObject(p);
      return o['name'] === port || o['port'] === port;
    });

  // ConfigMap URLs name real Services and ports.
  for (const [cmName, cm] of configMaps) {
    for (const [key, value] of Object.entries(asObject(cm['data']))) {
      const m = /^http:\/\/([a-z0-9-]+):(\d+)$/.exec(String(value));
      if (!key.endsWith('_URL') || !m) continue;
      if (!services.has(m[1]!) || !servicePort(m[1]!, Number(m[2]))) {
        problems.push(`ConfigMap/${cmName}: ${key} ${String(value)} is not a Service port`);
      }
    }
  }

  // The proxy's autoscaler and disruption budget.
  const hpas = byKind(objects, 'HorizontalPodAutoscaler');
  const proxyHpa = hpas.find((h) => {
    const ref = asObject(asObject(h['spec'])['scaleTargetRef']);
    return ref['kind'] === 'Deployment' && ref['name'] === 'proxy';
  });
  if (!proxyHpa) problems.push('no HorizontalPodAutoscaler targets Deployment/proxy');
  for (const h of hpas) {
    const spec = asObject(h['spec']);
    const ref = asObject(spec['scaleTargetRef']);
    if (h.apiVersion !== 'autoscaling/v2')
      problems.push(`HorizontalPodAutoscaler/${nameOf(h)}: use autoscaling/v2`);
    if (
      ref['apiVersion'] !== 'apps/v1' ||
      ref['kind'] !== 'Deployment' ||
      !deployments.has(String(ref['name']))
    ) {
      problems.push(
        `HorizontalPodAutoscaler/${nameOf(h)}: scaleTargetRef is not an existing apps/v1 Deployment`,
      );
    }
    const min = Number(spec['minReplicas'] ?? 1);
    const max = Number(spec['maxReplicas']);
    if (!(min >= 2 && max >= min))
      problems.push(`HorizontalPodAutoscaler/${nameOf(h)}: want 2 <= minReplicas <= maxReplicas`);
    if (!asArray(spec['metrics']).length)
      problems.push(`HorizontalPodAutoscaler/${nameOf(h)}: no metrics`);
    const target = deployments.get(String(ref['name']));
    if (target && asObject(target['spec'])['replicas'] !== undefined) {
      problems.push(
        `Deployment/${nameOf(target)}: replicas is owned by its autoscaler; leave it out`,
      );
    }
  }
  const proxy = deployments.get('proxy');
  const pdbs = byKind(objects, 'PodDisruptionBudget');
  const proxyPdb = pdbs.find(
    (p) =>
      proxy &&
      selects(asObject(asObject(asObject(p['spec'])['selector'])['matchLabels']), podLabels(proxy)),
  );
  if (!proxyPdb) problems.push('no PodDisruptionBudget selects the proxy pods');
  else if (proxyHpa) {
    const minAvailable = asObject(proxyPdb['spec'])['minAvailable'];
    const minReplicas = Number(asObject(proxyHpa['spec'])['minReplicas'] ?? 1);
    if (typeof minAvailable === 'number' && minAvailable >= minReplicas) {
      problems.push(
        `PodDisruptionBudget/${nameOf(proxyPdb)}: minAvailable ${minAvailable} >= the autoscaler's minReplicas ${minReplicas} blocks every drain`,
      );
    }
  }

  // The migrations Job runs accounts' and billing's migrate.js.
  const jobs = byKind(objects, 'Job');
  if (jobs.length !== 1) problems.push(`expected one migrations Job, found ${jobs.length}`);
  for (const j of jobs) {
    const where = `Job/${nameOf(j)}`;
    const pod = podSpec(j);
    if (!['Never', 'OnFailure'].includes(String(pod['restartPolicy'])))
      problems.push(`${where}: restartPolicy must be Never or OnFailure`);
    problems.push(...checkPodSecurity(where, pod));
    const all = [...initContainersOf(pod), ...containersOf(pod)];
    const migrations = all.map(
      (c) => `${imageProject(asString(c['image']) ?? '')}:${entryOf(c) ?? ''}`,
    );
    for (const wanted of ['accounts:migrate', 'billing:migrate']) {
      if (!migrations.includes(wanted))
        problems.push(`${where}: does not run ${wanted.replace(':', ' ')}.js`);
    }
    for (const c of all) {
      problems.push(...checkContainer(where, c, { probes: false }), ...checkEntry(where, c));
      checkConfigRefs(where, c);
      checkProcessEnv(where, `${imageProject(asString(c['image']) ?? '')}-migrate`, c);
    }
  }

  // Ingress: /v1 to the proxy, / to the portal, on ports those Services have.
  const ingresses = byKind(objects, 'Ingress');
  if (!ingresses.length) problems.push('no Ingress');
  for (const ing of ingresses) {
    const routes = new Map<string, JsonObject>();
    for (const rule of asArray(asObject(ing['spec'])['rules']).map(asObject)) {
      for (const p of asArray(asObject(rule['http'])['paths']).map(asObject)) {
        routes.set(String(p['path']), asObject(asObject(p['backend'])['service']));
      }
    }
    for (const [pathWanted, svc] of [
      ['/v1', 'proxy'],
      ['/', 'portal'],
    ] as const) {
      const backend = routes.get(pathWanted);
      if (!backend || backend['name'] !== svc) {
        problems.push(`Ingress/${nameOf(ing)}: ${pathWanted} must route to Service ${svc}`);
        continue;
      }
      const port = asObject(backend['port']);
      if (!servicePort(svc, port['name'] ?? port['number']))
        problems.push(`Ingress/${nameOf(ing)}: ${pathWanted} names a port ${svc} lacks`);
    }
  }
  return problems;
}

/** Keys of the Secret template, and whether any value looks like a real secret rather than a placeholder. */
export function checkSecretTemplate(secret: unknown): { keys: Set<string>; problems: string[] } {
  const problems: string[] = [];
  const s = asObject(secret);
  if (s['kind'] !== 'Secret') problems.push('secret.template.yaml must hold a Secret');
  if (s['data'] !== undefined)
    problems.push('secret.template.yaml: use stringData placeholders, not data');
  const data = asObject(s['stringData']);
  for (const [k, v] of Object.entries(data)) {
    const value = String(v);
    if (value !== '' && !value.includes('CHANGE_ME'))
      problems.push(`secret.template.yaml: ${k} holds a value, not a placeholder`);
  }
  return { keys: new Set(Object.keys(data)), problems };
}
