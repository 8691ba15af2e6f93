import { projectionKeys } from '@tollgate/contracts';
import { waitFor } from '@tollgate/server-testing';
import type { APIError } from 'openai';
import type OpenAI from 'openai';
import { request } from 'undici';
import { ProxyHarness } from '../testing/proxy-harness';

const MESSAGES: OpenAI.Chat.ChatCompletionMessageParam[] = [{ role: 'user', content: 'ping' }];

describe('key records and channels follow the Redis projection', () => {
  let h: ProxyHarness;

  beforeAll(async () => {
    h = await ProxyHarness.create('revocation');
    await h.addChannel();
    await h.start();
  });
  afterAll(() => h.close());

  const statusOf = async (secret: string, model = 'gpt-4o-mini') => {
    try {
      await h.client(secret).chat.completions.create({ model, messages: MESSAGES });
      return 200;
    } catch (e) {
      return (e as APIError).status;
    }
  };

  it('refuses a revoked key within one second of the change being published', async () => {
    const key = await h.addKey();
    expect(await statusOf(key.secret)).toBe(200);
    expect(await statusOf(key.secret)).toBe(200);
    const published = Date.now();
    await h.updateKey(key, { revoked: true });
    let status = 200;
    for (let i = 0; i < 100 && status === 200 && Date.now() - published < 3000; i++) {
      status = (await statusOf(key.secret)) ?? 0;
      if (status === 200) await new Promise((r) => setTimeout(r, 10));
    }
    expect(status).toBe(401);
    expect(Date.now() - published).toBeLessThan(1000);
  });

  it('notices a key created after it was looked up as unknown, once the change is published', async () => {
    const key = await h.addKey();
    await h.redis.del(projectionKeys.keyRecord(h.prefix.prefix, key.hash));
    expect(await statusOf(key.secret)).toBe(401);
    await h.updateKey(key, {});
    await waitFor(async () => (await statusOf(key.secret)) === 200, {
      timeoutMs: 1000,
      what: 'new key accepted',
    });
  });

  it('flushes the key cache when its subscription is re-established, since changes may have been missed', async () => {
    const key = await h.addKey();
    expect(await statusOf(key.secret)).toBe(200);
    // revoke without a notification: the warm cache keeps the old record…
    await h.redis.set(
      projectionKeys.keyRecord(h.prefix.prefix, key.hash),
      JSON.stringify({ ...key.record, revoked: true }),
    );
    expect(await statusOf(key.secret)).toBe(200);
    // …until the subscriber connection drops and comes back
    const clients = await h.redis.call('CLIENT', 'LIST', 'TYPE', 'pubsub');
    const ids = String(clients)
      .split('\n')
      .filter((line) =>
        line.includes(`name=tollgate-proxy-sub:${projectionKeys.changes(h.prefix.prefix)}`),
      )
      .map((line) => /id=(\d+)/.exec(line)![1]);
    expect(ids).toHaveLength(1);
    await h.redis.client('KILL', 'ID', ids[0]);
    await waitFor(async () => (await statusOf(key.secret)) === 401, {
      timeoutMs: 5000,
      what: 'revocation seen after resubscribe',
    });
  });

  it('picks up channel changes: a new model appears, a disabled channel disappears', async () => {
    const key = await h.addKey();
    expect(await statusOf(key.secret, 'fresh-model')).toBe(404);
    const channel = await h.addChannel({
      models: ['fresh-model'],
      modelMapping: { 'fresh-model': 'gpt-4o-mini' },
    });
    await h.reloadChannels(2);
    expect(await statusOf(key.secret, 'fresh-model')).toBe(200);
    await h.addChannel({ ...channel, status: 'disabled' });
    await h.reloadChannels(1);
    expect(await statusOf(key.secret, 'fresh-model')).toBe(404);
  });

  it('flushes everything on an `all` change', async () => {
    const key = await h.addKey();
    expect(await statusOf(key.secret)).toBe(200);
    await h.redis.set(
      projectionKeys.keyRecord(h.prefix.prefix, key.hash),
      JSON.stringify({ ...key.record, expiresAt: '2000-01-01T00:00:00.000Z' }),
    );
    await h.publish({ kind: 'all' });
    await waitFor(async () => (await statusOf(key.secret)) === 401, {
      timeoutMs: 1000,
      what: 'expired key refused',
    });
  });

  it('reports liveness and readiness (Redis, channels loaded) with a request id', async () => {
    const live = await request(`${h.url}/health/live`);
    expect(live.statusCode).toBe(200);
    expect(live.headers['x-request-id']).toEqual(expect.any(String));
    await live.body.dump();
    const ready = await request(`${h.url}/health/ready`);
    expect(ready.statusCode).toBe(200);
    expect(await ready.body.json()).toMatchObject({
      status: 'ok',
      info: { redis: { status: 'up' }, channels: { status: 'up' } },
    });
  });
});
