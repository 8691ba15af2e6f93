import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  checkCompose,
  composeEntries,
  composeServices,
  expectedComposeServices,
  parseEnvFile,
  requiredVariables,
} from './support/compose-checks';
import { entrySource, portalServes, readRepoFile, repoFileExists } from './support/conventions';
import { itWhen, runTool, toolAvailable } from './support/tools';
import { asObject, parseYaml, type JsonObject } from './support/yaml-files';

const COMPOSE_FILE = 'docker-compose.yml';
const DEV_ENV_FILE = 'infra/docker/dev.env';

const composeText = readRepoFile(COMPOSE_FILE);
const loadCompose = (): JsonObject => asObject(parseYaml(composeText));
/** A fresh, mutable copy of the real file for the negative cases. */
const composeCopy = (): JsonObject => structuredClone(loadCompose());
const service = (doc: JsonObject, name: string): JsonObject =>
  asObject(asObject(doc['services'])[name]);

const hasDockerCompose = toolAvailable('docker-compose', ['version']);
const itWithDockerCompose = itWhen(
  hasDockerCompose,
  'docker-compose (Debian package) is not on PATH',
);

describe('docker-compose.yml', () => {
  describe('structure', () => {
    it('parses as YAML without duplicate keys', () => {
      expect(() => parseYaml(composeText)).not.toThrow();
    });

    it('has every service of the stack and nothing unchecked', () => {
      expect(Object.keys(composeServices(loadCompose())).sort()).toEqual(
        Object.keys(expectedComposeServices).sort(),
      );
    });

    it('passes every structural check (images, health, depends_on, ports, environment, entries)', () => {
      expect(checkCompose(loadCompose())).toEqual([]);
    });

    it('starts services only after their migrations and the databases they use', () => {
      const accounts = asObject(service(loadCompose(), 'accounts')['depends_on']);
      expect(asObject(accounts['accounts-migrate'])['condition']).toBe(
        'service_completed_successfully',
      );
      expect(asObject(accounts['postgres'])['condition']).toBe('service_healthy');
      expect(asObject(accounts['redis'])['condition']).toBe('service_healthy');
    });
  });

  describe('the checks catch what they are meant to', () => {
    it('reports a postgres without a healthcheck and the services that wait on it', () => {
      const doc = composeCopy();
      delete service(doc, 'postgres')['healthcheck'];
      const problems = checkCompose(doc);
      expect(problems).toContain('postgres: no healthcheck');
      expect(problems).toContain(
        'accounts: waits for postgres to be healthy, but postgres has no healthcheck',
      );
    });

    it('reports a service that starts before its migration finished', () => {
      const doc = composeCopy();
      asObject(service(doc, 'billing-worker')['depends_on'])['billing-migrate'] = {
        condition: 'service_started',
      };
      expect(checkCompose(doc)).toContain(
        'billing-worker: must wait for billing-migrate to complete successfully',
      );
    });

    it('reports depends_on in the short list form', () => {
      const doc = composeCopy();
      service(doc, 'proxy')['depends_on'] = ['redis'];
      expect(checkCompose(doc)).toContain(
        'proxy: depends_on must use the long form with conditions',
      );
    });

    it('reports a missing required variable and a secret written into the file', () => {
      const doc = composeCopy();
      delete asObject(service(doc, 'billing-api')['environment'])['JWT_SECRET'];
      asObject(service(doc, 'proxy')['environment'])['TOLLGATE_ENCRYPTION_KEY'] = 'a'.repeat(64);
      const problems = checkCompose(doc);
      expect(problems).toContain('billing-api: environment lacks JWT_SECRET');
      expect(problems).toContain(
        'proxy: TOLLGATE_ENCRYPTION_KEY must come from the operator as ${TOLLGATE_ENCRYPTION_KEY:?…}, not a value in the file',
      );
    });

    it('reports a command that names no built entry', () => {
      const doc = composeCopy();
      service(doc, 'billing-worker')['command'] = ['node', 'consumer.js'];
      expect(checkCompose(doc).join('\n')).toMatch(
        /billing-worker: command .* is not "node <entry>.js"/,
      );
    });

    it('reports a published port that does not reach the service', () => {
      const doc = composeCopy();
      service(doc, 'proxy')['ports'] = ['127.0.0.1:8080:8081'];
      expect(checkCompose(doc)).toContain('proxy: publishes container port 8081 but PORT is 8080');
    });

    it('reports a dependency cycle', () => {
      const doc = composeCopy();
      service(doc, 'redis')['depends_on'] = { proxy: { condition: 'service_healthy' } };
      expect(checkCompose(doc).join('\n')).toMatch(/depends_on cycle: .*redis -> proxy -> redis/);
    });
  });

  describe('entries', () => {
    it.each(composeEntries(loadCompose()))(
      '%s/%s exists in the sources the image builds',
      (project, entry) => {
        expect(repoFileExists(entrySource(project, entry))).toBe(true);
      },
    );

    it('probes the portal on a path it serves', () => {
      const test = asObject(service(loadCompose(), 'portal')['healthcheck'])['test'];
      const probed = (Array.isArray(test) ? test.map(String) : []).filter((a) => a.startsWith('/')).at(-1);
      expect(probed).toBeDefined();
      expect(portalServes(probed!)).toBe(true);
    });

    it('builds with Dockerfiles that exist', () => {
      for (const svc of Object.values(composeServices(loadCompose()))) {
        const dockerfile = asObject(svc['build'])['dockerfile'];
        if (typeof dockerfile === 'string') expect(repoFileExists(dockerfile)).toBe(true);
      }
    });
  });

  describe('development settings (infra/docker/dev.env)', () => {
    const devEnv = parseEnvFile(readRepoFile(DEV_ENV_FILE));

    it('defines every variable the compose file requires', () => {
      const required = requiredVariables(composeText);
      expect(required).toEqual(
        expect.arrayContaining(['JWT_SECRET', 'POSTGRES_PASSWORD', 'TOLLGATE_ENCRYPTION_KEY']),
      );
      for (const name of required) expect(devEnv[name]).toMatch(/\S/);
    });

    it('holds values the services accept', () => {
      expect(devEnv['JWT_SECRET']!.length).toBeGreaterThanOrEqual(32);
      expect(devEnv['TOLLGATE_ENCRYPTION_KEY']).toMatch(/^[0-9a-fA-F]{64}$/);
      expect(devEnv['POSTGRES_PASSWORD']).toMatch(/^[A-Za-z0-9._~-]+$/);
      if (devEnv['TOLLGATE_ADMIN_EMAIL'])
        expect(devEnv['TOLLGATE_ADMIN_PASSWORD']!.length).toBeGreaterThanOrEqual(10);
    });
  });

  describe('docker-compose config', () => {
    const cleanEnv = (): NodeJS.ProcessEnv => {
      const env = { ...process.env };
      for (const name of requiredVariables(composeText)) delete env[name];
      return env;
    };

    itWithDockerCompose('accepts the file with the development settings', () => {
      const res = runTool(
        'docker-compose',
        ['--env-file', DEV_ENV_FILE, '-f', COMPOSE_FILE, 'config', '-q'],
        cleanEnv(),
      );
      expect(res.stderr).toBe('');
      expect(res.status).toBe(0);
    });

    itWithDockerCompose('refuses to start without the required secrets', () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-compose-'));
      try {
        const emptyEnv = path.join(dir, 'empty.env');
        writeFileSync(emptyEnv, '');
        const res = runTool(
          'docker-compose',
          ['--env-file', emptyEnv, '-f', COMPOSE_FILE, 'config', '-q'],
          cleanEnv(),
        );
        expect(res.status).not.toBe(0);
        expect(res.stderr).toMatch(/Missing mandatory value|required variable/i);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
