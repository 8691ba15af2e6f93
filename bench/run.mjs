#!/usr/bin/env node
// Tollgate's benchmark: requests per second and added latency of the proxy against calling the project's mock
// provider directly, at 1 and 32 concurrent connections (non-streamed chat) and the added time to first byte of
// a stream. The two targets are interleaved round by round (A B, B A, A B …) so drift on the machine hits both.
// Loopback only; every run is bounded in time and in requests. See bench/README.md.
//
//   node bench/run.mjs                        # builds what is missing, sets up its own proxy, ~2 minutes
//   node bench/run.mjs --quick                # ~30 s smoke run
//   node bench/run.mjs --proxy http://127.0.0.1:8080 --key tg-… [--proxy-pid PID]   # a proxy you started
//   node bench/run.mjs --help

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { deletePrefix } from './redis-keys.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const require = createRequire(path.join(ROOT, 'package.json'));
const { Pool } = require('undici');

const HELP = `
node bench/run.mjs [options]

Targets
  --proxy URL            a running Tollgate proxy (origin, e.g. http://127.0.0.1:8080); needs --key.
                         Its channel must point at the mock this script starts (--mock-port).
  --key KEY              the tenant key for --proxy
  --proxy-pid PID        that proxy's process id, for CPU per request
  Without --proxy the script sets up its own: a fresh Redis prefix, a key record and a channel written into the
  Redis projection (credential sealed with a random TOLLGATE_ENCRYPTION_KEY given to the proxy), and starts the
  built proxy (dist/apps/proxy/apps/proxy/src/main.js, built first when missing).
  --redis URL            Redis for the self-managed proxy (default $REDIS_URL or redis://127.0.0.1:6379)
  --proxy-port P         port of the self-managed proxy (default 18080)
  --mock-port P          port of the mock provider (default 18000)
  --model NAME           model in the requests (default gpt-4o-mini)
  --build                rebuild the mock provider and the proxy before running
  --own-process          serve the admission variant from a proxy process of its own (port --proxy-port + 2,
                         same environment and placement as the plain proxy), so that every proxy process
                         serves one target a round: a process serving two targets back to back ran ~1 ms
                         faster at p50 at 32 connections flat out than one serving one (admission off in both)
  --proxy-env LIST       extra environment of the self-managed proxies, NAME=VALUE,… (e.g.
                         ADMISSION_LEASE_MS=0: every request runs the admission script itself, no leases)
  --variants LIST        extra proxy targets on the same (self-managed) proxy, each paired with the plain one:
                           routed     the model served by 8 channels in 2 priority tiers with unequal weights
                                      (all to the mock), mapped to --model upstream: what selection costs
                           admission  a key of its own organisation with day/month/total budgets, rpm, tpm and
                                      a concurrency limit on the key, its tenant and its organisation (set high
                                      enough never to refuse): what admission costs (under leases by default;
                                      --proxy-env ADMISSION_LEASE_MS=0 for the script on every request)
                           no-admission  a second proxy process started with ADMISSION_ENABLED=false
                                      (port --proxy-port + 1, same placement), the plain key: the
                                      proxy with admission off

Load (every run is bounded by --duration and --max-requests)
  --connections LIST     non-stream chat connection counts (default 1,32; 0: none). An entry C@R holds the
                         offered load at R requests/s over C connections (each request sent at its turn on the
                         schedule, or as soon as a connection is free when behind it) instead of sending flat
                         out: latency at a given load rather than at saturation, where every µs of CPU becomes
                         queueing
  --duration S           measured seconds per run (default 5)
  --warmup S             unmeasured seconds before each run (default 1)
  --rounds N             rounds; each round runs every scenario on both targets, order alternating (default 3)
  --stream-concurrency N concurrent streams in the stream scenario (default 1)
  --no-stream            skip the stream scenario
  --max-requests N       cap per run (default 500000)
  --max-total-s S        hard cap for the whole benchmark (default 900)

Placement and noise
  --pin                  taskset: the proxy on CPU 0; this loader and the mock on CPU 1
  --redis-cpu N          taskset the local Redis server (all its threads; pid from INFO) on CPU N for the
                         run, its affinity restored at the end. Unpinned, the scheduler moves Redis between
                         the proxy's CPU and the loader's from run to run, which shows as runs of one
                         configuration differing by more than admission costs
  --max-foreign-cores X  a run during which processes outside the benchmark used more than X cores is repeated
                         (default 0.25) …
  --noisy-retries N      … at most N times, keeping the least disturbed (default 2)
  --quiet-wait-s S       before each run wait up to S seconds for the machine to be quiet (default 15)

Output
  --cpu-prof DIR         write V8 CPU profiles of the self-managed proxies to DIR (on exit)
  --cpu-prof-interval US their sampling interval in µs (default 1000; 100 resolves per-request costs of a few µs)
  --gc-stats             count the self-managed proxies' garbage collections (bench/gc-stats.cjs, preloaded) and
                         report the milliseconds of scavenges and of full collections per 1,000 requests of each
                         measured run
  --out FILE             JSON results (default bench/results/bench-<stamp>.json)
  --quick                rounds=1 duration=2 warmup=0.5
`;

