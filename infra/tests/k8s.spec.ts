import { readdirSync } from 'node:fs';
import path from 'node:path';
import { portalServes, readRepoFile, repoFileExists, repoPath } from './support/conventions';
import {
  checkKustomization,
  checkSecretTemplate,
  checkWorkloads,
  isK8sObject,
  nameOf,
  validateObject,
  type K8sObject,
} from './support/k8s-checks';
import { itWhen, runTool, toolAvailable } from './support/tools';
import {
  asArray,
  asObject,
  asString,
  parseYamlDocuments,
  yamlFilesUnder,
  type JsonObject,
} from './support/yaml-files';

const BASE = 'k8s/base';
const PRODUCTION = 'k8s/overlays/production';
const SECRET_TEMPLATE = `${BASE}/secret.template.yaml`;

const docsOf = (rel: string): unknown[] => parseYamlDocuments(readRepoFile(rel), rel);
const objectsOf = (rel: string): K8sObject[] => docsOf(rel).filter(isK8sObject);
const kustomizationOf = (dir: string): JsonObject =>
  asObject(docsOf(`${dir}/kustomization.yaml`)[0]);
const filesIn = (dir: string): string[] =>
  readdirSync(repoPath(dir)).filter((f) => /\.ya?ml$/.test(f));
const patchFiles = (dir: string): string[] =>
  asArray(kustomizationOf(dir)['patches']).map(
    (p) => `${dir}/${asString(asObject(p)['path']) ?? ''}`,
  );

/** The objects of the base, read from the files its kustomization lists. */
const baseObjects = (): K8sObject[] =>
  asArray(kustomizationOf(BASE)['resources']).flatMap((r) => objectsOf(`${BASE}/${String(r)}`));

const secret = checkSecretTemplate(docsOf(SECRET_TEMPLATE)[0]);

/** Every manifest file except kustomizations and overlay patches (which are partial objects). */
const fullManifests = (): string[] => {
  const partial = new Set(patchFiles(PRODUCTION));
  return yamlFilesUnder('k8s').filter(
    (f) => path.basename(f) !== 'kustomization.yaml' && !partial.has(f),
  );
};

