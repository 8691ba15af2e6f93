import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { freeLoopbackPort } from '@tollgate/server-testing';
import { Client } from 'pg';
import {
  TEST_DATABASE_URL,
  TEST_REDIS_URL,
  createTestRedisPrefix,
  uniqueName,
} from '@tollgate/server-testing';

/**
 * Starts the whole built stack — mock provider, accounts, billing API and worker, proxy and (on
 * request) the portal — as child processes on free ports, isolated from every other test run by
 * their own PostgreSQL schemas and Redis/queue prefixes in the shared test database and Redis.
 */
export interface Stack {
  accountsUrl: string;
  billingUrl: string;
  proxyUrl: string;
  /** every proxy process (the first is `proxyUrl`); more than one with `{ proxies: n }` */
  proxyUrls: string[];
  /** '' unless started with `{ portal: true }` */
  portalUrl: string;
  /** the mock provider's base URL; its OpenAI surface is under `/v1` */
  mockUrl: string;
  /** the platform admin bootstrapped by accounts from TOLLGATE_ADMIN_EMAIL / _PASSWORD */
  admin: { email: string; password: string };
  redisPrefix: string;
  queuePrefix: string;
  databaseUrl: string;
  accountsSchema: string;
  billingSchema: string;
  /** kills every child (SIGTERM, then SIGKILL), drops the schemas and deletes the Redis keys */
  stop(): Promise<void>;
  /** SIGKILLs the proxy process at `proxyUrls[index]` (a crashed replica); `stop()` expects it gone */
  killProxy(index: number): Promise<void>;
}

export interface StartStackOptions {
  portal?: boolean;
  /** proxy processes sharing the stack's Redis and queue prefixes (replicas); default 1 */
  proxies?: number;
  /** extra environment for every proxy process (timeouts, breaker settings…) */
  proxyEnv?: Record<string, string>;
}

export const WORKSPACE_ROOT = path.resolve(__dirname, '../../../..');
const LOG_DIR = path.join(WORKSPACE_ROOT, 'tmp', 'e2e-logs');
const READY_TIMEOUT_MS = 60_000;
const MIGRATE_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 8_000;

/** Built entries, as fixed by the session conventions. */
export const ENTRIES = {
  accountsMain: 'dist/apps/accounts/apps/accounts/src/main.js',
  accountsMigrate: 'dist/apps/accounts/apps/accounts/src/migrate.js',
  billingMain: 'dist/apps/billing/apps/billing/src/main.js',
  billingWorker: 'dist/apps/billing/apps/billing/src/worker.js',
  billingMigrate: 'dist/apps/billing/apps/billing/src/migrate.js',
  proxyMain: 'dist/apps/proxy/apps/proxy/src/main.js',
  mockCli: 'dist/libs/mock-provider/libs/mock-provider/src/cli.js',
  nextBin: 'node_modules/next/dist/bin/next',
} as const;

interface Child {
  name: string;
  /** a server that should keep running until stop(), as opposed to a one-shot (migrations) */
  longLived: boolean;
  proc: ChildProcess;
  logFile: string;
  exited: { code: number | null; signal: NodeJS.Signals | null } | null;
  exitPromise: Promise<void>;
}

/** Children of every stack started in this process, killed on exit if a test forgot `stop()`. */
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of liveChildren) c.kill('SIGKILL');
  });
}

/** The last `lines` lines of a log file, for failure messages. */
export function logTail(file: string, lines = 40): string {
  if (!existsSync(file)) return '(no log)';
  const text = readFileSync(file, 'utf8').trimEnd();
  return text.split('\n').slice(-lines).join('\n') || '(empty log)';
}

function describeExit(c: Child): string {
  const e = c.exited;
  if (!e) return 'still running';
  return e.signal ? `killed by ${e.signal}` : `exited with code ${String(e.code)}`;
}

class StackStartError extends Error {}

