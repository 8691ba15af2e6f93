import { projectionKeys, UsageOutcome } from '@tollgate/contracts';
import type { MockSettings, RunningMockProvider } from '@tollgate/mock-provider';
import { waitFor } from '@tollgate/server-testing';
import OpenAI from 'openai';
import { ProxyHarness, type TestKey } from '../testing/proxy-harness';
import {
  chatRequests,
  MODEL,
  openAIErrorOf,
  postChat,
  type ProxyAnswer,
  replaceChannels,
  resetMocks,
  setFault,
  settleEvents,
  sseData,
  startMocks,
} from '../testing/routing-kit';

/** the faulty channel's own timeouts: short, so a hang would show */
const FIRST_BYTE_MS = 300;
const TOTAL_MS = 1200;
/** a request must be answered within its timeouts plus this much (a bound on hanging, not a speed test) */
const SLACK_MS = 2500;

interface FaultCase {
  name: string;
  fault: Partial<MockSettings>;
  stream: boolean;
  /** what the client gets when no other channel is left */
  alone: { status: number; code: string; retryAfter?: string };
}

/** Faults that happen before anything reaches the client: retried elsewhere when possible. */
const BEFORE_FIRST_BYTE: FaultCase[] = [
  {
    name: 'slow first byte',
    fault: { latency_ms: 3000 },
    stream: false,
    alone: { status: 504, code: 'upstream_timeout' },
  },
  {
    name: 'slow first byte',
    fault: { latency_ms: 3000 },
    stream: true,
    alone: { status: 504, code: 'upstream_timeout' },
  },
  {
    name: '429 with Retry-After',
    fault: { fail_status: 429, retry_after: 30 },
    stream: false,
    alone: { status: 429, code: 'rate_limit_exceeded', retryAfter: '30' },
  },
  {
    name: '429 with Retry-After',
    fault: { fail_status: 429, retry_after: 30 },
    stream: true,
    alone: { status: 429, code: 'rate_limit_exceeded', retryAfter: '30' },
  },
  {
    name: '500',
    fault: { fail_status: 500 },
    stream: false,
    alone: { status: 502, code: 'upstream_error' },
  },
  {
    name: '500',
    fault: { fail_status: 500 },
    stream: true,
    alone: { status: 502, code: 'upstream_error' },
  },
  {
    name: 'connection reset',
    fault: { reset_after_chunks: 0 },
    stream: false,
    alone: { status: 502, code: 'upstream_error' },
  },
  {
    name: 'malformed JSON',
    fault: { malformed_json: true },
    stream: false,
    alone: { status: 502, code: 'upstream_malformed_response' },
  },
  {
    name: 'malformed SSE',
    fault: { malformed_sse: true },
    stream: true,
    alone: { status: 502, code: 'upstream_malformed_response' },
  },
  {
    name: 'wrong content type',
    fault: { wrong_content_type: true },
    stream: false,
    alone: { status: 502, code: 'upstream_malformed_response' },
  },
  {
    name: 'wrong content type',
    fault: { wrong_content_type: true },
    stream: true,
    alone: { status: 502, code: 'upstream_malformed_response' },
  },
];

/** Faults after the client has the first bytes of a stream: the stream ends with an error, no retry. */
const AFTER_FIRST_BYTE: FaultCase[] = [
  {
    name: 'slow chunks beyond the total timeout',
    fault: { chunks: 50, chunk_delay_ms: 200 },
    stream: true,
    alone: { status: 200, code: 'upstream_timeout' },
  },
  {
    name: 'connection reset mid-stream',
    fault: { chunks: 20, chunk_delay_ms: 30, reset_after_chunks: 4 },
    stream: true,
    alone: { status: 200, code: 'upstream_error' },
  },
];

