import {
  BILLING_WORKER_HEALTH_PORT,
  PORTAL_PORT,
  nodeServices,
  requiredEnv,
  secretEnv,
} from './conventions';
import { asArray, asObject, asString, isObject, type JsonObject } from './yaml-files';

/** The services docker-compose.yml must define, and whether each runs once (migrations) or stays up. */
export const expectedComposeServices: Readonly<Record<string, 'infra' | 'one-shot' | 'service'>> = {
  postgres: 'infra',
  redis: 'infra',
  'mock-provider': 'service',
  'accounts-migrate': 'one-shot',
  'billing-migrate': 'one-shot',
  accounts: 'service',
  'billing-api': 'service',
  'billing-worker': 'service',
  proxy: 'service',
  portal: 'service',
};

/** Published ports (host side bound to loopback) and the container port each must reach. */
export const expectedPublishedPorts: Readonly<Record<string, number>> = {
  accounts: nodeServices['accounts']!.port,
  'billing-api': nodeServices['billing']!.port,
  proxy: nodeServices['proxy']!.port,
  portal: PORTAL_PORT,
};

/** Which one-shot migration a service with a database must wait for. */
const migrationOf: Readonly<Record<string, string>> = {
  accounts: 'accounts-migrate',
  'billing-api': 'billing-migrate',
  'billing-worker': 'billing-migrate',
};

const schemaOf: Readonly<Record<string, string>> = {
  accounts: 'accounts',
  'accounts-migrate': 'accounts',
  'billing-api': 'billing',
  'billing-worker': 'billing',
  'billing-migrate': 'billing',
};

const CONDITIONS = new Set([
  'service_healthy',
  'service_completed_successfully',
  'service_started',
]);

export function composeServices(doc: unknown): Record<string, JsonObject> {
  const out: Record<string, JsonObject> = {};
  for (const [name, svc] of Object.entries(asObject(asObject(doc)['services'])))
    out[name] = asObject(svc);
  return out;
}

/** A service's environment as strings, from either the map or the `KEY=value` list form. */
export function composeEnv(svc: JsonObject): Record<string, string> {
  const env = svc['environment'];
  const out: Record<string, string> = {};
  if (Array.isArray(env)) {
    for (const item of env) {
      const s = String(item);
      const i = s.indexOf('=');
      if (i > 0) out[s.slice(0, i)] = s.slice(i + 1);
    }
  } else if (isObject(env)) {
    for (const [k, v] of Object.entries(env)) out[k] = v === null ? '' : String(v);
  }
  return out;
}

export function composeCommand(svc: JsonObject): string[] {
  const c = svc['command'];
  if (typeof c === 'string') return c.split(/\s+/).filter(Boolean);
  return asArray(c).map(String);
}

export function composeBuild(
  svc: JsonObject,
): { dockerfile?: string; args: Record<string, string> } | null {
  const b = svc['build'];
  if (b === undefined || b === null) return null;
  if (typeof b === 'string') return { args: {} };
  const o = asObject(b);
  const args: Record<string, string> = {};
  const rawArgs = o['args'];
  if (Array.isArray(rawArgs)) {
    for (const a of rawArgs) {
      const [k, ...rest] = String(a).split('=');
      if (k) args[k] = rest.join('=');
    }
  } else {
    for (const [k, v] of Object.entries(asObject(rawArgs))) args[k] = String(v);
  }
  return { dockerfile: asString(o['dockerfile']), args };
}

/** `depends_on` in its long form; the short list form has no conditions and is reported as a problem. */
function dependsOn(svc: JsonObject): {
  form: 'none' | 'list' | 'map';
  deps: Record<string, string | undefined>;
} {
  const d = svc['depends_on'];
  if (d === undefined || d === null) return { form: 'none', deps: {} };
  if (Array.isArray(d))
    return { form: 'list', deps: Object.fromEntries(d.map((n) => [String(n), undefined])) };
  const deps: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(asObject(d))) deps[k] = asString(asObject(v)['condition']);
  return { form: 'map', deps };
}

function healthTest(svc: JsonObject): string | null {
  const hc = svc['healthcheck'];
  if (!isObject(hc) || hc['disable'] === true) return null;
  const t = hc['test'];
  const s = Array.isArray(t) ? t.map(String).join(' ') : (asString(t) ?? '');
  return s.trim() === '' || /^NONE\b/.test(s) ? null : s;
}

const isOneShot = (svc: JsonObject): boolean => asString(svc['restart']) === 'no';

/** `${NAME:?message}` (required, no default) — how a secret must enter the file. */
const requiredVarRef = (name: string): RegExp => new RegExp(`^\\$\\{${name}:?\\?[^}]*\\}$`);