// ---------------------------------------------------------------- arguments
function parseArgs(argv) {
  const o = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const eq = a.indexOf('=');
    if (eq > 0) o[a.slice(2, eq)] = a.slice(eq + 1);
    else if (argv[i + 1] !== undefined && !argv[i + 1].startsWith('--')) o[a.slice(2)] = argv[++i];
    else o[a.slice(2)] = true;
  }
  return o;
}
const A = parseArgs(process.argv.slice(2));
if (A.help) {
  console.log(HELP);
  process.exit(0);
}
const quick = !!A.quick;
const num = (k, d) => {
  if (A[k] === undefined || A[k] === true) return d;
  const n = Number(A[k]);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${k} must be a non-negative number`);
  return n;
};
const CFG = {
  connections: String(A.connections ?? '1,32')
    .split(',')
    .filter((entry) => entry.trim() !== '0') // --connections 0: the stream scenario only
    .map((entry) => {
      const [c, r] = entry.split('@').map(Number);
      if (!Number.isInteger(c) || c < 1 || (r !== undefined && !(r > 0)))
        throw new Error(`--connections: bad entry ${entry} (C or C@R, e.g. 32@1000)`);
      return { connections: c, rate: r ?? null };
    }),
  duration: num('duration', quick ? 2 : 5),
  warmup: num('warmup', quick ? 0.5 : 1),
  rounds: num('rounds', quick ? 1 : 3),
  streamConcurrency: num('stream-concurrency', 1),
  stream: !A['no-stream'],
  maxRequests: num('max-requests', 500_000),
  maxTotalS: num('max-total-s', 900),
  maxForeign: num('max-foreign-cores', 0.25),
  noisyRetries: num('noisy-retries', 2),
  quietWaitS: num('quiet-wait-s', 15),
  mockPort: num('mock-port', 18000),
  proxyPort: num('proxy-port', 18080),
  model: String(A.model ?? 'gpt-4o-mini'),
  variants: String(A.variants ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v.length > 0),
  pin: !!A.pin,
  redisCpu: A['redis-cpu'] === undefined ? null : num('redis-cpu', 0),
  redisUrl: String(A.redis ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'),
  ownProcess: !!A['own-process'],
  gcStats: !!A['gc-stats'],
  proxyEnv: Object.fromEntries(
    String(A['proxy-env'] ?? '')
      .split(',')
      .filter((entry) => entry.trim() !== '')
      .map((entry) => {
        const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(entry.trim());
        if (!m) throw new Error(`--proxy-env: bad entry ${entry} (NAME=VALUE)`);
        return [m[1], m[2]];
      }),
  ),
};
const START = performance.now();
const deadline = () => (performance.now() - START) / 1000 > CFG.maxTotalS;

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\])$/i;
function loopbackUrl(raw, what) {
  const u = new URL(raw);
  if (!LOOPBACK.test(u.hostname))
    throw new Error(`refusing ${what} ${raw}: only loopback addresses are allowed`);
  if (u.protocol !== 'http:' && !(what === 'redis' && u.protocol === 'redis:'))
    throw new Error(`refusing ${what} ${raw}: protocol`);
  return u;
}
loopbackUrl(CFG.redisUrl, 'redis');
if (A.proxy && !A.key) throw new Error('--proxy needs --key');
for (const v of CFG.variants)
  if (!['routed', 'admission', 'no-admission'].includes(v))
    throw new Error(`unknown --variants entry ${v}`);
if (A.proxy && CFG.variants.length)
  throw new Error('--variants needs the self-managed proxy (no --proxy)');
if (A.proxy && Object.keys(CFG.proxyEnv).length)
  throw new Error('--proxy-env needs the self-managed proxy (no --proxy)');

// ---------------------------------------------------------------- small helpers
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const fmt = (x, d = 2) => (x == null || Number.isNaN(x) ? '-' : Number(x).toFixed(d));
const sgn = (x, d = 2) =>
  x == null || Number.isNaN(x) ? '-' : `${x >= 0 ? '+' : ''}${Number(x).toFixed(d)}`;
const median = (xs) => {
  const v = xs.filter((x) => x != null && !Number.isNaN(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
const pct = (sorted, p) =>
  sorted.length
    ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]
    : null;
const summary = (samples) => {
  const s = Float64Array.from(samples).sort();
  return {
    n: s.length,
    p50: pct(s, 50),
    p90: pct(s, 90),
    p99: pct(s, 99),
    max: s.length ? s[s.length - 1] : null,
  };
};

let CLK_TCK = 100;
try {
  CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
} catch {
  /* keep 100 */
}
function procCpu(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return null;
  }
}
function procRssMB(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}
function machineBusy() {
  const f = fs
    .readFileSync('/proc/stat', 'utf8')
    .split('\n', 1)[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return (f[0] + f[1] + f[2] + (f[5] || 0) + (f[6] || 0)) / CLK_TCK; // user nice system irq softirq
}
const KNOWN = new Set(); // pids whose CPU is part of the benchmark (mock, proxy, redis)
const knownCpu = () => {
  const u = process.cpuUsage();
  let s = (u.user + u.system) / 1e6;
  for (const pid of KNOWN) s += procCpu(pid) ?? 0;
  return s;
};
/** CPU cores used on the machine by processes outside the benchmark while `fn` ran. */
function noiseProbe() {
  const m0 = machineBusy();
  const k0 = knownCpu();
  const t0 = performance.now();
  return () => {
    const el = (performance.now() - t0) / 1000;
    return el > 0 ? Math.max(0, (machineBusy() - m0 - (knownCpu() - k0)) / el) : 0;
  };
}
async function waitQuiet() {
  const t0 = performance.now();
  for (;;) {
    const probe = noiseProbe();
    await sleep(500);
    const foreign = probe();
    if (foreign <= CFG.maxForeign) return;
    if ((performance.now() - t0) / 1000 > CFG.quietWaitS || deadline()) {
      console.log(
        `    (machine still busy: ${fmt(foreign)} cores outside the benchmark; measuring anyway)`,
      );
      return;
    }
  }
}

// ---------------------------------------------------------------- child processes
const children = [];
const logDir = path.join(HERE, 'results', 'logs');
fs.mkdirSync(logDir, { recursive: true });
function startChild(name, script, env, cpu) {
  const logFile = path.join(logDir, `${name}.log`);
  const fd = fs.openSync(logFile, 'w');
  // --cpu-prof DIR: V8 CPU profiles of the proxies (written when they exit), for chrome://inspect
  const nodeArgs =
    A['cpu-prof'] && name.startsWith('proxy')
      ? [
          '--cpu-prof',
          `--cpu-prof-dir=${path.resolve(String(A['cpu-prof']))}`,
          `--cpu-prof-interval=${Number(A['cpu-prof-interval'] ?? 1000)}`,
          script,
        ]
      : [script];
  // --gc-stats: the proxies count their collections and write the totals on SIGWINCH
  const gcFile =
    CFG.gcStats && name.startsWith('proxy') ? path.join(logDir, `${name}.gc.json`) : null;
  if (gcFile) {
    fs.rmSync(gcFile, { force: true });
    nodeArgs.unshift('--require', path.join(HERE, 'gc-stats.cjs'));
    env = { ...env, BENCH_GC_STATS_FILE: gcFile };
  }
  const [cmd, args] =
    cpu !== undefined
      ? ['taskset', ['-c', String(cpu), process.execPath, ...nodeArgs]]
      : [process.execPath, nodeArgs];
  const child = spawn(cmd, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', fd, fd],
  });
  fs.closeSync(fd);
  child.on('exit', (code, sig) => {
    child.exited = true;
    if (!stopping) console.error(`[${name}] exited (code ${code}, signal ${sig}); log: ${logFile}`);
  });
  children.push({ name, child });
  KNOWN.add(child.pid);
  if (gcFile) GC_FILES.set(child.pid, gcFile);
  return child;
}
let stopping = false;
async function stopChildren() {
  stopping = true;
  for (const { child } of children) if (!child.exited) child.kill('SIGTERM');
  const t0 = Date.now();
  while (children.some(({ child }) => !child.exited) && Date.now() - t0 < 5000) await sleep(50);
  for (const { child } of children) if (!child.exited) child.kill('SIGKILL');
}
/** --gc-stats: the file each proxy (by pid) writes its collection totals to */
const GC_FILES = new Map();
/** A proxy's collection totals now (--gc-stats), or null: signals it and waits (bounded) for the file. */
async function gcTotals(pid) {
  const file = GC_FILES.get(pid);
  if (!file) return null;
  const read = () => {
    try {
      return JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch {
      return null;
    }
  };
  const before = read()?.seq ?? 0;
  process.kill(pid, 'SIGWINCH');
  const t0 = performance.now();
  while (performance.now() - t0 < 5000) {
    const now = read();
    if (now && now.seq > before) return now;
    await sleep(5);
  }
  return null;
}
/** Refuses to start a server on a port something else already answers on (we would measure that instead). */
async function assertPortFree(port, what) {
  const inUse = await new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    sock.setTimeout(1000);
    sock.once('connect', () => (sock.destroy(), resolve(true)));
    sock.once('timeout', () => (sock.destroy(), resolve(false)));
    sock.once('error', () => resolve(false));
  });
  if (inUse) throw new Error(`port ${port} is already in use; pick another with --${what}-port`);
}
async function waitHttp(url, { timeoutMs = 30_000, ok = (s) => s === 200, child = null } = {}) {
  const t0 = Date.now();
  let last = '';
  while (Date.now() - t0 < timeoutMs) {
    if (child?.exited)
      throw new Error(`${url}: the process exited before it was ready (see bench/results/logs)`);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
      last = `${r.status} ${(await r.text()).slice(0, 200)}`;
      if (ok(r.status)) return;
    } catch (e) {
      last = e.message;
    }
    await sleep(200);
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms (${last})`);
}
function buildIfMissing(project, file) {
  if (fs.existsSync(path.join(ROOT, file)) && !A.build) return;
  console.log(`building ${project} …`);
  const res = spawnSync('npx', ['nx', 'run', `${project}:build`], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
    timeout: 300_000,
  });
  if (res.status !== 0 || !fs.existsSync(path.join(ROOT, file)))
    throw new Error(`nx run ${project}:build failed`);
}

