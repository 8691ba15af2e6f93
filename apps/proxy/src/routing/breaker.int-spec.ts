import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { RunningMockProvider } from '@tollgate/mock-provider';
import { waitFor } from '@tollgate/server-testing';
import Redis from 'ioredis';
import { ProxyHarness, type TestKey, UPSTREAM_KEY } from '../testing/proxy-harness';
import {
  chatRequests,
  openAIErrorOf,
  postChat,
  replaceChannels,
  resetMocks,
  setFault,
  startMocks,
  startReplica,
} from '../testing/routing-kit';
import { type ChannelEvent, ChannelState, routingKeys } from './channel-health';
import { ChannelRegistry } from './channel-registry';

const THRESHOLD = 3;
const COOLDOWN_MS = 800;

/**
 * Two proxy replicas (two Nest apps with nothing shared in memory) on one Redis prefix: what one
 * learns about a channel, the other acts on.
 */
describe('circuit breaker and refused credentials across two replicas', () => {
  let h: ProxyHarness;
  let b: { app: NestFastifyApplication; url: string };
  let key: TestKey;
  let mocks: RunningMockProvider[];
  let events: Redis;
  const published: ChannelEvent[] = [];

  beforeAll(async () => {
    h = await ProxyHarness.create('breaker');
    mocks = await startMocks(3);
    await h.start({
      BREAKER_FAILURE_THRESHOLD: String(THRESHOLD),
      BREAKER_WINDOW_MS: '30000',
      BREAKER_COOLDOWN_MS: String(COOLDOWN_MS),
      // a long safety-net period: the replicas must follow each other through the published changes
      ROUTING_STATE_REFRESH_MS: '60000',
    });
    b = await startReplica(h);
    key = await h.addKey();
    events = new Redis(h.prefix.url);
    await events.subscribe(routingKeys.channelEvents(h.prefix.prefix));
    events.on('message', (_c: string, m: string) => published.push(JSON.parse(m) as ChannelEvent));
  });
  afterAll(async () => {
    events?.disconnect();
    await b?.app.close();
    await h?.close();
    await Promise.all((mocks ?? []).map((m) => m.stop()));
  });
  beforeEach(() => resetMocks(mocks));

  const A = () => h.url;
  const B = () => b.url;
  const both = () => [h.app, b.app];
  function stateOn(app: NestFastifyApplication, channelId: string): ChannelState {
    const registry = app.get(ChannelRegistry);
    const c = registry.table.channels.find((x) => x.id === channelId);
    if (!c) throw new Error(`channel ${channelId} not loaded`);
    return registry.health.state(c, Date.now());
  }
  const breaker = (channelId: string) =>
    h.redis.hgetall(routingKeys.breaker(h.prefix.prefix, channelId));

  it('opens after the threshold through replica A, is skipped by B, half-opens after the cool-down and closes on success', async () => {
    const [flakyMock, backupMock] = mocks;
    const [flaky, backup] = await replaceChannels(
      h,
      [
        { mock: flakyMock, priority: 2 },
        { mock: backupMock, priority: 1 },
      ],
      both(),
    );
    setFault(flakyMock, { fail_status: 500 });

    // failures through A only
    for (let i = 0; i < THRESHOLD; i++) {
      const a = await postChat(h, key.secret, {}, { url: A() });
      expect(a.status).toBe(200);
      expect(await h.usage(a.requestId)).toMatchObject({ attempts: 2, channelId: backup.id });
    }
    expect(chatRequests(flakyMock)).toBe(THRESHOLD);
    expect(await breaker(flaky.id)).toMatchObject({ state: 'open' });
    await waitFor(() => stateOn(b.app, flaky.id) === ChannelState.Open, {
      timeoutMs: 2000,
      what: 'replica B sees the open circuit',
    });

    // B (and A) skip the open channel: straight to the backup
    for (const url of [B(), A()]) {
      const a = await postChat(h, key.secret, {}, { url });
      expect(a.status).toBe(200);
      expect(await h.usage(a.requestId)).toMatchObject({ attempts: 1, channelId: backup.id });
    }
    expect(chatRequests(flakyMock)).toBe(THRESHOLD);

    // after the cool-down one probe goes; it fails: open again for a whole cool-down
    await waitFor(() => stateOn(b.app, flaky.id) === ChannelState.Probe, {
      timeoutMs: COOLDOWN_MS + 2000,
      what: 'the cool-down over',
    });
    const failedProbe = await postChat(h, key.secret, {}, { url: B() });
    expect(failedProbe.status).toBe(200);
    expect(await h.usage(failedProbe.requestId)).toMatchObject({
      attempts: 2,
      channelId: backup.id,
    });
    expect(chatRequests(flakyMock)).toBe(THRESHOLD + 1);
    const reopened = await breaker(flaky.id);
    expect(reopened.state).toBe('open');
    expect(Number(reopened.until)).toBeGreaterThan(Date.now());
    await waitFor(() => stateOn(h.app, flaky.id) === ChannelState.Open, {
      timeoutMs: 2000,
      what: 'replica A sees the circuit open again',
    });

    // the provider recovers; after the next cool-down the probe through B succeeds and closes it
    resetMocks([flakyMock]);
    await waitFor(() => stateOn(b.app, flaky.id) === ChannelState.Probe, {
      timeoutMs: COOLDOWN_MS + 2000,
      what: 'the second cool-down over',
    });
    const probe = await postChat(h, key.secret, {}, { url: B() });
    expect(probe.status).toBe(200);
    expect(await h.usage(probe.requestId)).toMatchObject({ attempts: 1, channelId: flaky.id });
    await waitFor(async () => (await breaker(flaky.id)).state === undefined, {
      timeoutMs: 2000,
      what: 'the circuit closed in Redis',
    });
    await waitFor(() => stateOn(h.app, flaky.id) === ChannelState.Ok, {
      timeoutMs: 2000,
      what: 'replica A sees the circuit closed',
    });
    const closed = await postChat(h, key.secret, {}, { url: A() });
    expect(await h.usage(closed.requestId)).toMatchObject({ attempts: 1, channelId: flaky.id });
  });

  it('lets exactly one replica probe a recovering channel while the other routes around it', async () => {
    const [flakyMock, backupMock] = mocks;
    const [flaky, backup] = await replaceChannels(
      h,
      [
        { mock: flakyMock, priority: 2 },
        { mock: backupMock, priority: 1 },
      ],
      both(),
    );
    setFault(flakyMock, { fail_status: 502 });
    for (let i = 0; i < THRESHOLD; i++) await postChat(h, key.secret, {}, { url: B() });
    await waitFor(
      () =>
        stateOn(h.app, flaky.id) === ChannelState.Probe &&
        stateOn(b.app, flaky.id) === ChannelState.Probe,
      { timeoutMs: COOLDOWN_MS + 2000, what: 'both replicas may probe' },
    );
    // healthy again, but slow enough that both requests are in flight together
    setFault(flakyMock, { latency_ms: 300 });
    const [x, y] = await Promise.all([
      postChat(h, key.secret, {}, { url: A() }),
      postChat(h, key.secret, {}, { url: B() }),
    ]);
    expect([x.status, y.status]).toEqual([200, 200]);
    const served = [await h.usage(x.requestId), await h.usage(y.requestId)].map((e) => e.channelId);
    expect(served.sort()).toEqual([flaky.id, backup.id].sort());
    expect(chatRequests(flakyMock)).toBe(THRESHOLD + 1);
  });

  it("answers 503 with Retry-After while the only channel's circuit is open, without calling it", async () => {
    const [flakyMock] = mocks;
    const [only] = await replaceChannels(h, [{ mock: flakyMock }], both());
    setFault(flakyMock, { fail_status: 500 });
    for (let i = 0; i < THRESHOLD; i++)
      expect((await postChat(h, key.secret, {}, { url: A() })).status).toBe(502);
    await waitFor(() => stateOn(b.app, only.id) === ChannelState.Open, {
      timeoutMs: 2000,
      what: 'replica B sees the open circuit',
    });
    const refused = await postChat(h, key.secret, { stream: true }, { url: B() });
    expect(refused.status).toBe(503);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(openAIErrorOf(refused)).toMatchObject({ code: 'service_unavailable' });
    expect(await h.usage(refused.requestId)).toMatchObject({
      outcome: 'upstream_error',
      httpStatus: 503,
      attempts: 0,
    });
    expect(chatRequests(flakyMock)).toBe(THRESHOLD);
  });

  it('honours on replica B the Retry-After a channel gave replica A', async () => {
    const [limitedMock, backupMock] = mocks;
    const [limited, backup] = await replaceChannels(
      h,
      [
        { mock: limitedMock, priority: 2 },
        { mock: backupMock, priority: 1 },
      ],
      both(),
    );
    setFault(limitedMock, { fail_status: 429, retry_after: 30 });
    const first = await postChat(h, key.secret, {}, { url: A() });
    expect(await h.usage(first.requestId)).toMatchObject({ attempts: 2, channelId: backup.id });
    await waitFor(() => stateOn(b.app, limited.id) === ChannelState.Cooling, {
      timeoutMs: 2000,
      what: 'replica B sees the cool-down',
    });
    resetMocks([limitedMock]);
    const viaB = await postChat(h, key.secret, {}, { url: B() });
    expect(await h.usage(viaB.requestId)).toMatchObject({ attempts: 1, channelId: backup.id });
    expect(chatRequests(limitedMock)).toBe(0);
  });

  describe('refused credentials', () => {
    it('excludes the channel on both replicas, reports it, and moves the request on', async () => {
      const [rejectingMock, backupMock] = mocks;
      const [bad, backup] = await replaceChannels(
        h,
        [
          { mock: rejectingMock, priority: 2, apiKey: 'sk-revoked-at-the-provider' },
          { mock: backupMock, priority: 1 },
        ],
        both(),
      );
      const a = await postChat(h, key.secret, {}, { url: A() });
      expect(a.status).toBe(200);
      expect(await h.usage(a.requestId)).toMatchObject({ attempts: 2, channelId: backup.id });
      expect(rejectingMock.stats().unauthorized).toBe(1);

      await waitFor(() => published.find((e) => e.channelId === bad.id), {
        timeoutMs: 2000,
        what: 'the channel event',
      });
      expect(published.find((e) => e.channelId === bad.id)).toMatchObject({
        reason: 'credentials_rejected',
        status: 401,
      });
      expect(await h.redis.hget(routingKeys.rejected(h.prefix.prefix), bad.id)).toEqual(
        expect.stringContaining('"status":401'),
      );
      await waitFor(() => stateOn(b.app, bad.id) === ChannelState.Disabled, {
        timeoutMs: 2000,
        what: 'replica B disabled the channel',
      });
      for (const url of [B(), A()]) {
        const r = await postChat(h, key.secret, { stream: true }, { url });
        expect(r.status).toBe(200);
        expect(await h.usage(r.requestId)).toMatchObject({ attempts: 1, channelId: backup.id });
      }
      expect(rejectingMock.stats().unauthorized).toBe(1);
    });

    it('answers 502 when no channel is left, and uses the channel again once its credential changes', async () => {
      const [rejectingMock] = mocks;
      setFault(rejectingMock, { fail_status: 403 });
      const [bad] = await replaceChannels(h, [{ mock: rejectingMock }], both());
      const first = await postChat(h, key.secret, {}, { url: B() });
      expect(first.status).toBe(502);
      expect(openAIErrorOf(first)).toMatchObject({
        code: 'upstream_auth_failed',
        type: 'api_error',
      });
      expect(await h.usage(first.requestId)).toMatchObject({
        outcome: 'upstream_error',
        httpStatus: 502,
        errorCode: 'upstream_auth_failed',
        attempts: 1,
      });
      await waitFor(() => stateOn(h.app, bad.id) === ChannelState.Disabled, {
        timeoutMs: 2000,
        what: 'replica A disabled the channel',
      });
      const second = await postChat(h, key.secret, { stream: true }, { url: A() });
      expect(second.status).toBe(502);
      expect(openAIErrorOf(second)).toMatchObject({ code: 'upstream_auth_failed' });
      expect(await h.usage(second.requestId)).toMatchObject({ attempts: 0 });
      expect(chatRequests(rejectingMock)).toBe(1);

      // the operator fixes the credential: same channel, new secret
      resetMocks([rejectingMock]);
      await h.addChannel({
        id: bad.id,
        baseUrl: rejectingMock.baseUrl,
        models: bad.models,
        apiKey: UPSTREAM_KEY,
      });
      await h.publish({ kind: 'channels' });
      for (const app of both())
        await waitFor(() => stateOn(app, bad.id) === ChannelState.Ok, {
          timeoutMs: 3000,
          what: 'the new credential in use',
        });
      const fixed = await postChat(h, key.secret, {}, { url: A() });
      expect(fixed.status).toBe(200);
    });
  });
});
