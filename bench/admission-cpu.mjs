#!/usr/bin/env node
/**
 * What admission's own code costs per request, in CPU time of the process running it: the built
 * proxy's `AdmissionService` (request estimate, admit, the settlement run by the usage record) in a
 * loop of requests of one key, against the loopback Redis, with the proxy's defaults (leases on).
 * Each round runs three loops of the same requests, one after the other: without admission (the
 * exchange and its usage record only), a key with no limits, and a key with day/month/total
 * budgets, rpm, tpm and a concurrency limit on key, tenant and organisation (far above what the
 * run uses, as in `bench/run.mjs`). The loop yields to the event loop every 32 requests, so the
 * lease scripts and settlements it sends are answered and counted in its CPU time.
 *
 * Unlike `bench/run.mjs`, nothing else shares the process (no HTTP, no upstream), so the figure is
 * admission's alone: what it adds to a proxy's CPU per request, which at saturation becomes
 * latency (about that many µs times the requests in flight).
 *
 * Needs the proxy built (`npx nx run proxy:build`; the service is loaded from its output) and Redis
 * on 127.0.0.1:6379 (or --redis URL, loopback only).
 *
 *   node bench/admission-cpu.mjs [--requests 30000] [--rounds 7] [--redis redis://127.0.0.1:6379]
 *   ADMISSION_LEASE_MS=0 node bench/admission-cpu.mjs     # no leases: the script on every request
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deletePrefix } from './redis-keys.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
require('reflect-metadata');
const Redis = require('ioredis');
const src = join(root, 'dist/apps/proxy/apps/proxy/src');
const { AdmissionService } = require(join(src, 'admission/admission.service.js'));
const { estimateRequest } = require(join(src, 'admission/request-estimate.js'));
const { Exchange } = require(join(src, 'v1/exchange.js'));
const { loadProxyConfig } = require(join(src, 'config/proxy.config.js'));
const { AdmissionStore, NO_LIMITS } = require(
  join(root, 'dist/apps/proxy/libs/server/admission/src/index.js'),
);

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const N = Math.min(Math.max(Number(arg('requests', '30000')), 1000), 200_000);
const ROUNDS = Math.min(Math.max(Number(arg('rounds', '7')), 1), 50);
const url = new URL(arg('redis', process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'));
if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(url.hostname)) {
  console.error('loopback Redis only');
  process.exit(2);
}

const prefix = `bench_cpu_${randomBytes(4).toString('hex')}:`;
// the proxy's own defaults for everything else (leases, estimate mode, output cap), or ADMISSION_*
// from the environment (ADMISSION_LEASE_MS=0: the script on every request)
const config = loadProxyConfig({
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('ADMISSION_'))),
  REDIS_URL: url.toString(),
  TOLLGATE_REDIS_PREFIX: prefix,
  TOLLGATE_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
});
const redis = new Redis(url.toString(), { enableAutoPipelining: true, maxRetriesPerRequest: 1 });
const price = { inputNanoUsdPerMTok: 150_000_000n, outputNanoUsdPerMTok: 600_000_000n };
const service = new AdmissionService(config, { commands: redis }, { get: () => price });
const store = new AdmissionStore(redis, { prefix });

const keyOf = (org) => ({
  record: {
    id: `key_${org}`,
    name: 'bench key',
    prefix: 'tg-bench',
    organisationId: org,
    tenantId: `tenant_${org}`,
    tenantName: 'bench tenant',
    tenantGroup: 'default',
    models: null,
    expiresAt: null,
    revoked: false,
    allowFallback: true,
  },
  expiresAtMs: null,
  allowedModels: null,
});
const plain = keyOf('org_plain');
const limited = keyOf('org_limited');
const usd = 1_000_000_000n;
const limits = {
  ...NO_LIMITS,
  dailyBudgetNano: 1_000_000n * usd,
  monthlyBudgetNano: 10_000_000n * usd,
  totalBudgetNano: 100_000_000n * usd,
  rpm: 100_000_000,
  tpm: 100_000_000_000,
  maxConcurrent: 100_000,
};
const r = limited.record;
for (const scope of [
  { kind: 'org', orgId: r.organisationId },
  { kind: 'tenant', orgId: r.organisationId, tenantId: r.tenantId },
  { kind: 'key', orgId: r.organisationId, keyId: r.id },
])
  await store.writeLimits(scope, limits);

const deps = { usage: { emit: () => undefined }, drain: { isDraining: false } };
const res = {
  writeHead: () => {
    throw new Error('admission refused a request: the run is not measuring what it should');
  },
  end: () => undefined,
};
const body = {
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Say hello to the benchmark, briefly.' }],
  max_tokens: 64,
};
const usage = { inputTokens: 14, outputTokens: 20, cachedInputTokens: 0 };
let seq = 0;

/** CPU µs of this process per request over n requests of a key (admission off: key null). */
async function loop(key, n) {
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const ex = new Exchange(`req_${++seq}`, res, 'chat.completions', deps);
    ex.model = body.model;
    ex.key = key ?? plain;
    if (key) {
      const estimate = estimateRequest(
        ex.endpoint,
        body,
        service.maxOutputCap,
        service.promptEstimate,
      );
      const admitted = service.admit(ex, key, estimate);
      if (!(typeof admitted === 'boolean' ? admitted : await admitted))
        throw new Error('admission refused a request');
    }
    ex.record('success', 200, null, usage, false);
    if (i % 32 === 31) await new Promise((resolve) => setImmediate(resolve));
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / n;
}

const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

try {
  // warm-up: the JIT, the key caches, the first leases
  for (let i = 0; i < 2; i++) {
    await loop(null, Math.min(N, 20_000));
    await loop(plain, Math.min(N, 20_000));
    await loop(limited, Math.min(N, 20_000));
  }
  const off = [];
  const noLimits = [];
  const withLimits = [];
  for (let i = 0; i < ROUNDS; i++) {
    off.push(await loop(null, N));
    noLimits.push(await loop(plain, N));
    withLimits.push(await loop(limited, N));
  }
  const added = (v) => median(v.map((x, i) => x - off[i]));
  console.log(
    `CPU µs per request, median of ${ROUNDS} rounds × ${N} requests: ` +
      `without admission ${median(off).toFixed(2)}, no limits ${median(noLimits).toFixed(2)}, ` +
      `limits on 3 scopes ${median(withLimits).toFixed(2)}`,
  );
  console.log(
    `admission adds: ${added(noLimits).toFixed(2)} µs (no limits), ${added(withLimits).toFixed(2)} µs (limits on 3 scopes)`,
  );
  const leases = service.leases;
  if (leases === null) console.log('(leases are off: ADMISSION_LEASE_MS=0)');
} finally {
  await service.beforeApplicationShutdown();
  await deletePrefix(redis, `${prefix}*`);
  redis.disconnect();
}