/** The names of every `${NAME:?…}` reference in the compose text. */
export function requiredVariables(text: string): string[] {
  return [...new Set([...text.matchAll(/\$\{([A-Z0-9_]+):?\?/g)].map((m) => m[1]!))].sort();
}

function publishedPorts(
  svc: JsonObject,
): { host?: string; hostPort?: number; container: number }[] {
  return asArray(svc['ports']).map((p) => {
    if (isObject(p)) {
      return {
        hostPort: Number(p['published']),
        host: asString(p['host_ip']),
        container: Number(p['target']),
      };
    }
    const parts = String(p)
      .replace(/\/(tcp|udp)$/, '')
      .split(':');
    const container = Number(parts.pop());
    const hostPort = parts.length ? Number(parts.pop()) : undefined;
    const host = parts.length ? parts.join(':') : undefined;
    return { host, hostPort, container };
  });
}

/** Finds dependency cycles (a compose file with one never starts). */
function cycles(services: Record<string, JsonObject>): string[] {
  const problems: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, trail: string[]): void => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      problems.push(`depends_on cycle: ${[...trail, name].join(' -> ')}`);
      return;
    }
    state.set(name, 'visiting');
    for (const dep of Object.keys(dependsOn(services[name] ?? {}).deps))
      visit(dep, [...trail, name]);
    state.set(name, 'done');
  };
  for (const name of Object.keys(services)) visit(name, []);
  return problems;
}

/**
 * Everything docker-compose.yml must get right, as a list of problems (empty = fine). Pure: it looks only
 * at the parsed document, so tests can feed it broken variants and see each problem reported.
 */
