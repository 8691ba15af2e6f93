import { computeCostNano, type TokenPrice } from '@tollgate/pricing';
import {
  admissionKeys,
  type AdmissionScope,
  AdmissionStore,
  computeWindows,
  type LimitSettings,
  NO_LIMITS,
} from '@tollgate/server-admission';
import { freeLoopbackPort, waitFor } from '@tollgate/server-testing';
import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { AdmissionLeases, FIRST_LEASE_REQUESTS } from './admission-leases';
import { AdmissionService } from './admission.service';
import { ProxyHarness, type TestKey } from '../testing/proxy-harness';

const MODEL = 'exact-model';
/** priced on output only, asked for exactly `max_tokens` words: reservation = actual cost */
const EXACT: TokenPrice = { inputNanoUsdPerMTok: 0n, outputNanoUsdPerMTok: 1_000_000_000_000n };
const WORDS = 10;
const COST = computeCostNano({ inputTokens: 0, outputTokens: WORDS }, EXACT);
/** what a request settles a lease with in the unit tests: 20 tokens, costing COST */
const USED = { inputTokens: 10, outputTokens: WORDS, cachedInputTokens: 0 };
const USD = 1_000_000_000n;

/**
 * Leases on one proxy: a key far from its limits is admitted mostly under leases (few reservation
 * records for many requests), and its counters end exactly where one script per request would
 * leave them; near a limit, every request runs the script.
 */
