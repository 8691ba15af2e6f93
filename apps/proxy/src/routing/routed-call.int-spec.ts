import { UsageOutcome } from '@tollgate/contracts';
import type { RunningMockProvider } from '@tollgate/mock-provider';
import { waitFor } from '@tollgate/server-testing';
import { ProxyHarness, type TestKey } from '../testing/proxy-harness';
import {
  chatRequests,
  MODEL,
  openAIErrorOf,
  postChat,
  replaceChannels,
  resetMocks,
  setFault,
  eventIds,
  eventsSince,
  settleEvents,
  sseData,
  startMocks,
} from '../testing/routing-kit';
import { ChannelState, routingKeys } from './channel-health';
import { RequestPipeline } from '../v1/request-pipeline';
import { ChannelRegistry } from './channel-registry';
import { seededRandom } from './seeded-random';

const MAX_ATTEMPTS = 3;
const MAX_WAIT_MS = 1500;

describe('RoutedCall: the attempts of one request', () => {
  let h: ProxyHarness;
  let key: TestKey;
  let mocks: RunningMockProvider[];

  beforeAll(async () => {
    h = await ProxyHarness.create('routed-call');
    mocks = await startMocks(4);
    await h.start({
      BREAKER_FAILURE_THRESHOLD: '1000',
      ROUTING_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
      ROUTING_MAX_RETRY_WAIT_MS: String(MAX_WAIT_MS),
    });
    key = await h.addKey();
  });
  afterAll(async () => {
    await h?.close();
    await Promise.all((mocks ?? []).map((m) => m.stop()));
  });
  beforeEach(() => resetMocks(mocks));

  const health = () => h.app.get(ChannelRegistry).health;
  const routable = (id: string) =>
    h.app.get(ChannelRegistry).table.channels.find((c) => c.id === id)!;

  describe('fallback', () => {
    it('never tries the same failed channel twice in one request', async () => {
      const [m0, m1] = mocks;
      await replaceChannels(h, [{ mock: m0 }, { mock: m1 }]);
      setFault(m0, { fail_status: 500 });
      setFault(m1, { fail_status: 503 });
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) {
        const a = await postChat(h, key.secret, {});
        expect(a.status).toBe(502);
        ids.push(a.requestId);
        // both channels tried once each, whichever came first, and then the client was answered
        expect([chatRequests(m0), chatRequests(m1)]).toEqual([i + 1, i + 1]);
      }
      for (const id of ids) expect(await h.usage(id)).toMatchObject({ attempts: 2 });
    });

    it('stops after ROUTING_MAX_ATTEMPTS provider calls', async () => {
      await replaceChannels(
        h,
        mocks.map((mock, i) => ({ mock, priority: 10 - i })),
      );
      for (const m of mocks) setFault(m, { fail_status: 500 });
      const a = await postChat(h, key.secret, {});
      expect(a.status).toBe(502);
      // the three highest tiers, in order; the fourth channel never called
      expect(mocks.map(chatRequests)).toEqual([1, 1, 1, 0]);
      expect(await h.usage(a.requestId)).toMatchObject({
        outcome: UsageOutcome.UpstreamError,
        attempts: MAX_ATTEMPTS,
      });
    });

    it('answers the first failure itself when the key turned fallback off, and follows the change live', async () => {
      const [bad, good] = mocks;
      await replaceChannels(h, [
        { mock: bad, priority: 2 },
        { mock: good, priority: 1 },
      ]);
      setFault(bad, { fail_status: 500 });
      const k = await h.addKey();
      const on = await postChat(h, k.secret, {});
      expect(on.status).toBe(200);
      expect(await h.usage(on.requestId)).toMatchObject({ outcome: 'ok', attempts: 2 });

      await h.updateKey(k, { allowFallback: false });
      const off = await waitFor(
        async () => {
          const a = await postChat(h, k.secret, {});
          return a.status === 502 ? a : undefined;
        },
        { timeoutMs: 3000, what: 'fallback turned off' },
      );
      expect(openAIErrorOf(off)).toMatchObject({ code: 'upstream_error' });
      // polls made before the change reached the proxy may still have fallen back: count from here
      const goodCalls = chatRequests(good);
      expect(await h.usage(off.requestId)).toMatchObject({
        outcome: UsageOutcome.UpstreamError,
        httpStatus: 502,
        attempts: 1,
      });

      const fresh = await h.addKey({ allowFallback: false });
      const s = await postChat(h, fresh.secret, { stream: true });
      expect(s.status).toBe(502);
      expect(chatRequests(good)).toBe(goodCalls);
    });
  });

  describe('selection', () => {
    it('spreads requests over a priority tier by weight, end to end (chi-square, seeded)', async () => {
      const [light, heavy, higher] = mocks;
      await replaceChannels(h, [
        { mock: light, weight: 1 },
        { mock: heavy, weight: 3 },
      ]);
      const router = h.app.get(RequestPipeline).router;
      router.random = seededRandom(31337);
      try {
        const n = 400;
        for (let i = 0; i < n; i++) expect((await postChat(h, key.secret, {})).status).toBe(200);
        const [l, hv] = [chatRequests(light), chatRequests(heavy)];
        expect(l + hv).toBe(n);
        const chi2 = (l - n / 4) ** 2 / (n / 4) + (hv - (3 * n) / 4) ** 2 / ((3 * n) / 4);
        // 1 degree of freedom: 10.83 is the 0.1% critical value
        expect(chi2).toBeLessThan(10.83);

        // a channel of a higher tier takes everything
        await replaceChannels(h, [
          { mock: light, weight: 1 },
          { mock: heavy, weight: 3 },
          { mock: higher, weight: 1, priority: 1 },
        ]);
        resetMocks(mocks);
        for (let i = 0; i < 20; i++) await postChat(h, key.secret, {});
        expect([chatRequests(light), chatRequests(heavy), chatRequests(higher)]).toEqual([
          0, 0, 20,
        ]);
      } finally {
        router.random = Math.random;
      }
    });

    it("maps the model with each attempt's own channel", async () => {
      const [first, second] = mocks;
      await replaceChannels(h, [
        { mock: first, priority: 2, models: ['team'], modelMapping: { team: 'model-a' } },
        { mock: second, priority: 1, models: ['team'], modelMapping: { team: 'model-b' } },
      ]);
      setFault(first, { fail_status: 500 });
      const a = await postChat(h, key.secret, { model: 'team' });
      expect(a.status).toBe(200);
      expect(JSON.parse(a.text)).toMatchObject({ model: 'team' });
      expect(first.stats().byModel['model-a']?.requests).toBe(1);
      expect(second.stats().byModel['model-b']?.requests).toBe(1);
      expect(await h.usage(a.requestId)).toMatchObject({
        model: 'team',
        upstreamModel: 'model-b',
        attempts: 2,
      });
    });
  });

  describe('Retry-After', () => {
    it('cools a channel down for its Retry-After: skipped until then, used again after', async () => {
      const [limited, other] = mocks;
      const [a] = await replaceChannels(h, [
        { mock: limited, priority: 2 },
        { mock: other, priority: 1 },
      ]);
      setFault(limited, { fail_status: 429, retry_after: 2 });
      const sentAt = Date.now();
      const first = await postChat(h, key.secret, {});
      expect(first.status).toBe(200);
      expect(await h.usage(first.requestId)).toMatchObject({ attempts: 2 });
      // the cool-down is shared: in Redis, for every replica
      const coolUntil = Number(
        await h.redis.hget(routingKeys.breaker(h.prefix.prefix, a.id), 'coolUntil'),
      );
      expect(coolUntil).toBeGreaterThanOrEqual(sentAt + 2000);

      resetMocks([limited]);
      const during = await postChat(h, key.secret, {});
      expect(Date.now()).toBeLessThan(coolUntil);
      expect(during.status).toBe(200);
      expect(chatRequests(limited)).toBe(0);
      expect(await h.usage(during.requestId)).toMatchObject({ attempts: 1 });

      await waitFor(
        () =>
          Date.now() > coolUntil && health().state(routable(a.id), Date.now()) === ChannelState.Ok,
        {
          timeoutMs: 3000,
          what: 'the cool-down over',
        },
      );
      const after = await postChat(h, key.secret, {});
      expect(after.status).toBe(200);
      expect(chatRequests(limited)).toBe(1);
      expect(await h.usage(after.requestId)).toMatchObject({ attempts: 1, channelId: a.id });
    });

    it('waits for the only channel when its cool-down ends within ROUTING_MAX_RETRY_WAIT_MS', async () => {
      const [limited] = mocks;
      const [a] = await replaceChannels(h, [{ mock: limited }]);
      setFault(limited, { fail_status: 429, retry_after: 1 });
      const first = await postChat(h, key.secret, {});
      expect(first.status).toBe(429);
      expect(first.headers['retry-after']).toBe('1');
      const coolUntil = Number(
        await h.redis.hget(routingKeys.breaker(h.prefix.prefix, a.id), 'coolUntil'),
      );
      resetMocks([limited]);
      const second = await postChat(h, key.secret, {});
      expect(second.status).toBe(200);
      // it was sent only once the cool-down was over
      expect(Date.now()).toBeGreaterThanOrEqual(coolUntil);
      expect(chatRequests(limited)).toBe(1);
      expect(await h.usage(second.requestId)).toMatchObject({ outcome: 'ok', attempts: 1 });
    });

    it('answers 429 with Retry-After at once when the cool-down is longer than the proxy waits', async () => {
      const [limited] = mocks;
      await replaceChannels(h, [{ mock: limited }]);
      setFault(limited, { fail_status: 429, retry_after: 20 });
      const first = await postChat(h, key.secret, {});
      expect(first.status).toBe(429);
      resetMocks([limited]);
      const before = await settleEvents(h, [first.requestId]);
      const second = await postChat(h, key.secret, { stream: true });
      expect(second.status).toBe(429);
      expect(Number(second.headers['retry-after'])).toBeGreaterThanOrEqual(19);
      expect(openAIErrorOf(second)).toMatchObject({
        code: 'rate_limit_exceeded',
        type: 'rate_limit_error',
      });
      expect(chatRequests(limited)).toBe(0);
      expect(await settleEvents(h, [second.requestId])).toBe(before + 1);
      expect(await h.usage(second.requestId)).toMatchObject({
        outcome: UsageOutcome.UpstreamError,
        httpStatus: 429,
        attempts: 0,
      });
    });
  });

  describe('client disconnect', () => {
    it('aborts the provider call at once when the client leaves before the first byte, and tries no other channel', async () => {
      const [slow, other] = mocks;
      await replaceChannels(h, [
        { mock: slow, priority: 2, firstByteTimeoutMs: 10_000 },
        { mock: other, priority: 1 },
      ]);
      setFault(slow, { latency_ms: 8000 });
      const controller = new AbortController();
      const pending = postChat(
        h,
        key.secret,
        { stream: true },
        { signal: controller.signal },
      ).catch((e: unknown) => e);
      await waitFor(() => slow.stats().inFlight === 1, { timeoutMs: 2000, what: 'call in flight' });
      const before = await eventIds(h);
      controller.abort();
      expect(await pending).toMatchObject({ name: 'AbortError' });
      await waitFor(() => slow.stats().inFlight === 0, {
        timeoutMs: 1000,
        what: 'the provider connection closed',
      });
      await waitFor(async () => (await eventsSince(h, before)).length > 0, {
        timeoutMs: 2000,
        what: 'the event',
      });
      const events = await eventsSince(h, before);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        outcome: UsageOutcome.ClientAborted,
        httpStatus: 499,
        stream: true,
        attempts: 1,
        outputTokens: 0,
      });
      expect(chatRequests(other)).toBe(0);
    });

    it('aborts a stream served by the fallback channel and meters what it produced', async () => {
      const [bad, streaming] = mocks;
      await replaceChannels(h, [
        { mock: bad, priority: 2 },
        { mock: streaming, priority: 1 },
      ]);
      setFault(bad, { fail_status: 500 });
      setFault(streaming, { chunks: 40, chunk_delay_ms: 50 });
      const controller = new AbortController();
      let words = 0;
      const a = await postChat(
        h,
        key.secret,
        { stream: true },
        {
          signal: controller.signal,
          onChunk: (text) => {
            words = sseData(text).length - 1;
            if (words >= 3) controller.abort();
          },
        },
      );
      expect(a.status).toBe(200);
      expect(a.bodyError).toMatchObject({ name: 'AbortError' });
      await waitFor(() => streaming.stats().abortedStreams === 1, {
        timeoutMs: 1000,
        what: 'the provider stream aborted',
      });
      const event = await h.usage(a.requestId);
      expect(event).toMatchObject({
        outcome: UsageOutcome.ClientAborted,
        httpStatus: 200,
        attempts: 2,
        tokensEstimated: true,
      });
      expect(event.outputTokens).toBeGreaterThanOrEqual(3);
      expect(event.outputTokens).toBeLessThan(40);
    });

    it('meters a client that leaves while waiting for a cooling channel, without calling it', async () => {
      const [limited] = mocks;
      await replaceChannels(h, [{ mock: limited }]);
      setFault(limited, { fail_status: 429, retry_after: 1 });
      const first = await postChat(h, key.secret, {});
      expect(first.status).toBe(429);
      await h.usage(first.requestId);
      resetMocks([limited]);
      const controller = new AbortController();
      const before = await eventIds(h);
      const pending = postChat(h, key.secret, {}, { signal: controller.signal }).catch(
        (e: unknown) => e,
      );
      await new Promise((r) => setTimeout(r, 200));
      controller.abort();
      expect(await pending).toMatchObject({ name: 'AbortError' });
      await waitFor(async () => (await eventsSince(h, before)).length > 0, {
        timeoutMs: 2000,
        what: 'the event',
      });
      // past the cool-down: the abandoned request never went out
      await new Promise((r) => setTimeout(r, 1200));
      expect(chatRequests(limited)).toBe(0);
      const events = await eventsSince(h, before);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        outcome: UsageOutcome.ClientAborted,
        httpStatus: 499,
        attempts: 0,
        model: MODEL,
      });
    });
  });
});
