import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import {
  admissionKeys,
  type AnyAdmissionScope,
  decodeAdmissionModel,
  encodeAdmissionModel,
  parseLimitsKey,
} from './admission-keys';
import { AdmissionStore } from './admission-store';
import {
  type AdmitRequest,
  type AdmitResult,
  type LimitSettings,
  NO_LIMITS,
  type Reservation,
} from './admission-types';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `t_admission_model_${randomBytes(4).toString('hex')}:`;
const USD = 1_000_000_000n;
/** 2026-11-25 12:00 UTC */
const NOON = Date.UTC(2026, 10, 25, 12, 0, 0);
const MODEL_A = 'gpt-4o-mini';
const MODEL_B = 'anthropic/claude-3.5:sonnet';

let redis: Redis;
let sut: AdmissionStore;
let seq = 0;

const ids = () => {
  const n = `${++seq}-${randomBytes(3).toString('hex')}`;
  return { orgId: `org-${n}`, tenantId: `ten-${n}`, keyId: `key-${n}` };
};
type Ids = ReturnType<typeof ids>;
const orgScope = (i: Ids): AnyAdmissionScope => ({ kind: 'org', orgId: i.orgId });
const tenantScope = (i: Ids): AnyAdmissionScope => ({
  kind: 'tenant',
  orgId: i.orgId,
  tenantId: i.tenantId,
});
const keyScope = (i: Ids): AnyAdmissionScope => ({ kind: 'key', orgId: i.orgId, keyId: i.keyId });
const keyModel = (i: Ids, model: string): AnyAdmissionScope => ({
  kind: 'key-model',
  orgId: i.orgId,
  keyId: i.keyId,
  model,
});
const tenantModel = (i: Ids, model: string): AnyAdmissionScope => ({
  kind: 'tenant-model',
  orgId: i.orgId,
  tenantId: i.tenantId,
  model,
});
const limits = (l: Partial<LimitSettings>): LimitSettings => ({ ...NO_LIMITS, ...l });