export function checkCompose(doc: unknown): string[] {
  const problems: string[] = [];
  const services = composeServices(doc);
  const names = Object.keys(services);

  for (const name of Object.keys(expectedComposeServices)) {
    if (!services[name]) problems.push(`missing service ${name}`);
  }
  for (const name of names) {
    if (!(name in expectedComposeServices))
      problems.push(`unexpected service ${name} (add it to the checks)`);
  }

  for (const [name, svc] of Object.entries(services)) {
    const role = expectedComposeServices[name];
    const env = composeEnv(svc);
    const build = composeBuild(svc);

    if (!asString(svc['image']) && !build) problems.push(`${name}: neither image nor build`);

    // health and lifetime
    const test = healthTest(svc);
    if (role === 'one-shot') {
      if (!isOneShot(svc)) problems.push(`${name}: a one-shot service must have restart: "no"`);
    } else {
      if (!test) problems.push(`${name}: no healthcheck`);
      if (isOneShot(svc)) problems.push(`${name}: a long-running service must restart`);
    }
    if (name === 'postgres' && test && !test.includes('pg_isready'))
      problems.push('postgres: healthcheck must use pg_isready');
    if (name === 'redis' && test && !/redis-cli .*ping/.test(test))
      problems.push('redis: healthcheck must be redis-cli ping');
    if (
      role === 'service' &&
      name !== 'mock-provider' &&
      test &&
      !/\/health\/(ready|live)/.test(test)
    ) {
      problems.push(`${name}: healthcheck must probe /health/ready or /health/live`);
    }

    // dependencies
    const { form, deps } = dependsOn(svc);
    if (form === 'list')
      problems.push(`${name}: depends_on must use the long form with conditions`);
    for (const [dep, condition] of Object.entries(deps)) {
      const target = services[dep];
      if (!target) {
        problems.push(`${name}: depends on unknown service ${dep}`);
        continue;
      }
      if (!condition || !CONDITIONS.has(condition)) {
        problems.push(`${name}: depends_on ${dep} has no valid condition (${condition ?? 'none'})`);
      } else if (condition === 'service_healthy' && !healthTest(target)) {
        problems.push(`${name}: waits for ${dep} to be healthy, but ${dep} has no healthcheck`);
      } else if (condition === 'service_completed_successfully' && !isOneShot(target)) {
        problems.push(
          `${name}: waits for ${dep} to complete, but ${dep} is not a one-shot service`,
        );
      } else if (condition === 'service_started' && (dep === 'postgres' || dep === 'redis')) {
        problems.push(`${name}: must wait for ${dep} to be healthy, not merely started`);
      }
    }
    if (env['DATABASE_URL'] !== undefined && deps['postgres'] !== 'service_healthy') {
      problems.push(`${name}: uses PostgreSQL but does not wait for postgres to be healthy`);
    }
    if (
      env['REDIS_URL'] !== undefined &&
      role !== 'one-shot' &&
      deps['redis'] !== 'service_healthy'
    ) {
      problems.push(`${name}: uses Redis but does not wait for redis to be healthy`);
    }
    const migration = migrationOf[name];
    if (migration && deps[migration] !== 'service_completed_successfully') {
      problems.push(`${name}: must wait for ${migration} to complete successfully`);
    }

    // environment
    const required = (requiredEnv as Record<string, readonly string[]>)[name] ?? [];
    for (const key of required) {
      if (env[key] === undefined || env[key] === '')
        problems.push(`${name}: environment lacks ${key}`);
    }
    for (const key of secretEnv) {
      if (env[key] !== undefined && !requiredVarRef(key).test(env[key]!)) {
        problems.push(
          `${name}: ${key} must come from the operator as \${${key}:?…}, not a value in the file`,
        );
      }
    }
    if (role === 'service' && env['HOST'] !== undefined && env['HOST'] !== '0.0.0.0') {
      problems.push(`${name}: HOST must be 0.0.0.0 in a container (is ${env['HOST']})`);
    }
    if (schemaOf[name] && env['DB_SCHEMA'] !== schemaOf[name]) {
      problems.push(
        `${name}: DB_SCHEMA must be ${schemaOf[name]} (is ${env['DB_SCHEMA'] ?? 'unset'})`,
      );
    }
    if (
      env['DATABASE_URL'] !== undefined &&
      !/^postgres(ql)?:\/\/[^@]*@postgres:5432\//.test(env['DATABASE_URL'])
    ) {
      problems.push(`${name}: DATABASE_URL must point at the postgres service`);
    }
    if (env['REDIS_URL'] !== undefined && !/^redis:\/\/redis:6379\b/.test(env['REDIS_URL'])) {
      problems.push(`${name}: REDIS_URL must point at the redis service`);
    }
    if (name === 'billing-worker' && env['HEALTH_PORT'] !== String(BILLING_WORKER_HEALTH_PORT)) {
      problems.push(`billing-worker: HEALTH_PORT must be ${BILLING_WORKER_HEALTH_PORT}`);
    }
    for (const key of ['ACCOUNTS_URL', 'BILLING_URL']) {
      const url = env[key];
      if (url === undefined) continue;
      const m = /^http:\/\/([a-z0-9-]+):(\d+)$/.exec(url);
      const target = m ? services[m[1]!] : undefined;
      if (!m || !target)
        problems.push(`${name}: ${key} must be http://<a compose service>:<port> (is ${url})`);
      else if (composeEnv(target)['PORT'] !== m[2])
        problems.push(`${name}: ${key} port ${m[2]} is not ${m[1]}'s PORT`);
    }

    // ports
    const ports = publishedPorts(svc);
    const wanted = expectedPublishedPorts[name];
    if (wanted !== undefined) {
      const p = ports.find((x) => x.hostPort === wanted);
      if (!p) problems.push(`${name}: must publish port ${wanted}`);
      else {
        if (p.container !== Number(env['PORT']))
          problems.push(
            `${name}: publishes container port ${p.container} but PORT is ${env['PORT']}`,
          );
        if (p.host !== '127.0.0.1')
          problems.push(`${name}: publish port ${wanted} on 127.0.0.1 only (dev secrets)`);
      }
    } else if (ports.length) {
      problems.push(
        `${name}: publishes ports it should not (${ports.map((p) => p.container).join(', ')})`,
      );
    }

    // images built from this repository: the right Dockerfile, a known project and a real entry
    if (build) {
      const dockerfile = build.dockerfile ?? 'Dockerfile';
      if (name === 'portal') {
        if (dockerfile !== 'infra/docker/portal.Dockerfile')
          problems.push(`portal: must build infra/docker/portal.Dockerfile`);
      } else if (dockerfile !== 'infra/docker/node-service.Dockerfile') {
        problems.push(
          `${name}: must build infra/docker/node-service.Dockerfile (is ${dockerfile})`,
        );
      } else {
        const app = build.args['APP'] ?? '';
        const convention = nodeServices[app];
        if (!convention)
          problems.push(`${name}: build arg APP "${app}" is not a Node service of the conventions`);
        else {
          if ((build.args['APP_KIND'] ?? 'apps') !== convention.kind)
            problems.push(`${name}: APP_KIND must be ${convention.kind}`);
          const cmd = composeCommand(svc);
          const entry = cmd[0] === 'node' && cmd.length === 2 ? cmd[1]!.replace(/\.js$/, '') : null;
          if (!entry || !convention.entries.includes(entry)) {
            problems.push(
              `${name}: command ${JSON.stringify(cmd)} is not "node <entry>.js" with an entry of ${app} (${convention.entries.join(', ')})`,
            );
          }
          if (role === 'one-shot' && entry !== 'migrate')
            problems.push(`${name}: a migration service must run migrate.js`);
        }
      }
    }
  }

  problems.push(...cycles(services));
  return problems;
}

/** `node <entry>.js` commands of the services built from node-service.Dockerfile, as [project, entry]. */
export function composeEntries(doc: unknown): [string, string][] {
  const out: [string, string][] = [];
  for (const svc of Object.values(composeServices(doc))) {
    const build = composeBuild(svc);
    const app = build?.args['APP'];
    const cmd = composeCommand(svc);
    if (app && nodeServices[app] && cmd[0] === 'node' && cmd[1])
      out.push([app, cmd[1].replace(/\.js$/, '')]);
  }
  return out;
}

/** `KEY=value` lines of an env file (comments and blank lines ignored). */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const i = t.indexOf('=');
    if (i > 0) out[t.slice(0, i).trim()] = t.slice(i + 1).trim();
  }
  return out;
}
