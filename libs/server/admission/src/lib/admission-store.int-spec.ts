import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { admissionKeys, type AdmissionScope } from './admission-keys';
import { AdmissionStore, DuplicateReservationError } from './admission-store';
import {
  type AdmitRequest,
  type AdmitResult,
  type LimitSettings,
  NO_LIMITS,
  type Reservation,
} from './admission-types';
import { computeWindows } from './windows';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `t_admission_${randomBytes(4).toString('hex')}:`;
const USD = 1_000_000_000n;
/** 2026-11-25 12:00 UTC */
const NOON = Date.UTC(2026, 10, 25, 12, 0, 0);

let redis: Redis;
let sut: AdmissionStore;
let seq = 0;

const ids = () => {
  const n = `${++seq}-${randomBytes(3).toString('hex')}`;
  return { orgId: `org-${n}`, tenantId: `ten-${n}`, keyId: `key-${n}` };
};
type Ids = ReturnType<typeof ids>;
const orgScope = (i: Ids): AdmissionScope => ({ kind: 'org', orgId: i.orgId });
const tenantScope = (i: Ids): AdmissionScope => ({
  kind: 'tenant',
  orgId: i.orgId,
  tenantId: i.tenantId,
});
const keyScope = (i: Ids): AdmissionScope => ({ kind: 'key', orgId: i.orgId, keyId: i.keyId });
const limits = (l: Partial<LimitSettings>): LimitSettings => ({ ...NO_LIMITS, ...l });

function request(i: Ids, overrides: Partial<AdmitRequest> = {}): AdmitRequest {
  return {
    reservationId: `req-${randomBytes(6).toString('hex')}`,
    ...i,
    timeZone: 'UTC',
    now: NOON,
    estimatedTokens: 100,
    estimatedCostNano: USD,
    ...overrides,
  };
}

function admitted(r: AdmitResult): Reservation {
  if (!r.admitted) throw new Error(`rejected: ${r.scope} ${r.reason}`);
  return r.reservation;
}

async function spend(scope: AdmissionScope, at = NOON, timeZone = 'UTC') {
  const s = await sut.readState(scope, { timeZone, now: at });
  return {
    day: [s.day.spentNano, s.day.reservedNano],
    month: [s.month.spentNano, s.month.reservedNano],
    total: [s.total.spentNano, s.total.reservedNano],
  };
}

beforeAll(() => {
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
  sut = new AdmissionStore(redis, { prefix: PREFIX });
});

afterAll(async () => {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
  await redis.quit();
});