function request(
  i: Ids,
  model: string | null,
  overrides: Partial<AdmitRequest> = {},
): AdmitRequest {
  return {
    reservationId: `req-${randomBytes(6).toString('hex')}`,
    ...i,
    model,
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

async function spend(scope: AnyAdmissionScope, at = NOON) {
  const s = await sut.readState(scope, { timeZone: 'UTC', now: at });
  return {
    day: [s.day.spentNano, s.day.reservedNano],
    month: [s.month.spentNano, s.month.reservedNano],
    total: [s.total.spentNano, s.total.reservedNano],
  };
}

const nothing = { day: [0n, 0n], month: [0n, 0n], total: [0n, 0n] };

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

describe('AdmissionStore per-model limits (real Redis)', () => {
  describe('keys', () => {
    it('encodes any model name into one key segment, kept in the organisation slot', () => {
      const i = ids();
      for (const model of [MODEL_A, MODEL_B, 'mødel {x} *?', 'a']) {
        expect(decodeAdmissionModel(encodeAdmissionModel(model))).toBe(model);
        const key = admissionKeys.limits(PREFIX, keyModel(i, model));
        expect(key).toMatch(/^[^{}]*\{org:[^{}]+\}[A-Za-z0-9._:-]+$/);
        expect(parseLimitsKey(PREFIX, key)).toEqual(keyModel(i, model));
        expect(parseLimitsKey(PREFIX, admissionKeys.limits(PREFIX, tenantModel(i, model)))).toEqual(
          tenantModel(i, model),
        );
      }
      expect(parseLimitsKey(PREFIX, admissionKeys.limits(PREFIX, keyScope(i)))).toEqual(
        keyScope(i),
      );
      expect(decodeAdmissionModel('YQ=')).toBeUndefined();
      expect(decodeAdmissionModel('YR')).toBeUndefined(); // non-canonical trailing bits
    });

    it('refuses empty, oversized and control-character model names', async () => {
      const i = ids();
      await expect(sut.writeLimits(keyModel(i, ''), limits({ rpm: 1 }))).rejects.toThrow(
        RangeError,
      );
      await expect(sut.admit(request(i, 'x'.repeat(257)))).rejects.toThrow(RangeError);
      await expect(sut.admit(request(i, 'a\nb'))).rejects.toThrow(RangeError);
    });

    it('lists per-model limit scopes among all limit scopes', async () => {
      const i = ids();
      await sut.writeLimits(keyModel(i, MODEL_B), limits({ rpm: 5 }));
      await sut.writeLimits(tenantModel(i, MODEL_A), limits({ tpm: 5 }));
      const found: AnyAdmissionScope[] = [];
      for await (const s of sut.scanLimitScopes()) if (s.orgId === i.orgId) found.push(s);
      expect(found).toHaveLength(2);
      expect(found).toEqual(
        expect.arrayContaining([keyModel(i, MODEL_B), tenantModel(i, MODEL_A)]),
      );
      expect(await sut.readLimits(keyModel(i, MODEL_B))).toEqual(limits({ rpm: 5 }));
    });
  });

  describe('admit', () => {
    it('limits requests per minute on one model of a key, not on another model', async () => {
      const i = ids();
      await sut.writeLimits(keyModel(i, MODEL_A), limits({ rpm: 2 }));
      for (let n = 0; n < 2; n++) {
        const r = await sut.admit(request(i, MODEL_A, { now: NOON + n * 1_000 }));
        expect(r.admitted).toBe(true);
        expect(r.rateLimits.requests).toMatchObject({ limit: 2, remaining: 1 - n });
      }
      const refused = await sut.admit(request(i, MODEL_A, { now: NOON + 5_000 }));
      expect(refused).toMatchObject({
        admitted: false,
        scope: 'key-model',
        model: MODEL_A,
        reason: 'rpm',
        retryAfterMs: 56_000,
      });
      const other = await sut.admit(request(i, MODEL_B, { now: NOON + 5_000 }));
      expect(other.admitted).toBe(true);
      expect(other.rateLimits.requests).toBeNull();
      // without a model the per-model limits do not apply
      expect((await sut.admit(request(i, null, { now: NOON + 5_000 }))).admitted).toBe(true);
      expect((await sut.admit(request(i, MODEL_A, { now: NOON + 61_000 }))).admitted).toBe(true);
    });

    it('is all-or-nothing across the per-model scopes', async () => {
      const i = ids();
      await sut.writeLimits(tenantModel(i, MODEL_A), limits({ dailyBudgetNano: 3n * USD }));
      await sut.writeLimits(keyModel(i, MODEL_A), limits({ totalBudgetNano: 100n * USD }));
      admitted(await sut.admit(request(i, MODEL_A, { estimatedCostNano: 2n * USD })));
      const r = await sut.admit(request(i, MODEL_A, { estimatedCostNano: 2n * USD }));
      expect(r).toMatchObject({
        admitted: false,
        scope: 'tenant-model',
        model: MODEL_A,
        reason: 'budget_daily',
      });
      for (const scope of [
        keyScope(i),
        keyModel(i, MODEL_A),
        tenantScope(i),
        tenantModel(i, MODEL_A),
        orgScope(i),
      ]) {
        expect((await spend(scope)).day).toEqual([0n, 2n * USD]);
      }

      // a refusal by the organisation reserves nothing on the per-model scopes either
      await sut.writeLimits(orgScope(i), limits({ monthlyBudgetNano: 2n * USD }));
      expect(await sut.admit(request(i, MODEL_B, { estimatedCostNano: USD }))).toMatchObject({
        admitted: false,
        scope: 'org',
        model: null,
        reason: 'budget_monthly',
      });
      expect((await spend(keyModel(i, MODEL_A))).month).toEqual([0n, 2n * USD]);
      expect((await spend(orgScope(i))).month).toEqual([0n, 2n * USD]);
    });

    it('names the narrower per-model scope first: key×model before tenant', async () => {
      const i = ids();
      await sut.writeLimits(tenantScope(i), limits({ rpm: 0 }));
      await sut.writeLimits(keyModel(i, MODEL_A), limits({ rpm: 0 }));
      expect(await sut.admit(request(i, MODEL_A))).toMatchObject({
        scope: 'key-model',
        reason: 'rpm',
      });
      expect(await sut.admit(request(i, MODEL_B))).toMatchObject({ scope: 'tenant', model: null });
    });

    it('skips a per-model scope without limits: no counters are written for it', async () => {
      const i = ids();
      await sut.writeLimits(keyModel(i, MODEL_A), limits({ rpm: 10 }));
      const r = admitted(await sut.admit(request(i, MODEL_B)));
      await sut.settle(r, { costNano: USD, tokens: 10 });
      expect(await spend(keyModel(i, MODEL_B))).toEqual(nothing);
      expect(await spend(tenantModel(i, MODEL_B))).toEqual(nothing);
      expect(await spend(keyModel(i, MODEL_A))).toEqual(nothing);
      expect((await spend(keyScope(i))).total).toEqual([USD, 0n]);
      // only the limits hash of the limited model exists among the per-model keys (`km:` / `tm:`)
      const keys = await redis.keys(`${admissionKeys.orgBase(PREFIX, i.orgId)}?m:*`);
      expect(keys).toEqual([admissionKeys.limits(PREFIX, keyModel(i, MODEL_A))]);
    });

    it('limits tokens per minute and concurrency per model of a tenant', async () => {
      const i = ids();
      await sut.writeLimits(tenantModel(i, MODEL_A), limits({ tpm: 1_000, maxConcurrent: 2 }));
      admitted(await sut.admit(request(i, MODEL_A, { estimatedTokens: 600 })));
      expect(await sut.admit(request(i, MODEL_A, { estimatedTokens: 500 }))).toMatchObject({
        admitted: false,
        scope: 'tenant-model',
        reason: 'tpm',
      });
      admitted(await sut.admit(request(i, MODEL_A, { estimatedTokens: 300 })));
      expect(await sut.admit(request(i, MODEL_A, { estimatedTokens: 1 }))).toMatchObject({
        admitted: false,
        scope: 'tenant-model',
        reason: 'concurrency',
      });
      const state = await sut.readState(tenantModel(i, MODEL_A), { timeZone: 'UTC', now: NOON });
      expect(state).toMatchObject({
        scope: tenantModel(i, MODEL_A),
        tokensLastMinute: 900,
        concurrent: 2,
        balanceNano: null,
      });
      expect((await sut.admit(request(i, MODEL_B, { estimatedTokens: 5_000 }))).admitted).toBe(
        true,
      );
    });
  });

  describe('settle, release and sweep', () => {
    it('settles the actual cost on the per-model scopes it reserved on', async () => {
      const i = ids();
      await sut.writeLimits(keyModel(i, MODEL_A), limits({ dailyBudgetNano: 10n * USD }));
      await sut.writeLimits(tenantModel(i, MODEL_A), limits({ tpm: 10_000 }));
      const r = admitted(await sut.admit(request(i, MODEL_A, { estimatedCostNano: 5n * USD })));
      expect(r.model).toBe(MODEL_A);
      expect((await spend(keyModel(i, MODEL_A))).day).toEqual([0n, 5n * USD]);
      expect(await sut.settle(r, { costNano: 2n * USD, tokens: 40 })).toBe('settled');
      expect(await sut.settle(r, { costNano: 2n * USD, tokens: 40 })).toBe('duplicate');
      for (const scope of [keyModel(i, MODEL_A), tenantModel(i, MODEL_A), keyScope(i)]) {
        expect(await spend(scope)).toEqual({
          day: [2n * USD, 0n],
          month: [2n * USD, 0n],
          total: [2n * USD, 0n],
        });
      }
      const state = await sut.readState(tenantModel(i, MODEL_A), { timeZone: 'UTC', now: NOON });
      expect(state.tokensLastMinute).toBe(40);
    });

    it('release gives the per-model reservation back and frees its budget', async () => {
      const i = ids();
      await sut.writeLimits(keyModel(i, MODEL_A), limits({ totalBudgetNano: USD, tpm: 1_000 }));
      const r = admitted(await sut.admit(request(i, MODEL_A, { estimatedTokens: 700 })));
      expect((await sut.admit(request(i, MODEL_A))).admitted).toBe(false);
      expect(await sut.release(r)).toBe('released');
      expect(await spend(keyModel(i, MODEL_A))).toEqual(nothing);
      const state = await sut.readState(keyModel(i, MODEL_A), { timeZone: 'UTC', now: NOON });
      expect(state.tokensLastMinute).toBe(0);
      expect((await sut.admit(request(i, MODEL_A, { estimatedTokens: 700 }))).admitted).toBe(true);
    });

    it('refuses to finish a reservation under another model', async () => {
      const i = ids();
      await sut.writeLimits(keyModel(i, MODEL_A), limits({ rpm: 5 }));
      const r = admitted(await sut.admit(request(i, MODEL_A)));
      await expect(sut.release({ ...r, model: MODEL_B })).rejects.toThrow(/does not match/);
      expect(await sut.release(r)).toBe('released');
    });

    it('the sweeper releases an expired per-model reservation; a late settle books it once', async () => {
      const i = ids();
      await sut.writeLimits(
        tenantModel(i, MODEL_B),
        limits({ dailyBudgetNano: USD, maxConcurrent: 1 }),
      );
      const crashed = admitted(await sut.admit(request(i, MODEL_B, { ttlMs: 1_000 })));
      expect(await sut.admit(request(i, MODEL_B, { now: NOON + 500 }))).toMatchObject({
        admitted: false,
        scope: 'tenant-model',
      });
      expect((await sut.sweep(NOON + 1_001)).released).toBe(1);
      expect(await spend(tenantModel(i, MODEL_B))).toEqual(nothing);
      const next = admitted(await sut.admit(request(i, MODEL_B, { now: NOON + 1_002 })));
      await sut.release(next);

      expect(await sut.settle(crashed, { costNano: 5n, tokens: 1 })).toBe('settled');
      expect(await sut.settle(crashed, { costNano: 5n, tokens: 1 })).toBe('duplicate');
      expect((await spend(tenantModel(i, MODEL_B))).total).toEqual([5n, 0n]);
    });
  });
});