// ---------------------------------------------------------------- the self-managed proxy's Redis state
/** What setUpRedis wrote, so it is removed however the benchmark ends. */
let STATE = null;
const MOCK_CLI = 'dist/libs/mock-provider/libs/mock-provider/src/cli.js';
const PROXY_MAIN = 'dist/apps/proxy/apps/proxy/src/main.js';
// The proxy's own compiled copies of the shared libs: the same SecretBox and key layout it reads with.
const PROXY_SECRET_BOX = 'dist/apps/proxy/libs/server/kit/src/lib/secret-box.js';
const PROXY_PROJECTIONS = 'dist/apps/proxy/libs/contracts/src/lib/projections.js';
const PROXY_ADMISSION_KEYS = 'dist/apps/proxy/libs/server/admission/src/lib/admission-keys.js';
const ROUTED_MODEL = 'bench-routed';

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function newKeySecret() {
  let s = 'tg-';
  while (s.length < 43) {
    const b = randomBytes(64);
    for (const x of b) if (x < 248 && s.length < 43) s += BASE62[x % 62];
  }
  return s;
}

async function setUpRedis(mockBase) {
  const Redis = require('ioredis');
  const { SecretBox } = require(path.join(ROOT, PROXY_SECRET_BOX));
  const { projectionKeys } = require(path.join(ROOT, PROXY_PROJECTIONS));
  const name = `bench_${randomBytes(4).toString('hex')}`;
  const prefix = `${name}:`;
  const queuePrefix = `{${name}}`;
  const encryptionKey = randomBytes(32).toString('hex');
  const box = new SecretBox(encryptionKey);
  const key = newKeySecret();
  const keyHash = createHash('sha256').update(key).digest('hex');
  const organisationId = randomUUID();
  const tenantId = randomUUID();
  const channelId = randomUUID();
  const keyRecord = {
    id: randomUUID(),
    name: 'bench',
    prefix: key.slice(0, 12),
    organisationId,
    tenantId,
    tenantName: 'bench',
    tenantGroup: 'default',
    models: null,
    expiresAt: null,
    revoked: false,
    allowFallback: true,
  };
  const channel = {
    id: channelId,
    name: 'bench-mock',
    type: 'openai',
    baseUrl: `${mockBase}/v1`,
    encryptedApiKey: box.seal('sk-mock-bench', channelId),
    models: [CFG.model, 'text-embedding-3-small'],
    modelMapping: {},
    priority: 0,
    weight: 1,
    groups: ['default'],
    status: 'enabled',
    organisationId: null,
  };
  const price = {
    model: CFG.model,
    inputNanoUsdPerMTok: '150000000',
    outputNanoUsdPerMTok: '600000000',
    version: 1,
  };
  const redis = new Redis(CFG.redisUrl, { maxRetriesPerRequest: 2 });
  STATE = { redis, prefix, queuePrefix, encryptionKey, key, admissionKey: null };
  await redis.set(projectionKeys.keyRecord(prefix, keyHash), JSON.stringify(keyRecord));
  await redis.hset(projectionKeys.channels(prefix), channelId, JSON.stringify(channel));
  await redis.hset(projectionKeys.prices(prefix), CFG.model, JSON.stringify(price));
  if (CFG.variants.includes('routed')) {
    // 8 channels to the same mock: tier 10 with weights 1..4, tier 0 with weight 1 (a fallback tier)
    for (let i = 0; i < 8; i++) {
      const id = randomUUID();
      const routed = {
        ...channel,
        id,
        name: `bench-routed-${i}`,
        encryptedApiKey: box.seal('sk-mock-bench', id),
        models: [ROUTED_MODEL],
        modelMapping: { [ROUTED_MODEL]: CFG.model },
        priority: i < 4 ? 10 : 0,
        weight: i < 4 ? i + 1 : 1,
      };
      await redis.hset(projectionKeys.channels(prefix), id, JSON.stringify(routed));
    }
    await redis.hset(
      projectionKeys.prices(prefix),
      ROUTED_MODEL,
      JSON.stringify({ ...price, model: ROUTED_MODEL }),
    );
  }
  if (CFG.variants.includes('admission')) {
    if (!fs.existsSync(path.join(ROOT, PROXY_ADMISSION_KEYS)))
      throw new Error(
        `${PROXY_ADMISSION_KEYS} is missing: this proxy build has no admission (rebuild with --build)`,
      );
    const { admissionKeys } = require(path.join(ROOT, PROXY_ADMISSION_KEYS));
    const limitedKey = newKeySecret();
    const limited = {
      ...keyRecord,
      id: randomUUID(),
      name: 'bench-limited',
      prefix: limitedKey.slice(0, 12),
      organisationId: randomUUID(),
      tenantId: randomUUID(),
      tenantName: 'bench-limited',
      billingTimeZone: 'Europe/Berlin',
    };
    const usd = 1_000_000_000n;
    // generous enough never to refuse during a bounded run, so every request pays the full check
    const limits = {
      dailyBudgetNano: String(1_000_000n * usd),
      monthlyBudgetNano: String(10_000_000n * usd),
      totalBudgetNano: String(100_000_000n * usd),
      rpm: '100000000',
      tpm: '100000000000',
      maxConcurrent: '100000',
    };
    const scopes = [
      { kind: 'org', orgId: limited.organisationId },
      { kind: 'tenant', orgId: limited.organisationId, tenantId: limited.tenantId },
      { kind: 'key', orgId: limited.organisationId, keyId: limited.id },
    ];
    for (const scope of scopes) await redis.hset(admissionKeys.limits(prefix, scope), limits);
    await redis.set(
      projectionKeys.keyRecord(prefix, createHash('sha256').update(limitedKey).digest('hex')),
      JSON.stringify(limited),
    );
    STATE.admissionKey = limitedKey;
  }
  const info = await redis.info('server');
  const redisPid = Number(/process_id:(\d+)/.exec(info)?.[1]);
  if (redisPid) KNOWN.add(redisPid);
  if (CFG.redisCpu !== null) pinRedis(redisPid, CFG.redisCpu);
  return STATE;
}