const hasKubectl = toolAvailable('kubectl', ['version', '--client']);
const itWithKubectl = itWhen(
  hasKubectl,
  'kubectl is not on PATH, so the overlays are not rendered',
);
const render = (dir: string): K8sObject[] => {
  const res = runTool('kubectl', ['kustomize', dir]);
  if (res.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${res.stderr}`);
  return parseYamlDocuments(res.stdout, dir).filter(isK8sObject);
};

const mutableBase = (): K8sObject[] => structuredClone(baseObjects());
const find = (objects: K8sObject[], kind: string, name: string): K8sObject => {
  const o = objects.find((x) => x.kind === kind && nameOf(x) === name);
  if (!o) throw new Error(`no ${kind}/${name}`);
  return o;
};
const firstContainer = (d: K8sObject): JsonObject =>
  asObject(asArray(asObject(asObject(asObject(d['spec'])['template'])['spec'])['containers'])[0]);

describe('k8s manifests', () => {
  describe('schema', () => {
    it.each(fullManifests())(
      '%s: every object is valid for its kind (kubernetes-models)',
      (file) => {
        const objects = docsOf(file);
        expect(objects.length).toBeGreaterThan(0);
        expect(objects.flatMap(validateObject)).toEqual([]);
      },
    );

    it.each(patchFiles(PRODUCTION))('%s: patches an object the base has', (file) => {
      const base = baseObjects();
      for (const patch of objectsOf(file)) {
        expect(
          base.some(
            (o) =>
              o.kind === patch.kind &&
              o.apiVersion === patch.apiVersion &&
              nameOf(o) === nameOf(patch),
          ),
        ).toBe(true);
      }
    });
  });

  describe('kustomizations', () => {
    it.each([BASE, PRODUCTION])(
      '%s lists every manifest beside it and only paths that exist',
      (dir) => {
        const exists = (rel: string): boolean => repoFileExists(path.posix.join(dir, rel));
        expect(checkKustomization(kustomizationOf(dir), filesIn(dir), exists)).toEqual([]);
      },
    );

    it('the production overlay builds on the base', () => {
      expect(asArray(kustomizationOf(PRODUCTION)['resources'])).toContain('../../base');
      expect(repoFileExists(`${BASE}/kustomization.yaml`)).toBe(true);
    });
  });

  describe('workloads (base)', () => {
    it('pass every check: probes, resources, non-root, entries, env, services, autoscaler, budget, job, ingress', () => {
      expect(checkWorkloads(baseObjects(), secret.keys)).toEqual([]);
    });

    it('the Secret is only a template with placeholders, and holds every key the workloads read', () => {
      expect(secret.problems).toEqual([]);
      expect(asArray(kustomizationOf(BASE)['resources'])).not.toContain('secret.template.yaml');
      expect([...secret.keys]).toEqual(
        expect.arrayContaining([
          'ACCOUNTS_DATABASE_URL',
          'BILLING_DATABASE_URL',
          'REDIS_URL',
          'JWT_SECRET',
          'TOLLGATE_ENCRYPTION_KEY',
        ]),
      );
    });

    it('the portal serves every path its probes use', () => {
      const c = firstContainer(find(baseObjects(), 'Deployment', 'portal'));
      const paths = ['startupProbe', 'readinessProbe', 'livenessProbe'].map((p) =>
        String(asObject(asObject(c[p])['httpGet'])['path']),
      );
      expect(portalServes('/login')).toBe(true);
      expect(portalServes('/no-such-page')).toBe(false);
      for (const p of new Set(paths)) expect(`${p}: ${portalServes(p)}`).toBe(`${p}: true`);
    });

    it('the proxy autoscaler is autoscaling/v2 on CPU', () => {
      const hpa = find(baseObjects(), 'HorizontalPodAutoscaler', 'proxy');
      expect(hpa.apiVersion).toBe('autoscaling/v2');
      expect(
        asObject(asObject(asArray(asObject(hpa['spec'])['metrics'])[0])['resource'])['name'],
      ).toBe('cpu');
    });
  });

  describe('the checks catch what they are meant to', () => {
    it('rejects a Deployment whose replicas is a string', () => {
      const d = find(mutableBase(), 'Deployment', 'accounts');
      asObject(d['spec'])['replicas'] = '2';
      expect(validateObject(d).join('\n')).toMatch(/replicas must be integer/);
    });

    it('rejects a bad port protocol and an unknown kind', () => {
      const s = find(mutableBase(), 'Service', 'proxy');
      asObject(asArray(asObject(s['spec'])['ports'])[0])['protocol'] = 'tcp';
      expect(validateObject(s).join('\n')).toMatch(
        /protocol must be equal to one of the allowed values/,
      );
      expect(validateObject({ apiVersion: 'apps/v1beta1', kind: 'Deployment' })).toEqual([
        'Deployment/: apps/v1beta1 Deployment is not a kind these checks know',
      ]);
    });

    it('reports a Deployment without a readiness probe, resources or a non-root user', () => {
      const objects = mutableBase();
      const proxy = find(objects, 'Deployment', 'proxy');
      const c = firstContainer(proxy);
      delete c['readinessProbe'];
      delete asObject(c['resources'])['limits'];
      asObject(asObject(asObject(proxy['spec'])['template'])['spec'])['securityContext'] = {};
      const problems = checkWorkloads(objects, secret.keys);
      expect(problems).toEqual(
        expect.arrayContaining([
          'Deployment/proxy container proxy: no readinessProbe',
          'Deployment/proxy container proxy: no resources.limits.cpu',
          'Deployment/proxy: pod securityContext.runAsNonRoot must be true',
        ]),
      );
    });

    it('reports a Service whose selector matches no pods', () => {
      const objects = mutableBase();
      asObject(find(objects, 'Service', 'portal')['spec'])['selector'] = {
        'app.kubernetes.io/name': 'portl',
      };
      expect(checkWorkloads(objects, secret.keys)).toContain(
        "Service/portal: selects 0 Deployments' pods (want exactly one)",
      );
    });

    it('reports an autoscaler aimed at a Deployment that does not exist', () => {
      const objects = mutableBase();
      asObject(
        asObject(find(objects, 'HorizontalPodAutoscaler', 'proxy')['spec'])['scaleTargetRef'],
      )['name'] = 'proxi';
      expect(checkWorkloads(objects, secret.keys)).toEqual(
        expect.arrayContaining([
          'no HorizontalPodAutoscaler targets Deployment/proxy',
          'HorizontalPodAutoscaler/proxy: scaleTargetRef is not an existing apps/v1 Deployment',
        ]),
      );
    });

    it('reports a worker that runs an entry the billing image does not have, and a missing secret key', () => {
      const objects = mutableBase();
      const c = firstContainer(find(objects, 'Deployment', 'billing-worker'));
      c['command'] = ['node', 'consumer.js'];
      asArray(c['env']).push({
        name: 'X',
        valueFrom: { secretKeyRef: { name: 'tollgate-secrets', key: 'NOPE' } },
      });
      expect(checkWorkloads(objects, secret.keys)).toEqual(
        expect.arrayContaining([
          'Deployment/billing-worker: runs consumer.js, expected worker.js',
          'Deployment/billing-worker: secret key NOPE is not in secret.template.yaml',
        ]),
      );
    });

    it('reports a kustomization that forgets a file or lists a missing one', () => {
      const k = structuredClone(kustomizationOf(BASE));
      k['resources'] = asArray(k['resources'])
        .filter((r) => r !== 'proxy-pdb.yaml')
        .concat('gone.yaml');
      const exists = (rel: string): boolean => repoFileExists(path.posix.join(BASE, rel));
      expect(checkKustomization(k, filesIn(BASE), exists)).toEqual([
        'proxy-pdb.yaml exists but the kustomization does not list it',
        'gone.yaml is listed but does not exist',
      ]);
    });

    it('reports a secret template holding a real value', () => {
      const s = structuredClone(asObject(docsOf(SECRET_TEMPLATE)[0]));
      asObject(s['stringData'])['JWT_SECRET'] = 'x'.repeat(40);
      expect(checkSecretTemplate(s).problems).toEqual([
        'secret.template.yaml: JWT_SECRET holds a value, not a placeholder',
      ]);
    });
  });

  describe('rendered with kubectl kustomize', () => {
    itWithKubectl('the base renders to valid objects that pass the workload checks', () => {
      const objects = render(BASE);
      expect(objects.flatMap(validateObject)).toEqual([]);
      expect(checkWorkloads(objects, secret.keys)).toEqual([]);
    });

    itWithKubectl(
      'the production overlay renders to valid objects with pinned images in the tollgate namespace',
      () => {
        const objects = render(PRODUCTION);
        expect(objects.flatMap(validateObject)).toEqual([]);
        expect(checkWorkloads(objects, secret.keys)).toEqual([]);
        for (const o of objects) {
          if (o.kind !== 'Namespace')
            expect(
              `${o.kind}/${nameOf(o)} in ${String(asObject(o['metadata'])['namespace'])}`,
            ).toBe(`${o.kind}/${nameOf(o)} in tollgate`);
        }
        const images = objects
          .filter((o) => o.kind === 'Deployment' || o.kind === 'Job')
          .flatMap((o) => {
            const spec = asObject(asObject(asObject(o['spec'])['template'])['spec']);
            return [...asArray(spec['containers']), ...asArray(spec['initContainers'])].map((c) =>
              String(asObject(c)['image']),
            );
          });
        expect(images.length).toBeGreaterThan(0);
        for (const image of images)
          expect(image).toMatch(/^[a-z0-9.-]+\.[a-z]+\/tollgate\/[a-z-]+:\d+\.\d+\.\d+$/);
      },
    );
  });
});
