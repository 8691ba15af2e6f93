#!/usr/bin/env node
/**
 * What the admission scripts cost inside Redis (its single thread, on every request's path):
 * Redis' own `INFO commandstats` time per EVALSHA, over a bounded number of admits and settles of
 * one key against the loopback Redis, with no limits and with day/month/total budgets, rpm, tpm and
 * a concurrency limit on key, tenant and organisation. Also the round trip as the client sees it.
 *
 * Needs the proxy built (`npx nx run proxy:build`; the store is loaded from its output) and Redis
 * on 127.0.0.1:6379 (or --redis URL, loopback only). Resets Redis' command statistics.
 *
 * Then the client's side: CPU time of this process per admit-and-settle pair with 32 pairs in
 * flight (what admission costs a proxy's event loop at load), with no limits and with limits.
 *
 *   node bench/admission-redis.mjs [--requests 3000] [--redis redis://127.0.0.1:6379]
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deletePrefix } from './redis-keys.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const Redis = require('ioredis');
const { AdmissionStore } = require(
  join(root, 'dist/apps/proxy/libs/server/admission/src/index.js'),
);

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const N = Math.min(Math.max(Number(arg('requests', '3000')), 100), 20_000);
const url = new URL(arg('redis', process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'));
if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(url.hostname)) {
  console.error('loopback Redis only');
  process.exit(2);
}

const redis = new Redis(url.toString(), { maxRetriesPerRequest: 2 });
const prefix = `bench_adm_${randomBytes(4).toString('hex')}:`;
const store = new AdmissionStore(redis, { prefix });
const BIG = 10n ** 15n;
const LIMITS = {
  dailyBudgetNano: BIG,
  monthlyBudgetNano: BIG,
  totalBudgetNano: BIG,
  rpm: 10_000_000,
  tpm: 1_000_000_000,
  maxConcurrent: 100_000,
};

async function evalshaStats() {
  const text = await redis.info('commandstats');
  const m = /cmdstat_evalsha:calls=(\d+),usec=(\d+)/.exec(text);
  return m ? { calls: Number(m[1]), usec: Number(m[2]) } : { calls: 0, usec: 0 };
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

/** A fresh organisation, tenant and key; with `limited`, LIMITS on all three. */
async function newKey(limited) {
  const n = randomBytes(3).toString('hex');
  const ids = { orgId: `org-${n}`, tenantId: `ten-${n}`, keyId: `key-${n}` };
  if (limited) {
    await store.writeLimits({ kind: 'org', orgId: ids.orgId }, LIMITS);
    await store.writeLimits({ kind: 'tenant', orgId: ids.orgId, tenantId: ids.tenantId }, LIMITS);
    await store.writeLimits({ kind: 'key', orgId: ids.orgId, keyId: ids.keyId }, LIMITS);
  }
  return { n, ids };
}

/** One admission of `ids` (reservation id `id`) as the proxy would ask for it. */
const admitRequest = (ids, id) => ({
  reservationId: id,
  ...ids,
  model: 'gpt-4o-mini',
  timeZone: 'UTC',
  estimatedTokens: 1_000,
  estimatedCostNano: 12_345n,
});

async function scenario(label, limited) {
  const { n, ids } = await newKey(limited);
  const request = (i) => admitRequest(ids, `r-${n}-${i}`);
  // warm-up (script load, JIT), not measured
  for (let i = 0; i < 200; i++) {
    const r = await store.admit(request(`w${i}`));
    await store.settle(r.reservation, { costNano: 1_000n, tokens: 100 });
  }
  const admitLat = [];
  const settleLat = [];
  let admitUsec = 0;
  let settleUsec = 0;
  const deadline = Date.now() + 60_000;
  for (let i = 0; i < N && Date.now() < deadline; i++) {
    const s0 = await evalshaStats();
    let t = process.hrtime.bigint();
    const r = await store.admit(request(i));
    admitLat.push(Number(process.hrtime.bigint() - t) / 1e3);
    if (!r.admitted) throw new Error(`refused: ${r.reason}`);
    const s1 = await evalshaStats();
    t = process.hrtime.bigint();
    await store.settle(r.reservation, { costNano: 1_000n, tokens: 100 });
    settleLat.push(Number(process.hrtime.bigint() - t) / 1e3);
    const s2 = await evalshaStats();
    admitUsec += s1.usec - s0.usec;
    settleUsec += s2.usec - s1.usec;
  }
  admitLat.sort((a, b) => a - b);
  settleLat.sort((a, b) => a - b);
  const k = admitLat.length;
  console.log(
    `| ${label} | ${k} | ${(admitUsec / k).toFixed(1)} | ${(settleUsec / k).toFixed(1)} | ` +
      `${pct(admitLat, 0.5).toFixed(0)} / ${pct(admitLat, 0.99).toFixed(0)} | ` +
      `${pct(settleLat, 0.5).toFixed(0)} / ${pct(settleLat, 0.99).toFixed(0)} |`,
  );
}

/** Client CPU µs per admit + settle, `inFlight` pairs at a time, over `total` pairs. */
async function clientCpu(label, limited, total, inFlight = 32) {
  const { n, ids } = await newKey(limited);
  let next = 0;
  let round = 0;
  const worker = async (count, deadline) => {
    while (next < count && Date.now() < deadline) {
      const i = next++;
      const r = await store.admit(admitRequest(ids, `c-${n}-${round}-${i}`));
      if (!r.admitted) throw new Error(`refused: ${r.reason}`);
      await store.settle(r.reservation, { costNano: 1_000n, tokens: 100 });
    }
  };
  const run = async (count) => {
    next = 0;
    round++;
    const deadline = Date.now() + 60_000;
    await Promise.all(Array.from({ length: inFlight }, () => worker(count, deadline)));
    return next;
  };
  await run(Math.min(2_000, total)); // warm-up
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const done = await run(total);
  const cpu = process.cpuUsage(c0);
  const wall = Number(process.hrtime.bigint() - t0) / 1e3;
  console.log(
    `| ${label} | ${done} | ${((cpu.user + cpu.system) / done).toFixed(1)} | ` +
      `${(cpu.user / done).toFixed(1)} / ${(cpu.system / done).toFixed(1)} | ${((done / wall) * 1e6).toFixed(0)} |`,
  );
}

try {
  console.log(
    '| key | admits | admit µs in Redis | admit µs in Redis | settle µs in Redis | admit round trip p50 / p99 µs | settle round trip p50 / p99 µs |',
  );
  console.log('|---|---|---|---|---|---|');
  await scenario('no limits anywhere', false);
  await scenario('limits on key, tenant and organisation', true);
  console.log('');
  console.log(
    '| key (32 admit + settle pairs in flight) | pairs | client CPU µs per pair | user / system µs | pairs per s |',
  );
  console.log('|---|---|---|---|---|');
  await clientCpu('no limits anywhere', false, N * 3);
  await clientCpu('limits on key, tenant and organisation', true, N * 3);
} finally {
  await deletePrefix(redis, `${prefix}*`);
  redis.disconnect();
}
