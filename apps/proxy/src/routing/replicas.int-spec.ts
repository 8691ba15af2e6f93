import type { ChannelProjection } from '@tollgate/contracts';
import type { RunningMockProvider } from '@tollgate/mock-provider';
import { ProxyHarness, type TestKey } from '../testing/proxy-harness';
import {
  chatRequests,
  MODEL,
  postChat,
  type ProxyProcess,
  setFault,
  startMocks,
  startProxyProcess,
} from '../testing/routing-kit';
import { routingKeys } from './channel-health';

const THRESHOLD = 3;
const COOLDOWN_MS = 1000;
/** time for a published change to reach the other process (pub/sub on loopback takes ~1 ms) */
const PROPAGATION_MS = 500;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Two proxy processes, each started by the real entry point, share nothing but Redis: the
 * refused credential and the circuit one of them learns, the other acts on.
 */
describe('routing health shared by two proxy processes', () => {
  let h: ProxyHarness;
  let key: TestKey;
  let mocks: RunningMockProvider[];
  let a: ProxyProcess;
  let b: ProxyProcess;
  let rejecting: ChannelProjection;
  let flaky: ChannelProjection;
  let backup: ChannelProjection;

  beforeAll(async () => {
    h = await ProxyHarness.create('replicas');
    mocks = await startMocks(3);
    const [flakyMock, backupMock, rejectingMock] = mocks;
    rejecting = await h.addChannel({
      name: 'rejecting',
      baseUrl: rejectingMock.baseUrl,
      models: [MODEL],
      priority: 3,
      apiKey: 'sk-revoked-at-the-provider',
    });
    flaky = await h.addChannel({
      name: 'flaky',
      baseUrl: flakyMock.baseUrl,
      models: [MODEL],
      priority: 2,
    });
    backup = await h.addChannel({
      name: 'backup',
      baseUrl: backupMock.baseUrl,
      models: [MODEL],
      priority: 1,
    });
    // the in-process proxy only provides the configuration the processes share
    await h.start();
    const env = {
      ROUTING_MAX_ATTEMPTS: '3',
      BREAKER_FAILURE_THRESHOLD: String(THRESHOLD),
      BREAKER_COOLDOWN_MS: String(COOLDOWN_MS),
      ROUTING_STATE_REFRESH_MS: '60000',
    };
    [a, b] = await Promise.all([startProxyProcess(h, env), startProxyProcess(h, env)]);
    key = await h.addKey();
  }, 60_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await h?.close();
    await Promise.all((mocks ?? []).map((m) => m.stop()));
  }, 30_000);

  it('what process A learns (refused credentials, an open circuit, its closing) process B acts on, and back', async () => {
    const [flakyMock, backupMock, rejectingMock] = mocks;
    setFault(flakyMock, { fail_status: 500 });

    // A: refused credentials, then a 500, then the backup
    const first = await postChat(h, key.secret, {}, { url: a.url });
    expect(first.status).toBe(200);
    expect(await h.usage(first.requestId)).toMatchObject({ attempts: 3, channelId: backup.id });
    expect(rejectingMock.stats().unauthorized).toBe(1);
    expect(await h.redis.hexists(routingKeys.rejected(h.prefix.prefix), rejecting.id)).toBe(1);

    // A again until the flaky channel's circuit opens; the rejected channel is not called again
    for (let i = 1; i < THRESHOLD; i++) {
      const r = await postChat(h, key.secret, {}, { url: a.url });
      expect(await h.usage(r.requestId)).toMatchObject({ attempts: 2, channelId: backup.id });
    }
    expect(rejectingMock.stats().unauthorized).toBe(1);
    expect(chatRequests(flakyMock)).toBe(THRESHOLD);
    expect(await h.redis.hget(routingKeys.breaker(h.prefix.prefix, flaky.id), 'state')).toBe(
      'open',
    );

    // B never saw a failure, yet goes straight to the backup
    await sleep(PROPAGATION_MS);
    const viaB = await postChat(h, key.secret, { stream: true }, { url: b.url });
    expect(viaB.status).toBe(200);
    expect(await h.usage(viaB.requestId)).toMatchObject({ attempts: 1, channelId: backup.id });
    expect(rejectingMock.stats().unauthorized).toBe(1);
    expect(chatRequests(flakyMock)).toBe(THRESHOLD);

    // the provider recovers; after the cool-down B's probe closes the circuit
    setFault(flakyMock, {});
    await sleep(COOLDOWN_MS + 100);
    const probe = await postChat(h, key.secret, {}, { url: b.url });
    expect(await h.usage(probe.requestId)).toMatchObject({ attempts: 1, channelId: flaky.id });
    expect(await h.redis.hget(routingKeys.breaker(h.prefix.prefix, flaky.id), 'state')).toBeNull();

    // A follows: the flaky channel serves again (had A missed the closing, it would try to
    // probe, lose, and go to the backup)
    await sleep(PROPAGATION_MS);
    const backOnA = await postChat(h, key.secret, {}, { url: a.url });
    expect(await h.usage(backOnA.requestId)).toMatchObject({ attempts: 1, channelId: flaky.id });
    expect(chatRequests(backupMock)).toBe(THRESHOLD + 1);
  }, 30_000);
});