describe('AdmissionStore (real Redis)', () => {
  describe('admit', () => {
    it('reserves the estimate on key, tenant and organisation in every window', async () => {
      const i = ids();
      const r = admitted(await sut.admit(request(i, { estimatedCostNano: 3n * USD })));
      expect(r.dayId).toBe('2026-11-25');
      for (const scope of [keyScope(i), tenantScope(i), orgScope(i)]) {
        expect(await spend(scope)).toEqual({
          day: [0n, 3n * USD],
          month: [0n, 3n * USD],
          total: [0n, 3n * USD],
        });
      }
    });

    it('is all-or-nothing: a budget refused on the organisation reserves nothing on key or tenant', async () => {
      const i = ids();
      await sut.writeLimits(orgScope(i), limits({ dailyBudgetNano: 5n * USD }));
      admitted(await sut.admit(request(i, { estimatedCostNano: 4n * USD })));
      const r = await sut.admit(request(i, { estimatedCostNano: 2n * USD }));
      expect(r).toMatchObject({ admitted: false, scope: 'org', reason: 'budget_daily' });
      expect((await spend(keyScope(i))).day).toEqual([0n, 4n * USD]);
      expect((await spend(tenantScope(i))).total).toEqual([0n, 4n * USD]);
      expect((await spend(orgScope(i))).month).toEqual([0n, 4n * USD]);
    });

    it('names the narrowest scope that refuses, with reason and retry-after', async () => {
      const i = ids();
      await sut.writeLimits(tenantScope(i), limits({ monthlyBudgetNano: USD }));
      await sut.writeLimits(keyScope(i), limits({ totalBudgetNano: 10n * USD }));
      const monthly = await sut.admit(request(i, { estimatedCostNano: 2n * USD }));
      const monthEnd = computeWindows('UTC', NOON).monthEnd;
      expect(monthly).toMatchObject({
        admitted: false,
        scope: 'tenant',
        reason: 'budget_monthly',
        retryAfterMs: monthEnd - NOON,
      });
      const total = await sut.admit(request(i, { estimatedCostNano: 11n * USD }));
      expect(total).toMatchObject({
        admitted: false,
        scope: 'key',
        reason: 'budget_total',
        retryAfterMs: null,
      });
    });

    it('admits exactly as many of 500 concurrent requests as the budget allows', async () => {
      const i = ids();
      const clients = Array.from({ length: 4 }, () => new Redis(REDIS_URL));
      try {
        // four "replicas", each with its own connection and store
        const stores = clients.map((c) => new AdmissionStore(c, { prefix: PREFIX }));
        await sut.writeLimits(tenantScope(i), limits({ dailyBudgetNano: 37n * USD }));
        const results = await Promise.all(
          Array.from({ length: 500 }, (_, n) => stores[n % 4]!.admit(request(i))),
        );
        const ok = results.filter((r) => r.admitted).length;
        expect(ok).toBe(37);
        expect(results.filter((r) => !r.admitted && r.reason === 'budget_daily')).toHaveLength(463);
        expect((await spend(tenantScope(i))).day).toEqual([0n, 37n * USD]);
      } finally {
        await Promise.all(clients.map((c) => c.quit()));
      }
    });

    it('refuses a reservation id that is already in use', async () => {
      const i = ids();
      const req = request(i);
      admitted(await sut.admit(req));
      await expect(sut.admit(req)).rejects.toBeInstanceOf(DuplicateReservationError);
    });
  });

  describe('settle and release', () => {
    it('replaces the reservation by a smaller actual cost', async () => {
      const i = ids();
      const r = admitted(await sut.admit(request(i, { estimatedCostNano: 5n * USD })));
      expect(await sut.settle(r, { costNano: 2n * USD, tokens: 50 })).toBe('settled');
      for (const scope of [keyScope(i), tenantScope(i), orgScope(i)]) {
        expect(await spend(scope)).toEqual({
          day: [2n * USD, 0n],
          month: [2n * USD, 0n],
          total: [2n * USD, 0n],
        });
      }
    });

    it('books an actual cost above the reservation in full', async () => {
      const i = ids();
      const r = admitted(await sut.admit(request(i, { estimatedCostNano: USD })));
      expect(await sut.settle(r, { costNano: 3n * USD + 7n, tokens: 500 })).toBe('settled');
      expect((await spend(orgScope(i))).day).toEqual([3n * USD + 7n, 0n]);
    });

    it('settles once: a second settle or a release afterwards change nothing', async () => {
      const i = ids();
      const r = admitted(await sut.admit(request(i)));
      await sut.settle(r, { costNano: USD, tokens: 10 });
      expect(await sut.settle(r, { costNano: USD, tokens: 10 })).toBe('duplicate');
      expect(await sut.release(r)).toBe('duplicate');
      expect((await spend(keyScope(i))).total).toEqual([USD, 0n]);
    });

    it('release gives the whole reservation back and frees its budget', async () => {
      const i = ids();
      await sut.writeLimits(keyScope(i), limits({ dailyBudgetNano: USD }));
      const r = admitted(await sut.admit(request(i)));
      expect((await sut.admit(request(i))).admitted).toBe(false);
      expect(await sut.release(r)).toBe('released');
      expect((await spend(keyScope(i))).day).toEqual([0n, 0n]);
      expect((await sut.admit(request(i))).admitted).toBe(true);
    });

    it('books interleaved requests of two keys and two models of one organisation on their own scopes', async () => {
      const a = ids();
      const b = { ...a, keyId: `${a.keyId}-b` };
      const model = (m: string, i: Ids) =>
        ({ kind: 'key-model', orgId: i.orgId, keyId: i.keyId, model: m }) as const;
      await sut.writeLimits(model('m-1', a), limits({ rpm: 1000 }));
      await sut.writeLimits(model('m-2', b), limits({ rpm: 1000 }));
      const plan: [Ids, string | null, bigint][] = [
        [a, 'm-1', 1n],
        [b, 'm-2', 10n],
        [a, null, 100n],
        [b, 'm-1', 1_000n],
        [a, 'm-2', 10_000n],
        [b, null, 100_000n],
      ];
      const held: Reservation[] = [];
      for (const [i, m, cost] of plan)
        held.push(admitted(await sut.admit(request(i, { model: m, estimatedCostNano: cost }))));
      // each record is its own: settling in another order books each cost once, on its key
      for (const r of [...held].reverse())
        expect(await sut.settle(r, { costNano: r.estimatedCostNano * 2n, tokens: 1 })).toBe(
          'settled',
        );
      expect((await spend(keyScope(a))).total).toEqual([2n * 10_101n, 0n]);
      expect((await spend(keyScope(b))).total).toEqual([2n * 101_010n, 0n]);
      expect((await spend(orgScope(a))).total).toEqual([2n * 111_111n, 0n]);
      expect(
        (await sut.readState(model('m-1', a), { timeZone: 'UTC', now: NOON })).requestsLastMinute,
      ).toBe(1);
      expect(
        (await sut.readState(model('m-2', b), { timeZone: 'UTC', now: NOON })).requestsLastMinute,
      ).toBe(1);
      expect(
        (await sut.readState(model('m-2', a), { timeZone: 'UTC', now: NOON })).requestsLastMinute,
      ).toBe(0);
    });

    it('answers unknown for a reservation it never made', async () => {
      const i = ids();
      const r = admitted(await sut.admit(request(i)));
      expect(
        await sut.settle({ ...r, reservationId: 'never-made' }, { costNano: 1n, tokens: 1 }),
      ).toBe('unknown');
    });

    it('keeps spend under the budget when concurrent requests settle at their reservation', async () => {
      const i = ids();
      await sut.writeLimits(orgScope(i), limits({ dailyBudgetNano: 20n * USD }));
      const run = async () => {
        for (let n = 0; n < 10; n++) {
          const res = await sut.admit(request(i, { estimatedCostNano: 3n * USD }));
          if (!res.admitted) return;
          await sut.settle(res.reservation, { costNano: 3n * USD, tokens: 10 });
        }
      };
      await Promise.all(Array.from({ length: 20 }, run));
      expect((await spend(orgScope(i))).day).toEqual([18n * USD, 0n]);
    });
  });

  describe('exact money arithmetic', () => {
    // Below 2^53 nano-USD the scripts compute with Lua numbers, from there with two limbs: every
    // combination across that boundary (and 10^15, where sixteen-digit strings start) must stay
    // exact to the nano-dollar.
    const SMALL = 10n ** 15n;

    it('reserves, settles and checks budgets exactly across the 10^15 boundary', async () => {
      const i = ids();
      const budget = 2n * SMALL + 3n;
      await sut.writeLimits(keyScope(i), limits({ totalBudgetNano: budget }));
      const a = admitted(await sut.admit(request(i, { estimatedCostNano: SMALL - 1n })));
      const b = admitted(await sut.admit(request(i, { estimatedCostNano: SMALL + 3n })));
      expect((await spend(keyScope(i))).total).toEqual([0n, 2n * SMALL + 2n]);
      // one nano-dollar is left, two are not
      expect((await sut.admit(request(i, { estimatedCostNano: 2n }))).admitted).toBe(false);
      const c = admitted(await sut.admit(request(i, { estimatedCostNano: 1n })));
      await sut.settle(a, { costNano: SMALL - 7n, tokens: 1 });
      await sut.settle(b, { costNano: SMALL + 1n, tokens: 1 });
      await sut.release(c);
      expect((await spend(keyScope(i))).total).toEqual([2n * SMALL - 6n, 0n]);
      expect((await spend(orgScope(i))).day).toEqual([2n * SMALL - 6n, 0n]);
    });

    it('keeps values far above 2^53 nano-USD exact', async () => {
      const i = ids();
      const huge = 10n ** 20n + 123_456_789n;
      const r = admitted(await sut.admit(request(i, { estimatedCostNano: huge })));
      expect((await spend(tenantScope(i))).month).toEqual([0n, huge]);
      await sut.settle(r, { costNano: huge + 1n, tokens: 1 });
      expect((await spend(tenantScope(i))).month).toEqual([huge + 1n, 0n]);
    });

    it('leaves the number path exactly where a sum reaches 2^53 nano-USD', async () => {
      // each value is below 2^53 (a Lua number), their sums are not: as doubles they would round
      const i = ids();
      const MAX_SAFE = 2n ** 53n - 1n;
      const a = admitted(await sut.admit(request(i, { estimatedCostNano: MAX_SAFE })));
      const b = admitted(await sut.admit(request(i, { estimatedCostNano: 2n })));
      expect((await spend(keyScope(i))).total).toEqual([0n, MAX_SAFE + 2n]);
      await sut.settle(a, { costNano: MAX_SAFE, tokens: 1 });
      await sut.settle(b, { costNano: 2n, tokens: 1 });
      expect((await spend(keyScope(i))).total).toEqual([MAX_SAFE + 2n, 0n]);
      await sut.writeLimits(keyScope(i), limits({ totalBudgetNano: MAX_SAFE + 3n }));
      expect((await sut.admit(request(i, { estimatedCostNano: 1n }))).admitted).toBe(true);
      expect(await sut.admit(request(i, { estimatedCostNano: 1n }))).toMatchObject({
        admitted: false,
        reason: 'budget_total',
      });
    });

    it('takes costs off a large prepaid balance into the negative exactly', async () => {
      const i = ids();
      await sut.setBalance(i.orgId, SMALL + 5n);
      const r = admitted(await sut.admit(request(i, { estimatedCostNano: SMALL + 5n })));
      await sut.settle(r, { costNano: 3n * SMALL, tokens: 1 });
      expect(await sut.readBalance(i.orgId)).toBe(5n - 2n * SMALL);
      expect(await sut.creditBalance(i.orgId, 2n * SMALL - 4n)).toBe(1n);
    });
  });

  describe('counters', () => {
    it('keeps the previous day: a late settle books into the day its request was admitted in', async () => {
      const i = ids();
      const day1 = computeWindows('UTC', NOON).dayId;
      const nextDay = NOON + 24 * 3_600_000;
      const day2 = computeWindows('UTC', nextDay).dayId;
      const late = admitted(await sut.admit(request(i, { estimatedCostNano: 50n })));
      admitted(await sut.admit(request(i, { estimatedCostNano: 7n, now: nextDay })));
      await sut.settle(late, { costNano: 40n, tokens: 1 });
      expect(await sut.readSpend(keyScope(i), { kind: 'day', id: day1 })).toEqual({
        spentNano: 40n,
        reservedNano: 0n,
      });
      expect(await sut.readSpend(keyScope(i), { kind: 'day', id: day2 })).toEqual({
        spentNano: 0n,
        reservedNano: 7n,
      });
      // the month holds both; the total too
      expect((await spend(keyScope(i))).total).toEqual([40n, 7n]);
      // a third day drops the first
      admitted(
        await sut.admit(request(i, { estimatedCostNano: 1n, now: nextDay + 24 * 3_600_000 })),
      );
      expect(await sut.readSpend(keyScope(i), { kind: 'day', id: day1 })).toEqual({
        spentNano: 0n,
        reservedNano: 0n,
      });
      expect((await sut.readSpend(keyScope(i), { kind: 'day', id: day2 })).reservedNano).toBe(7n);
    });

    it('counts a request for 60 to 61 seconds, in one-second buckets', async () => {
      const i = ids();
      await sut.writeLimits(keyScope(i), limits({ rpm: 100 }));
      const buckets = admissionKeys.rateBuckets(PREFIX, keyScope(i));
      const bucket = `r${NOON / 1_000}`;
      const remaining = async (now: number) => {
        const r = await sut.admit(request(i, { now }));
        if (!r.admitted) throw new Error('rejected');
        return [r.rateLimits.requests?.remaining, r.rateLimits.requests?.resetMs];
      };
      expect(await remaining(NOON)).toEqual([99, 61_000]);
      expect(await remaining(NOON + 500)).toEqual([98, 60_500]);
      // the bucket being filled lives in the counters; it moves to the bucket hash when the next starts
      expect(await redis.hlen(buckets)).toBe(0);
      expect(await remaining(NOON + 30_000)).toEqual([97, 31_000]);
      expect(await redis.hget(buckets, bucket)).toBe('2');
      // the 60th bucket after a request's own still counts it …
      expect(await remaining(NOON + 60_999)).toEqual([96, 1]);
      // … the 61st does not: the first two left, and their bucket with them
      expect(await remaining(NOON + 61_000)).toEqual([97, 30_000]);
      expect(await redis.hget(buckets, bucket)).toBeNull();
      const state = await sut.readState(keyScope(i), { timeZone: 'UTC', now: NOON + 61_000 });
      expect(state.requestsLastMinute).toBe(3);
      // idle for longer than the window: everything left
      expect(await remaining(NOON + 200_000)).toEqual([99, 61_000]);
      expect(await redis.hlen(buckets)).toBe(0);
    });

    it('counts a request from a clock behind in the bucket already being filled', async () => {
      const i = ids();
      await sut.writeLimits(keyScope(i), limits({ rpm: 10 }));
      admitted(await sut.admit(request(i, { now: NOON + 5_000 })));
      // another replica's clock, 2 s behind: counted in the newer bucket, so it leaves later
      const behind = await sut.admit(request(i, { now: NOON + 3_000 }));
      expect(behind.rateLimits.requests).toEqual({ limit: 10, remaining: 8, resetMs: 63_000 });
      const at = (now: number) =>
        sut.readState(keyScope(i), { timeZone: 'UTC', now }).then((s) => s.requestsLastMinute);
      expect(await at(NOON + 65_999)).toBe(2);
      expect(await at(NOON + 66_000)).toBe(0);
    });

    it('frees a concurrency slot once: on settle, or on the sweep and not again on a late settle', async () => {
      const i = ids();
      await sut.writeLimits(keyScope(i), limits({ maxConcurrent: 2 }));
      const a = admitted(await sut.admit(request(i, { ttlMs: 1_000 })));
      const b = admitted(await sut.admit(request(i, { ttlMs: 1_000 })));
      const inFlight = () =>
        sut.readState(keyScope(i), { timeZone: 'UTC', now: NOON }).then((s) => s.concurrent);
      expect(await inFlight()).toBe(2);
      await sut.settle(a, { costNano: 1n, tokens: 1 });
      expect(await inFlight()).toBe(1);
      await sut.sweep(NOON + 1_001);
      expect(await inFlight()).toBe(0);
      expect(await sut.settle(b, { costNano: 1n, tokens: 1 })).toBe('settled');
      expect(await inFlight()).toBe(0);
    });

    it('counts a released request against rpm but not its tokens against tpm', async () => {
      const i = ids();
      await sut.writeLimits(keyScope(i), limits({ rpm: 2, tpm: 1_000 }));
      const a = admitted(await sut.admit(request(i, { estimatedTokens: 900 })));
      await sut.release(a);
      const b = await sut.admit(request(i, { estimatedTokens: 900, now: NOON + 1_000 }));
      expect(b.admitted).toBe(true);
      expect(b.rateLimits).toEqual({
        requests: { limit: 2, remaining: 0, resetMs: 60_000 },
        tokens: { limit: 1_000, remaining: 100, resetMs: 60_000 },
      });
      expect(await sut.admit(request(i, { estimatedTokens: 1, now: NOON + 2_000 }))).toMatchObject({
        admitted: false,
        reason: 'rpm',
        retryAfterMs: 59_000,
      });
      // 61 s after the first (its bucket's 61st), it leaves the window without taking tokens it no longer holds
      const c = await sut.admit(request(i, { estimatedTokens: 100, now: NOON + 61_000 }));
      expect(c).toMatchObject({ admitted: true, rateLimits: { tokens: { remaining: 0 } } });
      const state = await sut.readState(keyScope(i), { timeZone: 'UTC', now: NOON + 60_001 });
      expect([state.requestsLastMinute, state.tokensLastMinute]).toEqual([2, 1_000]);
    });
  });

  describe('leases (one reservation for several requests)', () => {
    const inFlight = (scope: AdmissionScope, now = NOON) =>
      sut.readState(scope, { timeZone: 'UTC', now }).then((s) => s.concurrent);
    const lastMinute = (scope: AdmissionScope, now = NOON) =>
      sut
        .readState(scope, { timeZone: 'UTC', now })
        .then((s) => [s.requestsLastMinute, s.tokensLastMinute]);

    /** A lease of ten requests, 1 USD and 100 tokens each, on limits far above it. */
    const leaseOfTen = async (i: Ids, scope: AdmissionScope) => {
      await sut.writeLimits(scope, limits({ rpm: 100, tpm: 10_000, maxConcurrent: 50 }));
      return admitted(
        await sut.admit(
          request(i, { requests: 10, estimatedCostNano: 10n * USD, estimatedTokens: 1_000 }),
        ),
      );
    };

    it('reserves the sum and counts every request against rpm, tpm and concurrency', async () => {
      const i = ids();
      await sut.writeLimits(keyScope(i), limits({ rpm: 100, tpm: 10_000, maxConcurrent: 50 }));
      const r = await sut.admit(
        request(i, { requests: 8, estimatedCostNano: 8n * USD, estimatedTokens: 800 }),
      );
      expect(r).toMatchObject({
        admitted: true,
        reservation: { requests: 8 },
        rateLimits: { requests: { remaining: 92 }, tokens: { remaining: 9_200 } },
        farFromLimits: null,
      });
      expect(await inFlight(keyScope(i))).toBe(8);
      expect(await lastMinute(keyScope(i))).toEqual([8, 800]);
      expect((await spend(orgScope(i))).day).toEqual([0n, 8n * USD]);
    });

    it('refuses a lease that does not fit whole, and reserves nothing', async () => {
      const i = ids();
      await sut.writeLimits(tenantScope(i), limits({ maxConcurrent: 5 }));
      await sut.writeLimits(keyScope(i), limits({ rpm: 10 }));
      expect(await sut.admit(request(i, { requests: 6 }))).toMatchObject({
        admitted: false,
        scope: 'tenant',
        reason: 'concurrency',
      });
      admitted(await sut.admit(request(i, { requests: 5 })));
      await sut.writeLimits(tenantScope(i), limits({}));
      expect(await sut.admit(request(i, { requests: 6 }))).toMatchObject({
        admitted: false,
        scope: 'key',
        reason: 'rpm',
      });
      expect(await lastMinute(keyScope(i))).toEqual([5, 100]);
    });

    it('settles what ran: actual cost and tokens, the unused requests leave the rate window, every slot frees', async () => {
      const i = ids();
      const lease = await leaseOfTen(i, orgScope(i));
      expect(await sut.settle(lease, { costNano: 3n * USD, tokens: 240, requests: 3 })).toBe(
        'settled',
      );
      expect(await inFlight(orgScope(i))).toBe(0);
      expect(await lastMinute(orgScope(i))).toEqual([3, 240]);
      for (const scope of [keyScope(i), tenantScope(i), orgScope(i)])
        expect(await spend(scope)).toEqual({
          day: [3n * USD, 0n],
          month: [3n * USD, 0n],
          total: [3n * USD, 0n],
        });
      // a second settle changes nothing
      expect(await sut.settle(lease, { costNano: 3n * USD, tokens: 240, requests: 3 })).toBe(
        'duplicate',
      );
      expect(await lastMinute(orgScope(i))).toEqual([3, 240]);
    });

    it('gives an unused lease back whole, rate window included', async () => {
      const i = ids();
      await sut.writeLimits(keyScope(i), limits({ rpm: 10 }));
      const lease = admitted(await sut.admit(request(i, { requests: 10 })));
      expect(await sut.admit(request(i))).toMatchObject({ admitted: false, reason: 'rpm' });
      expect(await sut.release(lease, 0)).toBe('released');
      expect(await lastMinute(keyScope(i))).toEqual([0, 0]);
      expect(await sut.admit(request(i, { requests: 10 }))).toMatchObject({ admitted: true });
    });

    it('takes the unused requests out of an older bucket of the window too', async () => {
      const i = ids();
      await sut.writeLimits(keyScope(i), limits({ rpm: 20 }));
      const lease = admitted(await sut.admit(request(i, { requests: 10 })));
      // a later request moves the lease's bucket into the bucket hash
      admitted(await sut.admit(request(i, { now: NOON + 5_000 })));
      await sut.settle(lease, { costNano: USD, tokens: 50, requests: 4 });
      expect(await lastMinute(keyScope(i), NOON + 5_000)).toEqual([5, 150]);
      // 61 s after the lease's bucket, only the later request is left
      expect(await lastMinute(keyScope(i), NOON + 61_000)).toEqual([1, 100]);
    });

    it('counts the requests of a lease handed out over the next second for a minute from the next bucket', async () => {
      const i = ids();
      await sut.writeLimits(keyScope(i), limits({ rpm: 4 }));
      const lease = await sut.admit(request(i, { requests: 4, startsWithinSecond: true }));
      // the window holds them until the end of the 60th bucket after the next one
      expect(lease.rateLimits.requests).toEqual({ limit: 4, remaining: 0, resetMs: 62_000 });
      expect(await sut.admit(request(i, { now: NOON + 61_999 }))).toMatchObject({
        admitted: false,
        reason: 'rpm',
      });
      expect(await sut.admit(request(i, { now: NOON + 62_000 }))).toMatchObject({
        admitted: true,
      });
    });

    it('trims what a lease will not use while its requests run, and settles the rest', async () => {
      const i = ids();
      const lease = await leaseOfTen(i, keyScope(i));
      expect(await sut.trim(lease, { costNano: 6n * USD, tokens: 600, requests: 6 })).toBe(
        'trimmed',
      );
      expect(await inFlight(keyScope(i))).toBe(4);
      expect(await lastMinute(keyScope(i))).toEqual([4, 400]);
      expect((await spend(keyScope(i))).total).toEqual([0n, 4n * USD]);
      expect(await sut.settle(lease, { costNano: 3n * USD, tokens: 240, requests: 4 })).toBe(
        'settled',
      );
      expect(await inFlight(keyScope(i))).toBe(0);
      expect(await lastMinute(keyScope(i))).toEqual([4, 240]);
      expect(await spend(keyScope(i))).toEqual({
        day: [3n * USD, 0n],
        month: [3n * USD, 0n],
        total: [3n * USD, 0n],
      });
      // once settled, a trim changes nothing
      expect(await sut.trim(lease, { costNano: USD, tokens: 1, requests: 1 })).toBe('duplicate');
      expect(await inFlight(keyScope(i))).toBe(0);
    });

    it('never trims more than a lease holds, and the sweep releases only what is left', async () => {
      const i = ids();
      await sut.writeLimits(keyScope(i), limits({ rpm: 100, maxConcurrent: 50 }));
      const lease = admitted(
        await sut.admit(request(i, { requests: 8, estimatedCostNano: 8n * USD, ttlMs: 1_000 })),
      );
      await sut.trim(lease, { costNano: 5n * USD, tokens: 10, requests: 5 });
      await sut.trim(lease, { costNano: 100n * USD, tokens: 10_000, requests: 2 });
      expect(await inFlight(keyScope(i))).toBe(1);
      expect((await spend(keyScope(i))).total).toEqual([0n, 0n]);
      expect(await lastMinute(keyScope(i))).toEqual([1, 0]);
      await sut.sweep(NOON + 1_001);
      expect(await inFlight(keyScope(i))).toBe(0);
      expect((await spend(keyScope(i))).total).toEqual([0n, 0n]);
      expect(await sut.trim(lease, { costNano: 1n, tokens: 1, requests: 1 })).toBe('noop');
    });

    it('releases an expired lease on the sweep, concurrency included', async () => {
      const i = ids();
      await sut.writeLimits(keyScope(i), limits({ maxConcurrent: 20 }));
      admitted(await sut.admit(request(i, { requests: 16, ttlMs: 1_000 })));
      expect(await inFlight(keyScope(i))).toBe(16);
      await sut.sweep(NOON + 1_001);
      expect(await inFlight(keyScope(i))).toBe(0);
      expect((await spend(keyScope(i))).total).toEqual([0n, 0n]);
    });

    it('says whether the headroom asked for is left on every budget, rate limit and the balance', async () => {
      const far = async (i: Ids, requests = 1) => {
        const r = await sut.admit(
          request(i, {
            requests,
            estimatedCostNano: BigInt(requests) * USD,
            estimatedTokens: requests * 100,
            headroom: { costNano: 10n * USD, tokens: 1_000, requests: 10 },
          }),
        );
        if (!r.admitted) throw new Error(`rejected: ${r.reason}`);
        return r.farFromLimits;
      };
      const cases: [string, (i: Ids) => Promise<unknown>, number][] = [
        // after this request (1) and the headroom (10): 11 fit, 10 do not
        ['daily', (i) => sut.writeLimits(keyScope(i), limits({ dailyBudgetNano: 11n * USD })), 11],
        [
          'monthly',
          (i) => sut.writeLimits(tenantScope(i), limits({ monthlyBudgetNano: 11n * USD })),
          11,
        ],
        ['total', (i) => sut.writeLimits(orgScope(i), limits({ totalBudgetNano: 11n * USD })), 11],
        ['rpm', (i) => sut.writeLimits(keyScope(i), limits({ rpm: 11 })), 11],
        ['tpm', (i) => sut.writeLimits(tenantScope(i), limits({ tpm: 1_100 })), 11],
        ['concurrency', (i) => sut.writeLimits(orgScope(i), limits({ maxConcurrent: 11 })), 11],
        ['balance', (i) => sut.setBalance(i.orgId, 11n * USD), 11],
      ];
      for (const [name, set] of cases) {
        const roomy = ids();
        await set(roomy);
        expect([name, await far(roomy)]).toEqual([name, true]);
        // the second request leaves room for only 9 more
        expect([name, await far(roomy)]).toEqual([name, false]);
      }
      // no limits at all: always far
      expect(await far(ids(), 5)).toBe(true);
      // without a question, no answer
      expect((await sut.admit(request(ids()))) as { farFromLimits: unknown }).toMatchObject({
        farFromLimits: null,
      });
    });

    it('answers a headroom beyond anything a limit can hold without refusing the request', async () => {
      const huge = { costNano: 10n ** 30n, tokens: 10 ** 15, requests: 10 ** 15 };
      const limited = ids();
      await sut.writeLimits(keyScope(limited), limits({ totalBudgetNano: 10n ** 20n }));
      expect(await sut.admit(request(limited, { headroom: huge }))).toMatchObject({
        admitted: true,
        farFromLimits: false,
      });
      expect(await sut.admit(request(ids(), { headroom: huge }))).toMatchObject({
        admitted: true,
        farFromLimits: true,
      });
      await expect(
        sut.admit(request(ids(), { headroom: { costNano: -1n, tokens: 0, requests: 0 } })),
      ).rejects.toThrow(RangeError);
    });

    it('refuses a lease of no requests or more than the most one may hold', async () => {
      await expect(sut.admit(request(ids(), { requests: 0 }))).rejects.toThrow(RangeError);
      await expect(sut.admit(request(ids(), { requests: 10_001 }))).rejects.toThrow(RangeError);
    });
  });

  describe('expiry and the sweeper', () => {
    it('releases a reservation that was never settled once its time to live passed', async () => {
      const i = ids();
      await sut.writeLimits(orgScope(i), limits({ dailyBudgetNano: USD, maxConcurrent: 1 }));
      const crashed = admitted(await sut.admit(request(i, { ttlMs: 1_000 })));
      expect(await sut.admit(request(i, { now: NOON + 500 }))).toMatchObject({ admitted: false });

      const early = await sut.sweep(NOON + 999);
      expect(early.released).toBe(0);
      const report = await sut.sweep(NOON + 1_001);
      expect(report.released).toBe(1);
      expect((await spend(orgScope(i))).day).toEqual([0n, 0n]);
      expect((await sut.admit(request(i, { now: NOON + 1_002 }))).admitted).toBe(true);

      // the crashed replica's late settle still books the actual cost, once
      expect(await sut.settle(crashed, { costNano: 5n, tokens: 1 })).toBe('settled');
      expect(await sut.settle(crashed, { costNano: 5n, tokens: 1 })).toBe('duplicate');
      expect((await spend(orgScope(i))).total).toEqual([5n, USD]);
    });

    it('does not release reservations that were settled before they expired', async () => {
      const i = ids();
      const r = admitted(await sut.admit(request(i, { ttlMs: 1_000 })));
      await sut.settle(r, { costNano: 2n, tokens: 1 });
      await sut.sweep(NOON + 5_000);
      expect((await spend(orgScope(i))).total).toEqual([2n, 0n]);
    });
  });

  describe('rate limits', () => {
    it('allows rpm requests in any 60 s and says when the oldest leaves (60 to 61 s after it came)', async () => {
      const i = ids();
      await sut.writeLimits(keyScope(i), limits({ rpm: 3 }));
      for (let n = 0; n < 3; n++) {
        const r = await sut.admit(request(i, { now: NOON + n * 1_000 }));
        expect(r.admitted).toBe(true);
        expect(r.rateLimits.requests).toEqual({
          limit: 3,
          remaining: 2 - n,
          resetMs: 61_000 - n * 1_000,
        });
      }
      const refused = await sut.admit(request(i, { now: NOON + 10_000 }));
      expect(refused).toMatchObject({
        admitted: false,
        scope: 'key',
        reason: 'rpm',
        retryAfterMs: 51_000,
        rateLimits: { requests: { limit: 3, remaining: 0, resetMs: 51_000 } },
      });
      expect((await sut.admit(request(i, { now: NOON + 60_999 }))).admitted).toBe(false);
      expect((await sut.admit(request(i, { now: NOON + 61_000 }))).admitted).toBe(true);
    });

    it('counts estimated tokens per minute, and actual ones once settled', async () => {
      const i = ids();
      await sut.writeLimits(tenantScope(i), limits({ tpm: 1_000 }));
      const a = admitted(await sut.admit(request(i, { estimatedTokens: 800 })));
      const refused = await sut.admit(request(i, { estimatedTokens: 300, now: NOON + 1_000 }));
      expect(refused).toMatchObject({
        admitted: false,
        scope: 'tenant',
        reason: 'tpm',
        retryAfterMs: 60_000,
      });
      // (the first request's bucket has gone to the bucket hash: settling changes the tokens there)
      await sut.settle(a, { costNano: 1n, tokens: 200 });
      const b = await sut.admit(request(i, { estimatedTokens: 300, now: NOON + 2_000 }));
      expect(b.admitted).toBe(true);
      expect(b.rateLimits.tokens).toMatchObject({ limit: 1_000, remaining: 500 });
    });

    it('refuses a request larger than the whole tpm limit without a retry-after', async () => {
      const i = ids();
      await sut.writeLimits(keyScope(i), limits({ tpm: 100 }));
      expect(await sut.admit(request(i, { estimatedTokens: 101 }))).toMatchObject({
        admitted: false,
        reason: 'tpm',
        retryAfterMs: null,
      });
    });

    it('holds maxConcurrent in flight and frees a slot on settle', async () => {
      const i = ids();
      await sut.writeLimits(orgScope(i), limits({ maxConcurrent: 2 }));
      const a = admitted(await sut.admit(request(i)));
      admitted(await sut.admit(request(i)));
      expect(await sut.admit(request(i))).toMatchObject({
        admitted: false,
        scope: 'org',
        reason: 'concurrency',
        retryAfterMs: 1_000,
      });
      await sut.settle(a, { costNano: 1n, tokens: 1 });
      expect((await sut.admit(request(i))).admitted).toBe(true);
      expect((await sut.readState(orgScope(i), { timeZone: 'UTC', now: NOON })).concurrent).toBe(2);
    });
  });

  describe('windows', () => {
    it('starts a fresh day at local midnight of a non-UTC zone and a fresh month at its first', async () => {
      const i = ids();
      const tz = 'America/New_York'; // UTC-5 in November
      await sut.writeLimits(
        orgScope(i),
        limits({ dailyBudgetNano: 2n * USD, monthlyBudgetNano: 3n * USD }),
      );
      const lastMinute = Date.UTC(2026, 11, 1, 4, 59, 0); // 2026-11-30 23:59 local
      const a = admitted(await sut.admit(request(i, { timeZone: tz, now: lastMinute })));
      expect([a.dayId, a.monthId]).toEqual(['2026-11-30', '2026-11']);
      await sut.settle(a, { costNano: 2n * USD, tokens: 1 });
      const beforeMidnight = await sut.admit(
        request(i, { timeZone: tz, now: lastMinute + 59_999 }),
      );
      expect(beforeMidnight).toMatchObject({
        admitted: false,
        reason: 'budget_daily',
        retryAfterMs: 1,
      });

      const midnight = Date.UTC(2026, 11, 1, 5, 0, 0);
      const b = admitted(await sut.admit(request(i, { timeZone: tz, now: midnight })));
      expect([b.dayId, b.monthId]).toEqual(['2026-12-01', '2026-12']);
      const s = await sut.readState(orgScope(i), { timeZone: tz, now: midnight });
      expect([s.day.id, s.day.reservedNano, s.month.reservedNano, s.total.spentNano]).toEqual([
        '2026-12-01',
        USD,
        USD,
        2n * USD,
      ]);
    });
  });

  describe('prepaid balance', () => {
    it('reserves against the balance and takes the actual cost off it on settle', async () => {
      const i = ids();
      await sut.setBalance(i.orgId, 3n * USD);
      const a = admitted(await sut.admit(request(i, { estimatedCostNano: 2n * USD })));
      expect(await sut.admit(request(i, { estimatedCostNano: 2n * USD }))).toMatchObject({
        admitted: false,
        scope: 'org',
        reason: 'balance',
        retryAfterMs: null,
      });
      await sut.settle(a, { costNano: USD / 2n, tokens: 1 });
      expect(await sut.readBalance(i.orgId)).toBe(3n * USD - USD / 2n);
      expect(await sut.creditBalance(i.orgId, 10n)).toBe(3n * USD - USD / 2n + 10n);
      expect((await sut.admit(request(i, { estimatedCostNano: 2n * USD }))).admitted).toBe(true);
    });

    it('does not limit an organisation that is not on prepaid', async () => {
      const i = ids();
      expect(await sut.readBalance(i.orgId)).toBeNull();
      expect((await sut.admit(request(i, { estimatedCostNano: 1_000n * USD }))).admitted).toBe(
        true,
      );
    });
  });

  describe('reconciliation access', () => {
    it('replaces committed spend only while the counter still holds what was read', async () => {
      // now, not NOON: a counter written with an expiry already past (a window that ended more than
      // 48 h ago) would be gone at once
      const i = ids();
      const now = Date.now();
      const r = admitted(await sut.admit(request(i, { now })));
      await sut.settle(r, { costNano: 7n, tokens: 1 });
      const window = { kind: 'day', id: computeWindows('UTC', now).dayId } as const;
      expect(await sut.readSpend(tenantScope(i), window)).toEqual({
        spentNano: 7n,
        reservedNano: 0n,
      });
      expect(
        await sut.replaceSpent(tenantScope(i), window, {
          expectedNano: 6n,
          valueNano: 9n,
        }),
      ).toBe('conflict');
      expect(
        await sut.replaceSpent(tenantScope(i), window, {
          expectedNano: 7n,
          valueNano: 9n,
        }),
      ).toBe('replaced');
      expect((await sut.readSpend(tenantScope(i), window)).spentNano).toBe(9n);
    });

    it('makes a newer window the current one and refuses one older than both kept', async () => {
      const i = ids();
      const days = ['2026-11-23', '2026-11-24', '2026-11-25'].map(
        (id) => ({ kind: 'day', id }) as const,
      );
      const write = (w: (typeof days)[number], expectedNano: bigint, valueNano: bigint) =>
        sut.replaceSpent(orgScope(i), w, { expectedNano, valueNano });
      expect(await write(days[1]!, 0n, 4n)).toBe('replaced');
      expect(await write(days[2]!, 0n, 6n)).toBe('replaced');
      expect((await sut.readSpend(orgScope(i), days[1]!)).spentNano).toBe(4n);
      expect((await sut.readSpend(orgScope(i), days[2]!)).spentNano).toBe(6n);
      expect(await write(days[0]!, 0n, 1n)).toBe('conflict');
      expect((await sut.readSpend(orgScope(i), days[0]!)).spentNano).toBe(0n);
      // the previous day can still be corrected
      expect(await write(days[1]!, 4n, 5n)).toBe('replaced');
      expect((await sut.readSpend(orgScope(i), days[1]!)).spentNano).toBe(5n);
    });

    it('stores and reads the organisation time zone', async () => {
      const i = ids();
      expect(await sut.readTimeZone(i.orgId)).toBe('UTC');
      await sut.writeTimeZone(i.orgId, 'europe/berlin');
      expect(await sut.readTimeZone(i.orgId)).toBe('Europe/Berlin');
    });
  });
});