/** Redis' affinity before --redis-cpu changed it: {pid, mask} (restored on exit). */
let REDIS_AFFINITY = null;

function pinRedis(pid, cpu) {
  if (!pid) throw new Error('--redis-cpu: Redis did not report its process id');
  const before = execFileSync('taskset', ['-p', String(pid)], { encoding: 'utf8' });
  const mask = /affinity mask:\s*([0-9a-f]+)/i.exec(before)?.[1];
  if (!mask)
    throw new Error(`--redis-cpu: cannot read the affinity of Redis (pid ${pid}): ${before}`);
  execFileSync('taskset', ['-a', '-cp', String(cpu), String(pid)], { stdio: 'ignore' });
  REDIS_AFFINITY = { pid, mask };
}

function unpinRedis() {
  if (!REDIS_AFFINITY) return;
  try {
    execFileSync('taskset', ['-a', '-p', REDIS_AFFINITY.mask, String(REDIS_AFFINITY.pid)], {
      stdio: 'ignore',
    });
  } catch (err) {
    console.error(
      `could not restore the affinity of Redis: ${err instanceof Error ? err.message : err}`,
    );
  }
  REDIS_AFFINITY = null;
}

// ---------------------------------------------------------------- requests
const chatBody = (stream) =>
  JSON.stringify({
    model: CFG.model,
    messages: [
      { role: 'system', content: 'You are a concise assistant.' },
      { role: 'user', content: 'Say in one sentence why a gateway should add little latency.' },
    ],
    max_tokens: 64,
    ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
  });
const BODY = chatBody(false);
const STREAM_BODY = chatBody(true);
const withModel = (body, model) =>
  body.replace(`"model":${JSON.stringify(CFG.model)}`, `"model":${JSON.stringify(model)}`);