describe('retry and fallback on provider faults', () => {
  let h: ProxyHarness;
  let key: TestKey;
  let faulty: RunningMockProvider;
  let healthy: RunningMockProvider;

  beforeAll(async () => {
    h = await ProxyHarness.create('fallback');
    [faulty, healthy] = await startMocks(2);
    // a high threshold: these tests look at one request at a time, not at the breaker
    await h.start({ BREAKER_FAILURE_THRESHOLD: '1000', ROUTING_MAX_ATTEMPTS: '3' });
    key = await h.addKey();
  });
  afterAll(async () => {
    await h?.close();
    await Promise.all([faulty, healthy].map((m) => m?.stop()));
  });
  beforeEach(() => resetMocks([faulty, healthy]));

  /** the faulty channel first (higher priority), the healthy one as the fallback when given */
  async function channels(withFallback: boolean) {
    const faultyChannel = {
      mock: faulty,
      priority: 2,
      firstByteTimeoutMs: FIRST_BYTE_MS,
      totalTimeoutMs: TOTAL_MS,
    };
    return replaceChannels(
      h,
      withFallback ? [faultyChannel, { mock: healthy, priority: 1 }] : [faultyChannel],
    );
  }

  async function call(stream: boolean): Promise<ProxyAnswer> {
    return postChat(h, key.secret, stream ? { stream: true } : {});
  }

  function expectCompleteAnswer(a: ProxyAnswer, stream: boolean): void {
    expect(a.status).toBe(200);
    expect(a.bodyError).toBeNull();
    if (stream) {
      const data = sseData(a.text);
      expect(data[data.length - 1]).toBe('[DONE]');
      expect(data.some((d) => typeof d === 'object' && d !== null && 'error' in d)).toBe(false);
    } else {
      expect(JSON.parse(a.text)).toMatchObject({ object: 'chat.completion' });
    }
  }

  describe.each(BEFORE_FIRST_BYTE)('$name', (c) => {
    const stream = c.stream ? 'streamed' : 'not streamed';

    it(`${stream}: falls back to the healthy channel, one event with 2 attempts`, async () => {
      const [, good] = await channels(true);
      setFault(faulty, c.fault);
      const before = await h.jobCount();
      const a = await call(c.stream);
      expectCompleteAnswer(a, c.stream);
      expect(a.elapsedMs).toBeLessThan(TOTAL_MS + SLACK_MS);
      expect(chatRequests(faulty)).toBe(1);
      expect(chatRequests(healthy)).toBe(1);
      expect(await settleEvents(h, [a.requestId])).toBe(before + 1);
      expect(await h.usage(a.requestId)).toMatchObject({
        outcome: UsageOutcome.Ok,
        httpStatus: 200,
        stream: c.stream,
        attempts: 2,
        channelId: good.id,
        errorCode: null,
      });
    });

    it(`${stream}: with no channel left, answers ${c.alone.status} ${c.alone.code} in OpenAI's format`, async () => {
      const [only] = await channels(false);
      setFault(faulty, c.fault);
      const before = await h.jobCount();
      const a = await call(c.stream);
      expect(a.status).toBe(c.alone.status);
      expect(a.headers['content-type']).toMatch(/^application\/json/);
      expect(openAIErrorOf(a)).toMatchObject({ code: c.alone.code, type: expect.any(String) });
      if (c.alone.retryAfter !== undefined)
        expect(a.headers['retry-after']).toBe(c.alone.retryAfter);
      expect(a.elapsedMs).toBeLessThan(TOTAL_MS + SLACK_MS);
      expect(chatRequests(faulty)).toBe(1);
      expect(await settleEvents(h, [a.requestId])).toBe(before + 1);
      expect(await h.usage(a.requestId)).toMatchObject({
        outcome: UsageOutcome.UpstreamError,
        httpStatus: c.alone.status,
        errorCode: c.alone.code,
        stream: c.stream,
        attempts: 1,
        channelId: only.id,
      });
    });
  });

  describe.each(AFTER_FIRST_BYTE)('$name', (c) => {
    it('ends the started stream with an error event and does not retry', async () => {
      const [bad] = await channels(true);
      setFault(faulty, c.fault);
      const before = await h.jobCount();
      const a = await call(true);
      expect(a.status).toBe(200);
      expect(a.headers['content-type']).toMatch(/^text\/event-stream/);
      const data = sseData(a.text);
      // content arrived, then the error event, and no [DONE]
      expect(data.length).toBeGreaterThan(1);
      expect(data).not.toContain('[DONE]');
      expect(openAIErrorOf(a)).toMatchObject({ code: c.alone.code, type: 'api_error' });
      expect(a.elapsedMs).toBeLessThan(TOTAL_MS + SLACK_MS);
      expect(chatRequests(faulty)).toBe(1);
      expect(chatRequests(healthy)).toBe(0);
      expect(await settleEvents(h, [a.requestId])).toBe(before + 1);
      const event = await h.usage(a.requestId);
      expect(event).toMatchObject({
        outcome: UsageOutcome.UpstreamError,
        httpStatus: 200,
        errorCode: c.alone.code,
        stream: true,
        attempts: 1,
        channelId: bad.id,
        tokensEstimated: true,
      });
      // what was produced before the fault is metered
      expect(event.inputTokens).toBeGreaterThan(0);
      expect(event.outputTokens).toBeGreaterThan(0);
    });
  });
  it('gives the official client an APIError for a stream cut after the first byte, after the content it got', async () => {
    await channels(true);
    setFault(faulty, { chunks: 20, chunk_delay_ms: 30, reset_after_chunks: 4 });
    const stream = await h.client(key.secret).chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    let content = '';
    const err = await (async () => {
      for await (const c of stream) content += c.choices[0]?.delta?.content ?? '';
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(content.length).toBeGreaterThan(0);
    expect(chatRequests(healthy)).toBe(0);
  });

  it('falls back for embeddings too', async () => {
    const [, good] = await channels(true);
    setFault(faulty, { fail_status: 503 });
    const a = await postChat(h, key.secret, { input: 'hello' }, { path: '/v1/embeddings' });
    expect(a.status).toBe(200);
    expect(JSON.parse(a.text)).toMatchObject({ object: 'list' });
    expect(await h.usage(a.requestId)).toMatchObject({
      endpoint: 'embeddings',
      outcome: UsageOutcome.Ok,
      attempts: 2,
      channelId: good.id,
    });
  });

  it('keeps to one event per request when many fall back at once', async () => {
    const [, good] = await channels(true);
    setFault(faulty, { fail_status: 500 });
    const before = await h.jobCount();
    const n = 24;
    const answers = await Promise.all(Array.from({ length: n }, (_, i) => call(i % 2 === 0)));
    for (const [i, a] of answers.entries()) expectCompleteAnswer(a, i % 2 === 0);
    const ids = answers.map((a) => a.requestId);
    expect(new Set(ids).size).toBe(n);
    expect(await settleEvents(h, ids)).toBe(before + n);
    for (const id of ids)
      expect(await h.usage(id)).toMatchObject({ outcome: 'ok', attempts: 2, channelId: good.id });
    expect(chatRequests(faulty)).toBe(n);
    expect(chatRequests(healthy)).toBe(n);
  });

  it('falls back when the provider cannot be reached at all', async () => {
    const gone = await startMocks(1);
    const deadUrl = gone[0].baseUrl;
    await gone[0].stop();
    await h.redis.del(projectionKeys.channels(h.prefix.prefix));
    const dead = await h.addChannel({ baseUrl: deadUrl, models: [MODEL], priority: 2 });
    const alive = await h.addChannel({ baseUrl: healthy.baseUrl, models: [MODEL], priority: 1 });
    await h.publish({ kind: 'channels' });
    await waitFor(
      () => h.table().channels.some((c) => c.id === alive.id) && h.table().channels.length === 2,
      {
        timeoutMs: 3000,
        what: 'channels loaded',
      },
    );
    const ok = await call(true);
    expectCompleteAnswer(ok, true);
    expect(await h.usage(ok.requestId)).toMatchObject({ attempts: 2, channelId: alive.id });

    await h.redis.hdel(projectionKeys.channels(h.prefix.prefix), alive.id);
    await h.publish({ kind: 'channels' });
    await waitFor(() => h.table().channels.length === 1, { timeoutMs: 3000, what: 'one channel' });
    const failed = await call(false);
    expect(failed.status).toBe(502);
    expect(openAIErrorOf(failed)).toMatchObject({ code: 'upstream_error' });
    expect(await h.usage(failed.requestId)).toMatchObject({
      outcome: UsageOutcome.UpstreamError,
      attempts: 1,
      channelId: dead.id,
    });
  });
});
