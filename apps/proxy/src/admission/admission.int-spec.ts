import { UsageOutcome } from '@tollgate/contracts';
import { computeCostNano, type TokenPrice } from '@tollgate/pricing';
import {
  type AdmissionScope,
  AdmissionStore,
  type LimitSettings,
  NO_LIMITS,
} from '@tollgate/server-admission';
import { waitFor } from '@tollgate/server-testing';
import { randomBytes } from 'node:crypto';
import { ProxyHarness, type TestKey } from '../testing/proxy-harness';
import { estimateRequest } from './request-estimate';
import { ProxyEndpoint } from '@tollgate/contracts';

const MESSAGES = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Tell me three short things about gateways' },
];

/** realistic prices for the plain model */
const MINI: TokenPrice = { inputNanoUsdPerMTok: 150_000_000n, outputNanoUsdPerMTok: 600_000_000n };
/**
 * A model priced on output only, asked for exactly as many words as `max_tokens` allows: its
 * reservation equals its actual cost, so a budget of N reservations admits exactly N requests
 * whatever the order in which admissions and settlements interleave.
 */
const EXACT: TokenPrice = { inputNanoUsdPerMTok: 0n, outputNanoUsdPerMTok: 1_000_000_000_000n };
const EXACT_WORDS = 10;
const EXACT_COST = computeCostNano({ inputTokens: 0, outputTokens: EXACT_WORDS }, EXACT);

const RATE_HEADERS = [
  'x-ratelimit-limit-requests',
  'x-ratelimit-remaining-requests',
  'x-ratelimit-reset-requests',
  'x-ratelimit-limit-tokens',
  'x-ratelimit-remaining-tokens',
  'x-ratelimit-reset-tokens',
];

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: { error?: { message: string; type: string; code: string | null } } & Record<
    string,
    unknown
  >;
  requestId: string;
}