async function check(target) {
  const r = await fetch(`${target.origin}/v1/chat/completions`, {
    method: 'POST',
    headers: target.headers,
    body: target.body ?? BODY,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await r.text();
  if (r.status !== 200)
    throw new Error(`${target.name}: chat answered ${r.status}: ${text.slice(0, 300)}`);
  const j = JSON.parse(text);
  if (!j.choices?.[0]?.message || !j.usage)
    throw new Error(`${target.name}: chat answer lacks choices or usage`);
  const s = await fetch(`${target.origin}/v1/chat/completions`, {
    method: 'POST',
    headers: target.headers,
    body: target.streamBody ?? STREAM_BODY,
    signal: AbortSignal.timeout(10_000),
  });
  const st = await s.text();
  if (s.status !== 200 || !st.includes('data: [DONE]'))
    throw new Error(`${target.name}: stream answered ${s.status}: ${st.slice(0, 300)}`);
}

/**
 * One measured run: `connections` workers on one keep-alive pool, each sending the next request when the last
 * answer is fully read. Returns latency (ms to the whole body, or to the first body bytes for streams), RPS and
 * CPU. Bounded by `seconds` and CFG.maxRequests.
 */
async function runLoad(target, { connections, seconds, stream, measure, rate = null }) {
  const pool = new Pool(target.origin, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
  const lat = [];
  const ttfb = [];
  let ok = 0;
  let bad = 0;
  let errors = 0;
  let firstError = null;
  const body = stream ? (target.streamBody ?? STREAM_BODY) : (target.body ?? BODY);
  const headers = stream ? { ...target.headers, accept: 'text/event-stream' } : target.headers;
  const gc0 = measure && target.pid ? await gcTotals(target.pid) : null;
  const cpu0 = target.pid ? procCpu(target.pid) : null;
  const probe = noiseProbe();
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let issued = 0;
  const worker = async () => {
    while (performance.now() < end && ok + bad + errors < CFG.maxRequests) {
      if (rate !== null) {
        // the next request's turn on the schedule (rate per second from t0)
        const due = t0 + (issued++ * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        if (performance.now() >= end) break;
      }
      const s = performance.now();
      try {
        const res = await pool.request({
          path: '/v1/chat/completions',
          method: 'POST',
          headers,
          body,
          headersTimeout: 10_000,
          bodyTimeout: 10_000,
        });
        let first = null;
        for await (const _chunk of res.body) if (first === null) first = performance.now();
        const e = performance.now();
        if (res.statusCode === 200) {
          ok++;
          if (measure) {
            lat.push(e - s);
            if (stream) ttfb.push((first ?? e) - s);
          }
        } else {
          bad++;
          firstError ??= `status ${res.statusCode}`;
        }
      } catch (err) {
        errors++;
        firstError ??= err.message;
        await sleep(5);
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  const elapsed = (performance.now() - t0) / 1000;
  const foreign = probe();
  const cpu1 = target.pid ? procCpu(target.pid) : null;
  const gc1 = gc0 ? await gcTotals(target.pid) : null;
  await pool.close();
  const cpu = cpu0 != null && cpu1 != null ? cpu1 - cpu0 : null;
  return {
    target: target.name,
    connections,
    rate,
    stream,
    elapsed,
    ok,
    bad,
    errors,
    firstError,
    rps: ok / elapsed,
    latency: summary(lat),
    ttfb: stream ? summary(ttfb) : null,
    cpuUsPerReq: cpu != null && ok ? (cpu / ok) * 1e6 : null,
    // ms of collections per 1,000 requests (the observer reports each collection just after it)
    gc:
      gc0 && gc1 && ok
        ? {
            scavengeMsPerKReq: ((gc1.minorMs - gc0.minorMs) * 1000) / ok,
            fullMsPerKReq: ((gc1.majorMs - gc0.majorMs) * 1000) / ok,
            collections: gc1.minor - gc0.minor + gc1.major - gc0.major,
          }
        : null,
    cpuCores: cpu != null ? cpu / elapsed : null,
    rssMB: target.pid ? procRssMB(target.pid) : null,
    foreignCores: foreign,
  };
}

/** A measured run, repeated (up to CFG.noisyRetries) while other processes disturbed it; keeps the quietest. */
async function measured(target, scenario, afterRun) {
  let best = null;
  for (let attempt = 0; attempt <= CFG.noisyRetries; attempt++) {
    await waitQuiet();
    if (CFG.warmup > 0) await runLoad(target, { ...scenario, seconds: CFG.warmup, measure: false });
    const r = await runLoad(target, { ...scenario, seconds: CFG.duration, measure: true });
    await afterRun();
    r.attempt = attempt + 1;
    if (!best || r.foreignCores < best.foreignCores) best = r;
    if (r.foreignCores <= CFG.maxForeign || deadline()) break;
    console.log(
      `    (${target.name}: ${fmt(r.foreignCores)} cores used outside the benchmark during the run; repeating)`,
    );
  }
  return best;
}

// ---------------------------------------------------------------- main
async function main() {
  if (CFG.pin) {
    // this loader (all its threads) on CPU 1, with the mock; the proxy gets CPU 0 to itself
    execFileSync('taskset', ['-a', '-cp', '1', String(process.pid)], { stdio: 'ignore' });
  }
  buildIfMissing('mock-provider', MOCK_CLI);
  const mockBase = `http://127.0.0.1:${CFG.mockPort}`;
  await assertPortFree(CFG.mockPort, 'mock');
  const mock = startChild(
    'mock',
    path.join(ROOT, MOCK_CLI),
    { MOCK_PORT: String(CFG.mockPort), MOCK_HOST: '127.0.0.1' },
    CFG.pin ? 1 : undefined,
  );
  await waitHttp(`${mockBase}/health`, { child: mock });

  let proxy;
  let noAdmissionProxy = null;
  /** the admission variant's own process (--own-process), else null: it shares the plain proxy's */
  let admissionProxy = null;
  if (A.proxy) {
    const u = loopbackUrl(String(A.proxy), 'proxy');
    const pid = A['proxy-pid'] ? Number(A['proxy-pid']) : null;
    if (pid) KNOWN.add(pid);
    proxy = {
      name: 'proxy',
      origin: u.origin,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${A.key}` },
      pid,
    };
  } else {
    buildIfMissing('proxy', PROXY_MAIN);
    await assertPortFree(CFG.proxyPort, 'proxy');
    const state = await setUpRedis(mockBase);
    const proxyEnv = {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(CFG.proxyPort),
      LOG_LEVEL: 'warn',
      REDIS_URL: CFG.redisUrl,
      TOLLGATE_REDIS_PREFIX: state.prefix,
      TOLLGATE_QUEUE_PREFIX: state.queuePrefix,
      TOLLGATE_ENCRYPTION_KEY: state.encryptionKey,
      ...CFG.proxyEnv,
    };
    const child = startChild(
      'proxy',
      path.join(ROOT, PROXY_MAIN),
      proxyEnv,
      CFG.pin ? 0 : undefined,
    );
    proxy = {
      name: 'proxy',
      origin: `http://127.0.0.1:${CFG.proxyPort}`,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${state.key}` },
      pid: child.pid,
    };
    await waitHttp(`${proxy.origin}/health/ready`, { child });
    if (CFG.variants.includes('no-admission')) {
      await assertPortFree(CFG.proxyPort + 1, 'proxy without admission');
      const off = startChild(
        'proxy-no-admission',
        path.join(ROOT, PROXY_MAIN),
        { ...proxyEnv, PORT: String(CFG.proxyPort + 1), ADMISSION_ENABLED: 'false' },
        CFG.pin ? 0 : undefined,
      );
      noAdmissionProxy = {
        name: 'no-admission',
        origin: `http://127.0.0.1:${CFG.proxyPort + 1}`,
        headers: proxy.headers,
        pid: off.pid,
      };
      await waitHttp(`${noAdmissionProxy.origin}/health/ready`, { child: off });
    }
    if (CFG.ownProcess && CFG.variants.includes('admission')) {
      await assertPortFree(CFG.proxyPort + 2, 'proxy for the admission variant');
      const own = startChild(
        'proxy-admission',
        path.join(ROOT, PROXY_MAIN),
        { ...proxyEnv, PORT: String(CFG.proxyPort + 2) },
        CFG.pin ? 0 : undefined,
      );
      admissionProxy = { origin: `http://127.0.0.1:${CFG.proxyPort + 2}`, pid: own.pid };
      await waitHttp(`${admissionProxy.origin}/health/ready`, { child: own });
    }
  }
  const direct = {
    name: 'direct',
    origin: mockBase,
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-mock-bench' },
    pid: null,
  };
  const variants = [];
  for (const v of CFG.variants) {
    if (v === 'routed')
      variants.push({
        ...proxy,
        name: 'routed',
        body: withModel(BODY, ROUTED_MODEL),
        streamBody: withModel(STREAM_BODY, ROUTED_MODEL),
      });
    else if (v === 'admission')
      variants.push({
        ...proxy,
        ...(admissionProxy ?? {}),
        name: 'admission',
        headers: { ...proxy.headers, authorization: `Bearer ${STATE.admissionKey}` },
      });
    else variants.push(noAdmissionProxy);
  }
  const targets = [direct, proxy, ...variants];
  for (const t of targets) await check(t);

  // usage events pile up in the (unconsumed) queue of the self-managed proxy: drop them between runs
  const afterRun = async () => {
    if (STATE) await deletePrefix(STATE.redis, `${STATE.queuePrefix}*`);
  };

  const scenarios = [
    ...CFG.connections.map(({ connections, rate }) => ({
      id: rate === null ? `chat@${connections}` : `chat@${connections}@${rate}/s`,
      connections,
      rate,
      stream: false,
    })),
    ...(CFG.stream
      ? [
          {
            id: `stream@${CFG.streamConcurrency}`,
            connections: CFG.streamConcurrency,
            stream: true,
          },
        ]
      : []),
  ];
  const results = [];
  console.log(
    `Tollgate bench: ${CFG.rounds} round(s) × ${scenarios.map((s) => s.id).join(', ')} × {${targets.map((t) => t.name).join(', ')}}; ` +
      `${CFG.duration} s per run (+${CFG.warmup} s warm-up)${CFG.pin ? '; pinned: proxy CPU 0, loader+mock CPU 1' : ''}${CFG.redisCpu !== null ? `; Redis CPU ${CFG.redisCpu}` : ''}${CFG.ownProcess ? '; admission variant in its own process' : ''}${
        Object.keys(CFG.proxyEnv).length
          ? `; proxy env ${Object.entries(CFG.proxyEnv)
              .map(([k, v]) => `${k}=${v}`)
              .join(' ')}`
          : ''
      }`,
  );
  outer: for (let round = 1; round <= CFG.rounds; round++) {
    for (const sc of scenarios) {
      const order = round % 2 === 1 ? targets : [...targets].reverse();
      for (const t of order) {
        if (deadline()) {
          console.log(`stopping: --max-total-s ${CFG.maxTotalS} reached`);
          break outer;
        }
        const r = await measured(t, sc, afterRun);
        r.round = round;
        r.scenario = sc.id;
        results.push(r);
        const l = sc.stream ? r.ttfb : r.latency;
        console.log(
          `  round ${round} ${sc.id.padEnd(9)} ${t.name.padEnd(9)} ${fmt(r.rps, 0).padStart(7)} req/s  ` +
            `${sc.stream ? 'ttfb' : 'lat '} p50 ${fmt(l.p50, 3)} p99 ${fmt(l.p99, 3)} ms` +
            `${r.cpuUsPerReq != null ? `  cpu ${fmt(r.cpuUsPerReq, 0)} µs/req` : ''}` +
            `${r.gc ? `  gc ${fmt(r.gc.scavengeMsPerKReq, 1)}+${fmt(r.gc.fullMsPerKReq, 1)} ms/1k req` : ''}` +
            `${r.bad + r.errors ? `  FAILED ${r.bad + r.errors} (${r.firstError})` : ''}  foreign ${fmt(r.foreignCores)}`,
        );
      }
    }
  }

  /** --gc-stats: medians over the runs of their collection ms per 1,000 requests, or null */
  const gcMedian = (runs) => {
    const g = runs.map((r) => r.gc).filter((x) => x);
    return g.length
      ? {
          scavenge: median(g.map((x) => x.scavengeMsPerKReq)),
          full: median(g.map((x) => x.fullMsPerKReq)),
        }
      : null;
  };
  /** Median over rounds of each run's quantile q minus that of the same round's run in `base`. */
  const pairedDeltas = (runs, base, key, q) =>
    runs
      .map((x) => {
        const b = base.find((y) => y.round === x.round);
        return b ? x[key][q] - b[key][q] : null;
      })
      .filter((v) => v !== null);
  const pairedDelta = (runs, base, key, q) => median(pairedDeltas(runs, base, key, q));
  /**
   * Flat out (each connection sends its next request when the last answer is read), the mean
   * latency is the number in flight over the throughput (Little's law): the part of a p50
   * difference that comes from the CPU a feature costs. The rest is a change in the latency
   * distribution's shape (p50 against mean).
   */
  const meanLatencyMs = (r) => (r.connections * 1000) / r.rps;
  /** median over rounds of f(run, the same round's run in `base`) */
  const pairedMedian = (runs, base, f) =>
    median(
      runs
        .map((x) => {
          const b = base.find((y) => y.round === x.round);
          return b && x.rps > 0 && b.rps > 0 ? f(x, b) : null;
        })
        .filter((v) => v !== null),
    );
  const meanDelta = (x, b) => meanLatencyMs(x) - meanLatencyMs(b);
  const shapeDelta = (x, b) => x.latency.p50 - b.latency.p50 - meanDelta(x, b);
  /** the middle half of the paired differences (lower and upper quartile): how far rounds disagree */
  const quartiles = (values) => {
    const v = [...values].sort((a, b) => a - b);
    const at = (f) => {
      const i = f * (v.length - 1);
      const lo = Math.floor(i);
      return v.length ? v[lo] + (v[Math.min(lo + 1, v.length - 1)] - v[lo]) * (i - lo) : null;
    };
    return [at(0.25), at(0.75)];
  };

  // per scenario: medians over rounds, and the added latency paired round by round
  const table = [];
  const variantTable = [];
  for (const sc of scenarios) {
    const of = (name) => results.filter((r) => r.scenario === sc.id && r.target === name);
    const d = of('direct');
    const p = of('proxy');
    const key = sc.stream ? 'ttfb' : 'latency';
    table.push({
      scenario: sc.id,
      directRps: median(d.map((r) => r.rps)),
      proxyRps: median(p.map((r) => r.rps)),
      directP50: median(d.map((r) => r[key].p50)),
      directP99: median(d.map((r) => r[key].p99)),
      proxyP50: median(p.map((r) => r[key].p50)),
      proxyP99: median(p.map((r) => r[key].p99)),
      addedP50: pairedDelta(p, d, key, 'p50'),
      addedP99: pairedDelta(p, d, key, 'p99'),
      proxyCpuUsPerReq: median(p.map((r) => r.cpuUsPerReq)),
      failures: [...d, ...p].reduce((n, r) => n + r.bad + r.errors, 0),
      maxForeignCores: Math.max(...[...d, ...p].map((r) => r.foreignCores)),
    });
    // each variant against the plain proxy of the same round: what routing / admission adds
    for (const v of variants) {
      const vr = of(v.name);
      variantTable.push({
        scenario: sc.id,
        variant: v.name,
        rps: median(vr.map((r) => r.rps)),
        p50: median(vr.map((r) => r[key].p50)),
        p99: median(vr.map((r) => r[key].p99)),
        overProxyP50: pairedDelta(vr, p, key, 'p50'),
        overProxyP99: pairedDelta(vr, p, key, 'p99'),
        cpuUsPerReq: median(vr.map((r) => r.cpuUsPerReq)),
        failures: vr.reduce((n, r) => n + r.bad + r.errors, 0),
      });
    }
  }

  console.log(
    '\n| scenario | direct req/s | proxy req/s | direct p50 / p99 ms | proxy p50 / p99 ms | added p50 / p99 ms | proxy CPU µs/req | failures |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const t of table) {
    console.log(
      `| ${t.scenario}${t.scenario.startsWith('stream') ? ' (TTFB)' : ''} | ${fmt(t.directRps, 0)} | ${fmt(t.proxyRps, 0)} | ` +
        `${fmt(t.directP50, 3)} / ${fmt(t.directP99, 3)} | ${fmt(t.proxyP50, 3)} / ${fmt(t.proxyP99, 3)} | ` +
        `${sgn(t.addedP50, 3)} / ${sgn(t.addedP99, 3)} | ${fmt(t.proxyCpuUsPerReq, 0)} | ${t.failures} |`,
    );
  }
  if (variantTable.length) {
    console.log(
      '\n| scenario | variant | req/s | p50 / p99 ms | over plain proxy p50 / p99 ms | CPU µs/req | failures |',
    );
    console.log('|---|---|---|---|---|---|---|');
    for (const t of variantTable) {
      console.log(
        `| ${t.scenario} | ${t.variant} | ${fmt(t.rps, 0)} | ${fmt(t.p50, 3)} / ${fmt(t.p99, 3)} | ` +
          `${sgn(t.overProxyP50, 3)} / ${sgn(t.overProxyP99, 3)} | ${fmt(t.cpuUsPerReq, 0)} | ${t.failures} |`,
      );
    }
  }
  // admission on against off, paired round by round (needs the no-admission variant)
  const admissionTable = [];
  if (variants.some((v) => v.name === 'no-admission')) {
    for (const sc of scenarios) {
      const key = sc.stream ? 'ttfb' : 'latency';
      const of = (name) => results.filter((r) => r.scenario === sc.id && r.target === name);
      const off = of('no-admission');
      const row = { scenario: sc.id, rounds: off.length };
      for (const [label, name] of [
        ['noLimits', 'proxy'],
        ['limits', 'admission'],
      ]) {
        if (!of(name).length) continue;
        row[label] = {
          addedP50: pairedDelta(of(name), off, key, 'p50'),
          addedP50Quartiles: quartiles(pairedDeltas(of(name), off, key, 'p50')),
          addedP99: pairedDelta(of(name), off, key, 'p99'),
          // flat out only: what the throughput difference alone adds to the mean latency
          addedMean: !sc.stream && sc.rate === null ? pairedMedian(of(name), off, meanDelta) : null,
          addedShape:
            !sc.stream && sc.rate === null ? pairedMedian(of(name), off, shapeDelta) : null,
          rps: median(of(name).map((r) => r.rps)),
          cpuUsPerReq: median(of(name).map((r) => r.cpuUsPerReq)),
          gcMsPerKReq: gcMedian(of(name)),
        };
      }
      row.off = {
        rps: median(off.map((r) => r.rps)),
        cpuUsPerReq: median(off.map((r) => r.cpuUsPerReq)),
        gcMsPerKReq: gcMedian(off),
      };
      admissionTable.push(row);
    }
    console.log(
      '\n| scenario | admission adds p50 (middle half of the rounds) / p99 ms, no limits | with limits on 3 scopes | req/s off / no limits / limits | CPU µs/req off / no limits / limits |',
    );
    console.log('|---|---|---|---|---|');
    for (const t of admissionTable) {
      const pair = (x) =>
        x
          ? `${sgn(x.addedP50, 3)} (${sgn(x.addedP50Quartiles[0], 2)} … ${sgn(x.addedP50Quartiles[1], 2)}) / ${sgn(x.addedP99, 3)}`
          : '–';
      console.log(
        `| ${t.scenario}${t.scenario.startsWith('stream') ? ' (TTFB)' : ''} | ${pair(t.noLimits)} | ${pair(t.limits)} | ` +
          `${fmt(t.off.rps, 0)} / ${fmt(t.noLimits?.rps, 0)} / ${fmt(t.limits?.rps, 0)} | ` +
          `${fmt(t.off.cpuUsPerReq, 0)} / ${fmt(t.noLimits?.cpuUsPerReq, 0)} / ${fmt(t.limits?.cpuUsPerReq, 0)} |`,
      );
    }
  }
  const flatOut = admissionTable.filter((t) => t.noLimits?.addedMean != null);
  if (flatOut.length) {
    console.log(
      '\n| scenario (flat out) | admission adds to the mean latency (in flight / throughput) ms, no limits / limits | to the p50 beyond that (the distribution\'s shape), no limits / limits |',
    );
    console.log('|---|---|---|');
    const rest = (x) => (x ? sgn(x.addedShape, 3) : '–');
    for (const t of flatOut)
      console.log(
        `| ${t.scenario} | ${sgn(t.noLimits.addedMean, 3)} / ${sgn(t.limits?.addedMean, 3)} | ${rest(t.noLimits)} / ${rest(t.limits)} |`,
      );
  }
  if (CFG.gcStats && admissionTable.length) {
    console.log(
      '\n| scenario | GC ms per 1,000 requests (scavenges + full), off / no limits / limits |',
    );
    console.log('|---|---|');
    const gcText = (g) => (g ? `${fmt(g.scavenge, 1)} + ${fmt(g.full, 1)}` : '–');
    for (const t of admissionTable)
      console.log(
        `| ${t.scenario} | ${gcText(t.off.gcMsPerKReq)} / ${gcText(t.noLimits?.gcMsPerKReq)} / ${gcText(t.limits?.gcMsPerKReq)} |`,
      );
  }
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}`;
  console.log(
    `\n${new Date().toISOString().slice(0, 10)} · ${machine}${CFG.pin ? ' · pinned' : ''}${
      Object.keys(CFG.proxyEnv).length
        ? ` · ${Object.entries(CFG.proxyEnv)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')}`
        : ''
    }`,
  );

  const out = A.out
    ? path.resolve(String(A.out))
    : path.join(HERE, 'results', `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(
    out,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        machine,
        config: CFG,
        table,
        variantTable,
        admissionTable,
        runs: results,
      },
      null,
      2,
    ),
  );
  console.log(`results: ${path.relative(ROOT, out)}`);
  return { failed: table.some((t) => t.failures > 0) || variantTable.some((t) => t.failures > 0) };
}

let exitCode = 0;
try {
  const r = await main();
  if (r.failed) {
    console.error('some requests failed: see the table');
    exitCode = 1;
  }
} catch (err) {
  console.error(`bench failed: ${err instanceof Error ? err.stack : String(err)}`);
  exitCode = 1;
} finally {
  unpinRedis();
  await stopChildren();
  if (STATE) {
    await deletePrefix(STATE.redis, `${STATE.prefix}*`).catch(() => 0);
    await deletePrefix(STATE.redis, `${STATE.queuePrefix}*`).catch(() => 0);
    STATE.redis.disconnect();
  }
}
process.exit(exitCode);