function failure(c: Child, why: string): StackStartError {
  return new StackStartError(
    `${c.name} ${why} (${describeExit(c)}); log ${path.relative(WORKSPACE_ROOT, c.logFile)}:\n` +
      logTail(c.logFile),
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A timer for Promise.race that does not keep the process (jest) alive once the race is won. */
function deadline(ms: number): Promise<'timeout'> {
  return new Promise((r) => setTimeout(() => r('timeout'), ms).unref());
}

export async function startStack(opts: StartStackOptions = {}): Promise<Stack> {
  installExitHook();
  const missing: string[] = Object.entries(ENTRIES)
    .filter(([k]) => opts.portal || k !== 'nextBin')
    .map(([, rel]) => rel)
    .filter((rel) => !existsSync(path.join(WORKSPACE_ROOT, rel)));
  if (opts.portal && !existsSync(path.join(WORKSPACE_ROOT, 'apps/portal/.next/BUILD_ID'))) {
    missing.push('apps/portal/.next (run the portal build)');
  }
  if (missing.length) {
    throw new Error(
      `the stack is not built; missing:\n  ${missing.join('\n  ')}\n` +
        'build it with: NX_DAEMON=false npx nx run-many -t build -p accounts billing proxy mock-provider portal',
    );
  }

  const runId = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}`;
  const logDir = path.join(LOG_DIR, runId);
  mkdirSync(logDir, { recursive: true });

  const databaseUrl = TEST_DATABASE_URL;
  const accountsSchema = uniqueName('e2e_accounts');
  const billingSchema = uniqueName('e2e_billing');
  const redis = createTestRedisPrefix('e2e', TEST_REDIS_URL);
  const admin = {
    email: `admin-${randomBytes(4).toString('hex')}@example.com`,
    password: `Adm1n-${randomBytes(12).toString('hex')}`,
  };

  const [mockPort, accountsPort, billingPort, workerHealthPort, proxyPort, portalPort] =
    await Promise.all(Array.from({ length: 6 }, () => freeLoopbackPort()));
  const mockUrl = `http://127.0.0.1:${mockPort}`;
  const accountsUrl = `http://127.0.0.1:${accountsPort}`;
  const billingUrl = `http://127.0.0.1:${billingPort}`;
  const proxyUrl = `http://127.0.0.1:${proxyPort}`;
  const extraProxyPorts = await Promise.all(
    Array.from({ length: Math.max(0, (opts.proxies ?? 1) - 1) }, () => freeLoopbackPort()),
  );
  const proxyUrls = [proxyUrl, ...extraProxyPorts.map((p) => `http://127.0.0.1:${p}`)];
  const portalUrl = opts.portal ? `http://127.0.0.1:${portalPort}` : '';

  // Each process gets only what it needs: a service never sees another's secrets.
  const common: Record<string, string> = {
    HOST: '127.0.0.1',
    LOG_LEVEL: 'log',
    NEXT_TELEMETRY_DISABLED: '1',
  };
  const jwtSecret = randomBytes(32).toString('base64url');
  const encryptionKey = randomBytes(32).toString('base64');
  const redisEnv = {
    REDIS_URL: redis.url,
    TOLLGATE_REDIS_PREFIX: redis.prefix,
    TOLLGATE_QUEUE_PREFIX: redis.queuePrefix,
  };
  const accountsEnv = {
    ...redisEnv,
    DATABASE_URL: databaseUrl,
    DB_SCHEMA: accountsSchema,
    JWT_SECRET: jwtSecret,
    TOLLGATE_ENCRYPTION_KEY: encryptionKey,
  };
  const billingEnv = {
    ...redisEnv,
    DATABASE_URL: databaseUrl,
    DB_SCHEMA: billingSchema,
    JWT_SECRET: jwtSecret,
    // seals the alert webhook signing secrets (as in docker-compose and k8s)
    TOLLGATE_ENCRYPTION_KEY: encryptionKey,
  };
  const proxyEnv = { ...opts.proxyEnv, ...redisEnv, TOLLGATE_ENCRYPTION_KEY: encryptionKey };

  const children: Child[] = [];
  let stopped = false;
  /** children a test killed on purpose: not reported as having died */
  const killed = new Set<Child>();
  const proxies: Child[] = [];

  const launch = (
    name: string,
    args: string[],
    env: Record<string, string>,
    longLived = true,
  ): Child => {
    const logFile = path.join(logDir, `${name}.log`);
    const fd = openSync(logFile, 'a');
    // A clean environment apart from what a process needs, so a developer's shell settings
    // (PORT, DATABASE_URL…) cannot leak into the stack under test.
    const base: Record<string, string> = {};
    for (const k of ['PATH', 'HOME', 'LANG', 'TZ', 'TMPDIR', 'SYSTEMROOT']) {
      const v = process.env[k];
      if (v !== undefined) base[k] = v;
    }
    const proc = spawn(process.execPath, args, {
      cwd: WORKSPACE_ROOT,
      env: { ...base, NODE_ENV: 'production', ...common, ...env },
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    liveChildren.add(proc);
    const child: Child = {
      name,
      longLived,
      proc,
      logFile,
      exited: null,
      exitPromise: Promise.resolve(),
    };
    child.exitPromise = new Promise<void>((resolve) => {
      proc.once('exit', (code, signal) => {
        child.exited = { code, signal };
        liveChildren.delete(proc);
        resolve();
      });
      proc.once('error', (err) => {
        child.exited = { code: -1, signal: null };
        liveChildren.delete(proc);
        void err;
        resolve();
      });
    });
    children.push(child);
    return child;
  };

  /** Runs a one-shot entry (migrations) and fails with its log tail unless it exits 0. */
  const runToCompletion = async (
    name: string,
    entry: string,
    env: Record<string, string>,
  ): Promise<void> => {
    const c = launch(name, [entry], env, false);
    const timer = deadline(MIGRATE_TIMEOUT_MS);
    const result = await Promise.race([c.exitPromise.then(() => 'exited' as const), timer]);
    if (result === 'timeout') {
      c.proc.kill('SIGKILL');
      throw failure(c, `did not finish within ${MIGRATE_TIMEOUT_MS} ms`);
    }
    if (c.exited?.code !== 0) throw failure(c, 'failed');
  };

  /** Polls `url` until it answers 200; fails early, with the log tail, if the process exits. */
  const waitReady = async (c: Child, url: string): Promise<void> => {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let last = 'no answer';
    while (Date.now() < deadline) {
      if (c.exited) throw failure(c, 'exited before it was ready');
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(2_000), redirect: 'manual' });
        if (res.status === 200) {
          await res.arrayBuffer();
          return;
        }
        last = `HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`;
      } catch (e) {
        last = e instanceof Error ? e.message : String(e);
      }
      await sleep(100);
    }
    throw failure(c, `was not ready at ${url} within ${READY_TIMEOUT_MS} ms (last: ${last})`);
  };

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    const died = children.filter((c) => c.longLived && c.exited && !killed.has(c));
    const running = children.filter((c) => !c.exited);
    for (const c of running) c.proc.kill('SIGTERM');
    await Promise.race([Promise.all(running.map((c) => c.exitPromise)), deadline(STOP_GRACE_MS)]);
    const stubborn = running.filter((c) => !c.exited);
    for (const c of stubborn) c.proc.kill('SIGKILL');
    await Promise.all(stubborn.map((c) => c.exitPromise));
    const problems: string[] = [];
    try {
      await dropSchemas(databaseUrl, [accountsSchema, billingSchema]);
    } catch (e) {
      problems.push(`dropping schemas: ${String(e)}`);
    }
    try {
      await redis.clean();
    } catch (e) {
      problems.push(`cleaning Redis: ${String(e)}`);
    }
    if (stubborn.length) {
      problems.push(
        `did not stop within ${STOP_GRACE_MS} ms of SIGTERM: ${stubborn.map((c) => c.name).join(', ')}`,
      );
    }
    for (const c of died) problems.push(failure(c, 'died while the tests ran').message);
    if (problems.length) throw new Error(`stack stop: ${problems.join('; ')}`);
  };

  try {
    await Promise.all([
      runToCompletion('accounts-migrate', ENTRIES.accountsMigrate, accountsEnv),
      runToCompletion('billing-migrate', ENTRIES.billingMigrate, billingEnv),
    ]);

    const mock = launch('mock-provider', [ENTRIES.mockCli], {
      MOCK_PORT: String(mockPort),
      PORT: String(mockPort),
    });
    const accounts = launch('accounts', [ENTRIES.accountsMain], {
      ...accountsEnv,
      PORT: String(accountsPort),
      TOLLGATE_ADMIN_EMAIL: admin.email,
      TOLLGATE_ADMIN_PASSWORD: admin.password,
    });
    const billing = launch('billing', [ENTRIES.billingMain], {
      ...billingEnv,
      PORT: String(billingPort),
    });
    const worker = launch('billing-worker', [ENTRIES.billingWorker], {
      ...billingEnv,
      PORT: String(workerHealthPort),
      HEALTH_PORT: String(workerHealthPort),
    });
    const proxy = launch('proxy', [ENTRIES.proxyMain], { ...proxyEnv, PORT: String(proxyPort) });
    const replicas = extraProxyPorts.map((port, i) => ({
      child: launch(`proxy-${i + 2}`, [ENTRIES.proxyMain], { ...proxyEnv, PORT: String(port) }),
      url: `http://127.0.0.1:${port}`,
    }));
    proxies.push(proxy, ...replicas.map((r) => r.child));

    await Promise.all([
      waitReadyTcpOrHttp(mock, mockUrl),
      waitReady(accounts, `${accountsUrl}/health/ready`),
      waitReady(billing, `${billingUrl}/health/ready`),
      waitReady(worker, `http://127.0.0.1:${workerHealthPort}/health/ready`),
      waitReady(proxy, `${proxyUrl}/health/ready`),
      ...replicas.map((r) => waitReady(r.child, `${r.url}/health/ready`)),
    ]);

    if (opts.portal) {
      const portal = launch(
        'portal',
        [ENTRIES.nextBin, 'start', 'apps/portal', '-p', String(portalPort), '-H', '127.0.0.1'],
        {
          PORT: String(portalPort),
          ACCOUNTS_URL: accountsUrl,
          BILLING_URL: billingUrl,
          NODE_ENV: 'production',
        },
      );
      await waitReady(portal, `${portalUrl}/login`);
    }
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }

  return {
    accountsUrl,
    billingUrl,
    proxyUrl,
    proxyUrls,
    portalUrl,
    mockUrl,
    admin,
    redisPrefix: redis.prefix,
    queuePrefix: redis.queuePrefix,
    databaseUrl,
    accountsSchema,
    billingSchema,
    stop,
    killProxy: async (index: number): Promise<void> => {
      const c = proxies[index];
      if (!c) throw new Error(`no proxy process ${index}`);
      killed.add(c);
      c.proc.kill('SIGKILL');
      await c.exitPromise;
    },
  };

  /** The mock provider may have no health route: any HTTP answer means it is listening. */
  async function waitReadyTcpOrHttp(c: Child, url: string): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (c.exited) throw failure(c, 'exited before it was ready');
      try {
        const res = await fetch(`${url}/__stats`, { signal: AbortSignal.timeout(2_000) });
        await res.arrayBuffer();
        return;
      } catch {
        await sleep(100);
      }
    }
    throw failure(c, `did not answer at ${url} within ${READY_TIMEOUT_MS} ms`);
  }
}

async function dropSchemas(url: string, schemas: string[]): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  } finally {
    await client.end();
  }
}