describe('admission on the proxy', () => {
  let h: ProxyHarness;
  let store: AdmissionStore;

  const projectPrice = (model: string, p: TokenPrice) => h.projectPrice(model, p);

  const keyScope = (k: TestKey): AdmissionScope => ({
    kind: 'key',
    orgId: k.record.organisationId,
    keyId: k.record.id,
  });

  const limitedKey = async (
    limits: Partial<LimitSettings>,
    over: Parameters<ProxyHarness['addKey']>[0] = {},
  ): Promise<TestKey> => {
    const k = await h.addKey(over);
    await store.writeLimits(keyScope(k), { ...NO_LIMITS, ...limits });
    return k;
  };

  async function post(
    k: TestKey,
    body: Record<string, unknown>,
    headers: Record<string, string> = {},
    path = '/v1/chat/completions',
  ): Promise<Answer> {
    const res = await fetch(`${h.url}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${k.secret}`,
        'content-type': 'application/json',
        ...headers,
      },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    let json: Answer['json'] = {};
    if (!body.stream) json = JSON.parse(text) as Answer['json'];
    return {
      status: res.status,
      headers: res.headers,
      text,
      json,
      requestId: res.headers.get('x-request-id') ?? '',
    };
  }

  const chat = (extra: Record<string, unknown> = {}) => ({
    model: 'gpt-4o-mini',
    messages: MESSAGES,
    ...extra,
  });
  const exact = (extra: Record<string, unknown> = {}) => ({
    model: 'exact-model',
    messages: MESSAGES,
    max_tokens: EXACT_WORDS,
    ...extra,
  });
  const EXACT_HEADERS = { 'x-mock-words': String(EXACT_WORDS) };

  /** Committed spend of a key once nothing is reserved on it any more. */
  const settledSpend = async (k: TestKey): Promise<bigint> => {
    const c = await waitFor(
      async () => {
        const s = await store.readSpend(keyScope(k), { kind: 'total' });
        return s.reservedNano === 0n ? s : undefined;
      },
      { timeoutMs: 5000, what: 'reservations settled' },
    );
    return c.spentNano;
  };

  beforeAll(async () => {
    h = await ProxyHarness.create('admission');
    await h.addChannel({
      models: ['gpt-4o-mini', 'exact-model', 'text-embedding-3-small'],
      modelMapping: { 'exact-model': 'gpt-4o-mini' },
    });
    store = new AdmissionStore(h.redis, { prefix: h.prefix.prefix });
    await projectPrice('gpt-4o-mini', MINI);
    await projectPrice('exact-model', EXACT);
    await h.start({
      ADMISSION_DEFAULT_MAX_OUTPUT_TOKENS: '500',
      ADMISSION_SWEEP_INTERVAL_MS: '200',
    });
  });
  afterAll(() => h.close());

  describe('a key without limits', () => {
    it('answers without rate-limit headers, reserves the estimate and settles the billed cost', async () => {
      const k = await h.addKey();
      const body = chat({ max_tokens: 50 });
      const a = await post(k, body, { 'x-mock-words': '7' });
      expect(a.status).toBe(200);
      for (const name of RATE_HEADERS) expect(a.headers.get(name)).toBeNull();
      const event = await h.usage(a.requestId);
      const est = estimateRequest(ProxyEndpoint.ChatCompletions, body, 500);
      expect(est.maxOutputTokens).toBe(50);
      expect(event.reservedCostNanoUsd).toBe(
        computeCostNano({ inputTokens: est.promptTokens, outputTokens: 50 }, MINI).toString(),
      );
      // the cost billing computes from the event, with the same price
      const billed = computeCostNano(
        { inputTokens: event.inputTokens, outputTokens: event.outputTokens },
        MINI,
      );
      expect(billed).toBeGreaterThan(0n);
      expect(await settledSpend(k)).toBe(billed);
    });

    it('reserves the configured cap when the request sets no max_tokens', async () => {
      const k = await h.addKey();
      const body = chat({ n: 2 });
      const a = await post(k, body, { 'x-mock-words': '3' });
      expect(a.status).toBe(200);
      const event = await h.usage(a.requestId);
      const est = estimateRequest(ProxyEndpoint.ChatCompletions, body, 500);
      expect(est.maxOutputTokens).toBe(1000);
      expect(event.reservedCostNanoUsd).toBe(
        computeCostNano({ inputTokens: est.promptTokens, outputTokens: 1000 }, MINI).toString(),
      );
    });

    it('counts an unpriced model at no cost, and still its requests', async () => {
      const k = await limitedKey({ rpm: 5 });
      const a = await post(
        k,
        { model: 'text-embedding-3-small', input: 'hello there' },
        {},
        '/v1/embeddings',
      );
      expect(a.status).toBe(200);
      expect(a.headers.get('x-ratelimit-remaining-requests')).toBe('4');
      expect((await h.usage(a.requestId)).reservedCostNanoUsd).toBe('0');
      expect(await settledSpend(k)).toBe(0n);
    });
  });

  describe('rate limits', () => {
    it('answers 429 rate_limit_exceeded with Retry-After and the x-ratelimit headers past rpm', async () => {
      const k = await limitedKey({ rpm: 2, tpm: 100_000 });
      const first = await post(k, chat({ max_tokens: 20 }));
      expect(first.status).toBe(200);
      expect(first.headers.get('x-ratelimit-limit-requests')).toBe('2');
      expect(first.headers.get('x-ratelimit-remaining-requests')).toBe('1');
      expect(first.headers.get('x-ratelimit-reset-requests')).toMatch(
        /^\d+(\.\d+)?m?s$|^\d+m[\d.]+s$/,
      );
      expect(first.headers.get('x-ratelimit-limit-tokens')).toBe('100000');
      expect(Number(first.headers.get('x-ratelimit-remaining-tokens'))).toBeLessThan(100_000);
      expect(first.headers.get('x-ratelimit-reset-tokens')).toEqual(expect.any(String));
      expect((await post(k, chat({ max_tokens: 20 }))).status).toBe(200);

      const refused = await post(k, chat({ max_tokens: 20 }));
      expect(refused.status).toBe(429);
      expect(refused.json.error).toMatchObject({ code: 'rate_limit_exceeded', type: 'requests' });
      expect(refused.json.error?.message).toMatch(/requests per minute/);
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      // a request counts for 60 to 61 s (one-second buckets)
      expect(retryAfter).toBeLessThanOrEqual(61);
      expect(refused.headers.get('x-ratelimit-limit-requests')).toBe('2');
      expect(refused.headers.get('x-ratelimit-remaining-requests')).toBe('0');
      expect(refused.headers.get('x-ratelimit-limit-tokens')).toBe('100000');
      expect(await h.usage(refused.requestId)).toMatchObject({
        outcome: UsageOutcome.Rejected,
        httpStatus: 429,
        errorCode: 'rate_limit_exceeded',
        reservedCostNanoUsd: '0',
        inputTokens: 0,
        outputTokens: 0,
      });
    });

    it('sets the headers on a stream before its first byte', async () => {
      const k = await limitedKey({ rpm: 10 });
      const a = await post(k, chat({ stream: true }), { 'x-mock-chunks': '3' });
      expect(a.status).toBe(200);
      expect(a.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(a.headers.get('x-ratelimit-limit-requests')).toBe('10');
      expect(a.headers.get('x-ratelimit-remaining-requests')).toBe('9');
      expect(a.text).toContain('[DONE]');
    });

    it('refuses a request larger than the tpm limit without Retry-After (waiting does not help)', async () => {
      // the limit is exactly what the small request reserves (its prompt bound and max_tokens)
      const small = estimateRequest(ProxyEndpoint.ChatCompletions, chat({ max_tokens: 20 }), 500);
      const tpm = small.promptTokens + small.maxOutputTokens;
      const k = await limitedKey({ tpm });
      const refused = await post(k, chat({ max_tokens: 1000 }));
      expect(refused.status).toBe(429);
      expect(refused.json.error).toMatchObject({ code: 'rate_limit_exceeded', type: 'tokens' });
      expect(refused.headers.get('retry-after')).toBeNull();
      expect(refused.headers.get('x-ratelimit-limit-tokens')).toBe(String(tpm));
      expect((await post(k, chat({ max_tokens: 20 }))).status).toBe(200);
    });

    it('holds concurrent requests to maxConcurrent and frees the slots when they end', async () => {
      const k = await limitedKey({ maxConcurrent: 2 });
      const slow = { 'x-mock-latency-ms': '1500' };
      const answers = await Promise.all(
        Array.from({ length: 6 }, () => post(k, chat({ max_tokens: 20 }), slow)),
      );
      const ok = answers.filter((a) => a.status === 200);
      const refused = answers.filter((a) => a.status === 429);
      expect(ok).toHaveLength(2);
      expect(refused).toHaveLength(4);
      for (const r of refused) {
        expect(r.json.error?.code).toBe('rate_limit_exceeded');
        expect(r.json.error?.message).toMatch(/concurrent requests/);
        expect(r.headers.get('retry-after')).toBe('1');
      }
      await settledSpend(k);
      expect((await post(k, chat({ max_tokens: 20 }))).status).toBe(200);
    });
  });

  describe('budgets', () => {
    it('answers 429 insufficient_quota once the total budget is spent, and meters the refusal', async () => {
      const k = await limitedKey({ totalBudgetNano: EXACT_COST });
      const first = await post(k, exact(), EXACT_HEADERS);
      expect(first.status).toBe(200);
      expect(await settledSpend(k)).toBe(EXACT_COST);

      const refused = await post(k, exact(), EXACT_HEADERS);
      expect(refused.status).toBe(429);
      expect(refused.json.error).toMatchObject({
        code: 'insufficient_quota',
        type: 'insufficient_quota',
      });
      expect(refused.json.error?.message).toMatch(/total budget of this API key/);
      expect(refused.headers.get('retry-after')).toBeNull();
      expect(await h.usage(refused.requestId)).toMatchObject({
        outcome: UsageOutcome.Rejected,
        httpStatus: 429,
        errorCode: 'insufficient_quota',
      });
    });

    it('refuses on the daily budget with a Retry-After until the day ends', async () => {
      const k = await limitedKey({ dailyBudgetNano: EXACT_COST - 1n });
      const refused = await post(k, exact(), EXACT_HEADERS);
      expect(refused.status).toBe(429);
      expect(refused.json.error?.message).toMatch(/daily budget/);
      const seconds = Number(refused.headers.get('retry-after'));
      expect(seconds).toBeGreaterThanOrEqual(1);
      expect(seconds).toBeLessThanOrEqual(25 * 3600);
    });

    it("checks the tenant's budget for all of its keys", async () => {
      const tenantId = `ten_${randomBytes(4).toString('hex')}`;
      await store.writeLimits(
        { kind: 'tenant', orgId: h.orgId, tenantId },
        { ...NO_LIMITS, monthlyBudgetNano: EXACT_COST },
      );
      const a = await h.addKey({ tenantId });
      const b = await h.addKey({ tenantId });
      expect((await post(a, exact(), EXACT_HEADERS)).status).toBe(200);
      const refused = await post(b, exact(), EXACT_HEADERS);
      expect(refused.status).toBe(429);
      expect(refused.json.error?.message).toMatch(/monthly budget of this tenant/);
    });

    it('draws on a prepaid balance and refuses when it is used up', async () => {
      const orgId = `org_${randomBytes(4).toString('hex')}`;
      await store.setBalance(orgId, EXACT_COST);
      const k = await h.addKey({ organisationId: orgId });
      expect((await post(k, exact(), EXACT_HEADERS)).status).toBe(200);
      await settledSpend(k);
      expect(await store.readBalance(orgId)).toBe(0n);
      const refused = await post(k, exact(), EXACT_HEADERS);
      expect(refused.status).toBe(429);
      expect(refused.json.error).toMatchObject({ code: 'insufficient_quota' });
      expect(refused.json.error?.message).toMatch(/prepaid balance/);
    });

    it('admits exactly N of 200 concurrent requests against a budget for N, and spends no more', async () => {
      const N = 37n;
      const k = await limitedKey({ totalBudgetNano: EXACT_COST * N + EXACT_COST / 2n });
      const answers = await Promise.all(
        Array.from({ length: 200 }, () => post(k, exact(), EXACT_HEADERS)),
      );
      const statuses = answers.map((a) => a.status);
      expect(statuses.filter((s) => s === 200)).toHaveLength(Number(N));
      expect(statuses.filter((s) => s === 429)).toHaveLength(200 - Number(N));
      for (const a of answers)
        if (a.status === 429) expect(a.json.error?.code).toBe('insufficient_quota');
      const spent = await settledSpend(k);
      expect(spent).toBe(EXACT_COST * N);
      expect(spent).toBeLessThanOrEqual(EXACT_COST * N + EXACT_COST / 2n);
    });
    it('never spends beyond a budget when the provider counts far more prompt tokens than 4 characters per token', async () => {
      // 400 one-letter words: the mock counts a token per word (1 + 400); the heuristic makes 203
      const messages = [
        { role: 'user', content: Array.from({ length: 400 }, () => 'a').join(' ') },
      ];
      const body = { model: 'gpt-4o-mini', messages, max_tokens: 10 };
      const provider = computeCostNano({ inputTokens: 401, outputTokens: 10 }, MINI);
      const heuristic = estimateRequest(ProxyEndpoint.ChatCompletions, body, 500, 'heuristic');
      expect(heuristic.promptTokens).toBe(203);
      const bound = estimateRequest(ProxyEndpoint.ChatCompletions, body, 500);
      expect(bound.promptTokens).toBeGreaterThanOrEqual(401);
      // 20.5 reservations of the heuristic: it would admit 20 at once, each settling at ~1.8 times
      const budget = (computeCostNano({ inputTokens: 203, outputTokens: 10 }, MINI) * 41n) / 2n;
      const k = await limitedKey({ totalBudgetNano: budget });
      const answers = await Promise.all(
        Array.from({ length: 200 }, () => post(k, body, { 'x-mock-words': '10' })),
      );
      const ok = answers.filter((a) => a.status === 200);
      expect(ok.length).toBeGreaterThan(0);
      for (const a of answers)
        if (a.status !== 200) expect(a.json.error?.code).toBe('insufficient_quota');
      const spent = await settledSpend(k);
      expect(spent).toBe(provider * BigInt(ok.length));
      expect(spent).toBeLessThanOrEqual(budget);
      const event = await h.usage(ok[0]?.requestId ?? '');
      expect(event.inputTokens).toBe(401);
      expect(BigInt(event.reservedCostNanoUsd)).toBe(
        computeCostNano({ inputTokens: bound.promptTokens, outputTokens: 10 }, MINI),
      );
    });
  });

  describe('the Anthropic-compatible surface', () => {
    it("refuses in Anthropic's error format, and settles what the call cost", async () => {
      const k = await limitedKey({ rpm: 1 });
      const body = {
        model: 'gpt-4o-mini',
        max_tokens: 30,
        messages: [{ role: 'user', content: 'hi' }],
      };
      const first = await post(k, body, { 'x-mock-words': '4' }, '/v1/messages');
      expect(first.status).toBe(200);
      expect(first.headers.get('x-ratelimit-remaining-requests')).toBe('0');
      const event = await h.usage(first.requestId);
      expect(event.endpoint).toBe('messages');
      expect(await settledSpend(k)).toBe(
        computeCostNano({ inputTokens: event.inputTokens, outputTokens: event.outputTokens }, MINI),
      );
      const refused = await post(k, body, {}, '/v1/messages');
      expect(refused.status).toBe(429);
      expect(refused.json).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
      expect(refused.headers.get('retry-after')).toEqual(expect.any(String));

      const broke = await limitedKey({ totalBudgetNano: 1n });
      const quota = await post(broke, body, {}, '/v1/messages');
      expect(quota.status).toBe(429);
      expect(quota.json).toMatchObject({ type: 'error', error: { type: 'billing_error' } });
    });
  });

  describe('settlement', () => {
    it('settles a streamed call and the same call not streamed at exactly the same cost', async () => {
      const plain = await h.addKey();
      const streamed = await h.addKey();
      const a = await post(plain, chat({ max_tokens: 40 }), { 'x-mock-words': '9' });
      const b = await post(streamed, chat({ max_tokens: 40, stream: true }), {
        'x-mock-chunks': '9',
      });
      expect([a.status, b.status]).toEqual([200, 200]);
      const [ea, eb] = [await h.usage(a.requestId), await h.usage(b.requestId)];
      expect(eb).toMatchObject({ stream: true, outputTokens: 9, tokensEstimated: false });
      expect(ea.reservedCostNanoUsd).toBe(eb.reservedCostNanoUsd);
      const [sa, sb] = [await settledSpend(plain), await settledSpend(streamed)];
      expect(sa).toBeGreaterThan(0n);
      expect(sb).toBe(sa);
      expect(sa).toBe(
        computeCostNano({ inputTokens: ea.inputTokens, outputTokens: ea.outputTokens }, MINI),
      );
    });

    it('settles an aborted stream at what the provider produced', async () => {
      const k = await h.addKey();
      const controller = new AbortController();
      const res = await fetch(`${h.url}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${k.secret}`,
          'content-type': 'application/json',
          'x-mock-chunks': '50',
          'x-mock-chunk-delay-ms': '40',
        },
        body: JSON.stringify(chat({ max_tokens: 100, stream: true })),
        signal: controller.signal,
      });
      const requestId = res.headers.get('x-request-id');
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      let seen = '';
      while ((seen.match(/"content"/g) ?? []).length < 4) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += Buffer.from(value).toString('utf8');
      }
      controller.abort();
      const event = await h.usage(requestId);
      expect(event.outcome).toBe(UsageOutcome.ClientAborted);
      expect(event.outputTokens).toBeGreaterThan(0);
      expect(event.outputTokens).toBeLessThan(50);
      expect(await settledSpend(k)).toBe(
        computeCostNano({ inputTokens: event.inputTokens, outputTokens: event.outputTokens }, MINI),
      );
    });

    it('releases the reservation of a request that produced nothing', async () => {
      const k = await h.addKey();
      const a = await post(k, chat({ max_tokens: 20 }), { 'x-mock-fail-status': '400' });
      expect(a.status).toBe(400);
      const event = await h.usage(a.requestId);
      expect(event.outcome).toBe(UsageOutcome.UpstreamError);
      expect(BigInt(event.reservedCostNanoUsd)).toBeGreaterThan(0n);
      expect(await settledSpend(k)).toBe(0n);
    });

    it("releases a reservation a crashed replica left behind once its TTL passes (the proxy's sweeper)", async () => {
      const k = await limitedKey({ maxConcurrent: 1 });
      // what a replica that died between admission and settlement leaves in Redis
      const orphan = await store.admit({
        reservationId: `orphan-${randomBytes(4).toString('hex')}`,
        orgId: k.record.organisationId,
        tenantId: k.record.tenantId,
        keyId: k.record.id,
        timeZone: 'UTC',
        estimatedTokens: 10,
        estimatedCostNano: EXACT_COST,
        ttlMs: 300,
      });
      expect(orphan.admitted).toBe(true);
      expect((await store.readSpend(keyScope(k), { kind: 'total' })).reservedNano).toBe(EXACT_COST);
      expect(await settledSpend(k)).toBe(0n);
      expect((await post(k, exact(), EXACT_HEADERS)).status).toBe(200);
    });

    it('picks up a price change without a restart', async () => {
      const k = await h.addKey();
      await projectPrice('exact-model', {
        ...EXACT,
        outputNanoUsdPerMTok: 2n * EXACT.outputNanoUsdPerMTok,
      });
      await h.publish({ kind: 'prices' });
      await waitFor(
        async () => {
          const a = await post(k, exact(), EXACT_HEADERS);
          return (await h.usage(a.requestId)).reservedCostNanoUsd === (2n * EXACT_COST).toString();
        },
        { timeoutMs: 3000, what: 'the new price' },
      );
      await projectPrice('exact-model', EXACT);
      await h.publish({ kind: 'prices' });
    });
  });
});