describe('admission leases on the proxy', () => {
  let h: ProxyHarness;
  let store: AdmissionStore;

  const keyScope = (k: TestKey): AdmissionScope => ({
    kind: 'key',
    orgId: k.record.organisationId,
    keyId: k.record.id,
  });
  const limitedKey = async (l: Partial<LimitSettings>): Promise<TestKey> => {
    // an organisation of its own, so that its reservation records are its own
    const k = await h.addKey({ organisationId: `org_${randomBytes(4).toString('hex')}` });
    await store.writeLimits(keyScope(k), { ...NO_LIMITS, ...l });
    return k;
  };

  async function post(k: TestKey, latencyMs = 0, maxTokens = WORDS) {
    const res = await fetch(`${h.url}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${k.secret}`,
        'content-type': 'application/json',
        'x-mock-words': String(WORDS),
        'x-mock-latency-ms': String(latencyMs),
      },
      body: JSON.stringify({
        model: MODEL,
        messages: [{ role: 'user', content: 'Say ten words' }],
        max_tokens: maxTokens,
      }),
    });
    const body = (await res.json()) as { usage?: { total_tokens: number } };
    return { status: res.status, headers: res.headers, tokens: body.usage?.total_tokens ?? 0 };
  }

  /** `count` requests, `parallel` at a time. */
  async function run(k: TestKey, count: number, parallel: number) {
    const answers: Awaited<ReturnType<typeof post>>[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        while (next < count) {
          next++;
          answers.push(await post(k));
        }
      }),
    );
    return answers;
  }

  /** Reservation records of the key's organisation (kept a while after they end). */
  async function reservationRecords(k: TestKey): Promise<number> {
    const pattern = `${admissionKeys.orgBase(h.prefix.prefix, k.record.organisationId)}r:*`;
    let n = 0;
    let cursor = '0';
    do {
      const [next, keys] = await h.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      n += keys.length;
    } while (cursor !== '0');
    return n;
  }

  /** The key's state once no reservation holds anything on it (leases end within their life). */
  const quiet = (k: TestKey) =>
    waitFor(
      async () => {
        const s = await store.readState(keyScope(k), { timeZone: 'UTC' });
        return s.total.reservedNano === 0n && s.concurrent === 0 ? s : undefined;
      },
      { timeoutMs: 5000, what: 'leases settled' },
    );

  beforeAll(async () => {
    h = await ProxyHarness.create('leases');
    await h.addChannel({
      models: ['gpt-4o-mini', MODEL],
      modelMapping: { [MODEL]: 'gpt-4o-mini' },
    });
    store = new AdmissionStore(h.redis, { prefix: h.prefix.prefix });
    await h.projectPrice(MODEL, EXACT);
    await h.start({ ADMISSION_LEASE_MS: '300', ADMISSION_LEASE_MAX_REQUESTS: '16' });
  });
  afterAll(() => h.close());

  it('admits a busy key far from its limits mostly under leases, and books exactly what ran', async () => {
    const k = await limitedKey({
      totalBudgetNano: 1000n * USD,
      rpm: 100_000,
      tpm: 100_000_000,
      maxConcurrent: 10_000,
    });
    const answers = await run(k, 300, 4);
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    // every answer carries the key's rate-limit view, under a lease or not
    for (const a of answers) {
      expect(a.headers.get('x-ratelimit-limit-requests')).toBe('100000');
      expect(Number(a.headers.get('x-ratelimit-remaining-requests'))).toBeGreaterThan(99_000);
    }
    // one script per request would leave 300 records
    expect(await reservationRecords(k)).toBeLessThan(75);
    const state = await quiet(k);
    const tokens = answers.reduce((sum, a) => sum + a.tokens, 0);
    expect(state.total.spentNano).toBe(300n * COST);
    expect(state.requestsLastMinute).toBe(300);
    expect(state.tokensLastMinute).toBe(tokens);
    expect(h.app.get(AdmissionService).leases?.openLeases).toBe(0);
  });

  it('runs the script for every request of a key near its budget, and admits exactly what it allows', async () => {
    const k = await limitedKey({ totalBudgetNano: 20n * COST });
    const answers = await run(k, 30, 3);
    expect(answers.filter((a) => a.status === 200)).toHaveLength(20);
    expect(answers.filter((a) => a.status === 429)).toHaveLength(10);
    expect(await reservationRecords(k)).toBe(20);
    expect((await quiet(k)).total.spentNano).toBe(20n * COST);
  });

  it('stops leasing as a limit comes near, and still holds it exactly', async () => {
    // room for 600 requests: leases (with room for 16 more of them) fit only at first
    const k = await limitedKey({ rpm: 600 });
    const answers = await run(k, 700, 4);
    expect(answers.filter((a) => a.status === 200)).toHaveLength(600);
    expect(await reservationRecords(k)).toBeLessThan(600);
    const state = await quiet(k);
    expect(state.requestsLastMinute).toBe(600);
  });

  it('admits requests whose estimates are near the largest reservation, and books what they cost', async () => {
    const k = await limitedKey({ totalBudgetNano: 10n ** 20n });
    for (let i = 0; i < 5; i++) {
      // an estimate clamped to the largest reservation: a thousand times that is more than any
      // limit may be, and the question about headroom must still be asked as such
      expect((await post(k, 0, 10_000_000_000_000)).status).toBe(200);
    }
    // far beyond what one such request could leave room for: every one runs the script
    expect(await reservationRecords(k)).toBe(5);
    expect((await quiet(k)).total.spentNano).toBe(5n * COST);
  });

  it('gives back what a lease did not hand out while its requests still run', async () => {
    const k = await limitedKey({ rpm: 100_000, maxConcurrent: 10_000 });
    const state = () => store.readState(keyScope(k), { timeZone: 'UTC' });
    // six at once run the script each (and start a lease); two more take from the lease
    const first = Array.from({ length: 6 }, () => post(k, 1500));
    await waitFor(async () => (await state()).concurrent > 6, { what: 'a lease', timeoutMs: 2000 });
    await new Promise((r) => setTimeout(r, 50));
    // every request a lease may admit counts now
    const leased = (await state()).concurrent - 6;
    expect(leased).toBeGreaterThanOrEqual(3);
    expect((await state()).requestsLastMinute).toBe(6 + leased);
    const more = Array.from({ length: 2 }, () => post(k, 1500));
    // the lease's life (300 ms) ends while its two requests run: only they stay held
    await waitFor(async () => (await state()).concurrent === 8, {
      what: 'the unused part given back',
      timeoutMs: 1000,
    });
    expect((await state()).requestsLastMinute).toBe(8);
    const answers = await Promise.all([...first, ...more]);
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    const end = await quiet(k);
    expect([end.requestsLastMinute, end.concurrent]).toEqual([8, 0]);
  });

  it('hands out nothing from a lease past the end of the local day it was made in', async () => {
    const timeZone = 'America/New_York';
    const dayEnd = computeWindows(timeZone, Date.UTC(2027, 0, 1, 12)).dayEnd;
    let clock = dayEnd - 100;
    const sut = new AdmissionLeases(
      store,
      { lifeMs: 1000, headroom: 16, maxRequests: 8, ttlMs: 60_000 },
      async (_id, run) => void (await run()),
      (err) => {
        throw err;
      },
      () => clock,
    );
    const scope = {
      orgId: `org_${randomBytes(4).toString('hex')}`,
      tenantId: 'tenant-a',
      keyId: 'key-a',
      model: null,
      timeZone,
    };
    // two requests the script admitted, far from every limit: a lease is asked for
    sut.admitted(scope, COST, 20, true, clock);
    sut.admitted(scope, COST, 20, true, clock);
    await waitFor(() => sut.openLeases === 1, { what: 'a lease', timeoutMs: 2000 });
    const before = sut.take(scope.orgId, scope.tenantId, scope.keyId, null, COST, 20, clock + 50);
    if (before === null || before instanceof Promise) throw new Error('expected a lease at once');
    // local midnight: the lease belongs to the day that ended, and so does the next one, asked
    // for as the first neared its end (the request waits for it, and is not admitted under it)
    clock = dayEnd;
    expect(
      await sut.take(scope.orgId, scope.tenantId, scope.keyId, null, COST, 20, clock),
    ).toBeNull();
    before.settle(USED, EXACT);
    await sut.stop();
    const orgScope: AdmissionScope = { kind: 'org', orgId: scope.orgId };
    const yesterday = await store.readState(orgScope, { timeZone, now: dayEnd - 1 });
    expect([yesterday.day.spentNano, yesterday.day.reservedNano]).toEqual([COST, 0n]);
    const today = await store.readState(orgScope, { timeZone, now: dayEnd });
    expect([today.day.spentNano, today.day.reservedNano]).toEqual([0n, 0n]);
  });

  /** Leases on the test's store, on a clock of its own; counts the store's admission scripts. */
  function leasesOn(target: AdmissionStore, maxRequests: number) {
    const calls = { admits: 0 };
    const counting = Object.assign(Object.create(target) as AdmissionStore, {
      admit: (req: Parameters<AdmissionStore['admit']>[0]) => {
        calls.admits++;
        return target.admit(req);
      },
    });
    const errors: unknown[] = [];
    const sut = new AdmissionLeases(
      counting,
      { lifeMs: 1000, headroom: 16, maxRequests, ttlMs: 60_000 },
      async (_id, run) => void (await run()),
      (err) => errors.push(err),
    );
    const scope = {
      orgId: `org_${randomBytes(4).toString('hex')}`,
      tenantId: 'tenant-a',
      keyId: 'key-a',
      model: null,
      timeZone: 'UTC',
    };
    return { sut, scope, calls, errors };
  }

  it('has requests that find every lease used up wait for the one being asked for', async () => {
    const { sut, scope, calls } = leasesOn(store, 4);
    // two requests the script admitted, far from every limit: a lease of 3 is asked for
    sut.admitted(scope, COST, 20, true, Date.now());
    sut.admitted(scope, COST, 20, true, Date.now());
    expect(calls.admits).toBe(1);
    const takes = Array.from({ length: 5 }, () =>
      sut.take(scope.orgId, scope.tenantId, scope.keyId, null, COST, 20, Date.now()),
    );
    // four wait for it (as many as a lease may hold); the fifth runs the script at once
    expect(takes.map((t) => (t instanceof Promise ? 'wait' : t))).toEqual([
      'wait',
      'wait',
      'wait',
      'wait',
      null,
    ]);
    const tickets = await Promise.all(takes);
    // the lease admits three; the fourth finds it used up and runs the script after all
    expect(tickets.map((t) => t !== null)).toEqual([true, true, true, false, false]);
    // no script ran for the three: the first lease, and the next asked for as it ran low
    expect(calls.admits).toBe(2);
    for (const t of tickets) if (t) t.settle(USED, EXACT);
    await sut.stop();
    const orgScope: AdmissionScope = { kind: 'org', orgId: scope.orgId };
    const s = await store.readState(orgScope, { timeZone: 'UTC' });
    expect([s.total.spentNano, s.total.reservedNano]).toEqual([3n * COST, 0n]);
  });

  it('never admits a request of another organisation or tenant under a key id it leased for', async () => {
    const { sut, scope, calls } = leasesOn(store, 4);
    sut.admitted(scope, COST, 20, true, Date.now());
    sut.admitted(scope, COST, 20, true, Date.now());
    await waitFor(() => sut.openLeases === 1, { what: 'a lease', timeoutMs: 2000 });
    const other = `org_${randomBytes(4).toString('hex')}`;
    // the same key id in another organisation or tenant: the script decides, not this lease
    expect(sut.take(other, scope.tenantId, scope.keyId, null, COST, 20, Date.now())).toBeNull();
    expect(sut.take(scope.orgId, 'tenant-b', scope.keyId, null, COST, 20, Date.now())).toBeNull();
    // and their admissions start no pool of their own in its place
    sut.admitted({ ...scope, orgId: other }, COST, 20, true, Date.now());
    sut.admitted({ ...scope, orgId: other }, COST, 20, true, Date.now());
    expect(calls.admits).toBe(1);
    const mine = sut.take(scope.orgId, scope.tenantId, scope.keyId, null, COST, 20, Date.now());
    if (mine === null || mine instanceof Promise)
      throw new Error('expected a lease of its own key');
    mine.settle(USED, EXACT);
    await sut.stop();
    const s = await store.readState({ kind: 'org', orgId: scope.orgId }, { timeZone: 'UTC' });
    expect([s.total.spentNano, s.total.reservedNano]).toEqual([COST, 0n]);
    const elsewhere = await store.readState({ kind: 'org', orgId: other }, { timeZone: 'UTC' });
    expect([elsewhere.total.spentNano, elsewhere.total.reservedNano]).toEqual([0n, 0n]);
  });

  it('settles a lease at the sum of what each of its requests costs alone, each rounded once', async () => {
    const { sut, scope } = leasesOn(store, 8);
    // half a nano-USD per request: each rounds up to 1, their sum is 2 (not 1.0 rounded to 1)
    const half: TokenPrice = { inputNanoUsdPerMTok: 500_000n, outputNanoUsdPerMTok: 0n };
    const oneToken = { inputTokens: 1, outputTokens: 0, cachedInputTokens: 0 };
    sut.admitted(scope, 1n, 1, true, Date.now());
    sut.admitted(scope, 1n, 1, true, Date.now());
    await waitFor(() => sut.openLeases === 1, { what: 'a lease', timeoutMs: 2000 });
    // a lease of three (one and a half times the two arrivals)
    const tickets = [1, 2, 3].map(() => {
      const t = sut.take(scope.orgId, scope.tenantId, scope.keyId, null, 1n, 1, Date.now());
      if (t === null || t instanceof Promise) throw new Error('expected a lease at once');
      return t;
    });
    tickets[0].settle(oneToken, half);
    tickets[1].settle(oneToken, half);
    // no price known for the third: its tokens count, its cost is 0
    tickets[2].settle(oneToken, null);
    await sut.stop();
    const s = await store.readState({ kind: 'org', orgId: scope.orgId }, { timeZone: 'UTC' });
    expect([s.total.spentNano, s.total.reservedNano]).toEqual([2n, 0n]);
  });

  it("asks about headroom for leases of the size the key's demand gets, not the largest", async () => {
    const { sut, scope } = leasesOn(store, 1000);
    const question = () =>
      sut.headroomFor(scope.orgId, scope.tenantId, scope.keyId, null, COST, 20).requests;
    // no demand seen yet: room for 16 leases (the headroom) of FIRST_LEASE_REQUESTS
    expect(question()).toBe(16 * FIRST_LEASE_REQUESTS);
    sut.admitted(scope, COST, 20, true, Date.now());
    // one request seen, this one the second: a lease of 3 (2 × 1.5)
    expect(question()).toBe(16 * 3);
    sut.admitted(scope, COST, 20, true, Date.now());
    expect(question()).toBe(16 * 5);
    expect(sut.headroomFor(scope.orgId, scope.tenantId, scope.keyId, null, COST, 20)).toEqual({
      costNano: COST * 80n,
      tokens: 20 * 80,
      requests: 80,
    });
    // another organisation's key under the same id has no demand here
    const other = sut.headroomFor('org-other', scope.tenantId, scope.keyId, null, COST, 20);
    expect(other.requests).toBe(16 * FIRST_LEASE_REQUESTS);
    await sut.stop();
  });

  it('sends the waiting requests to the script when the lease cannot be made', async () => {
    // a store whose Redis is gone: the lease request fails at once
    const gone = new Redis({
      port: await freeLoopbackPort(),
      lazyConnect: true,
      enableOfflineQueue: false,
    });
    const { sut, scope, errors } = leasesOn(
      new AdmissionStore(gone, { prefix: h.prefix.prefix }),
      4,
    );
    try {
      sut.admitted(scope, COST, 20, true, Date.now());
      sut.admitted(scope, COST, 20, true, Date.now());
      const waiting = sut.take(
        scope.orgId,
        scope.tenantId,
        scope.keyId,
        null,
        COST,
        20,
        Date.now(),
      );
      expect(waiting).toBeInstanceOf(Promise);
      expect(await waiting).toBeNull();
      expect(errors).toHaveLength(1);
      // the pool no longer counts on leases: the next request runs the script without waiting
      expect(
        sut.take(scope.orgId, scope.tenantId, scope.keyId, null, COST, 20, Date.now()),
      ).toBeNull();
      await sut.stop();
    } finally {
      gone.disconnect();
    }
  });

  it('settles its open leases when it shuts down', async () => {
    const k = await limitedKey({ totalBudgetNano: 1000n * USD, maxConcurrent: 10_000 });
    await run(k, 60, 2);
    await h.closeApp();
    const s = await store.readState(keyScope(k), { timeZone: 'UTC' });
    expect([s.total.spentNano, s.total.reservedNano, s.concurrent]).toEqual([60n * COST, 0n, 0]);
  });
});
