import { UsageOutcome } from '@tollgate/contracts';
import { TEST_REDIS_URL, waitFor } from '@tollgate/server-testing';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { ProxyHarness, type TestKey } from '../testing/proxy-harness';

/**
 * A TCP relay between the proxy and Redis that the test can cut and restore: the proxy sees Redis
 * become unreachable the way it would in production (connections reset, new ones refused).
 */
class CuttableRelay {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: URL) {}

  async open(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(Number(this.target.port || 6379), this.target.hostname);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = null;
    const closed = new Promise<void>((resolve) =>
      server ? server.close(() => resolve()) : resolve(),
    );
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}

describe('admission while Redis is unreachable', () => {
  let h: ProxyHarness;
  let relay: CuttableRelay;
  let closedKey: TestKey;
  let openKey: TestKey;

  const post = (k: TestKey) =>
    fetch(`${h.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${k.secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'hello' }],
        max_tokens: 5,
      }),
    });

  beforeAll(async () => {
    h = await ProxyHarness.create('admission-outage');
    await h.addChannel();
    relay = new CuttableRelay(new URL(TEST_REDIS_URL));
    await relay.open();
    await h.start({
      REDIS_URL: `redis://127.0.0.1:${relay.port}`,
      REDIS_COMMAND_TIMEOUT_MS: '300',
    });
    closedKey = await h.addKey();
    openKey = await h.addKey({ admissionFailOpen: true });
    // both keys are in the proxy's cache before Redis goes away
    for (const k of [closedKey, openKey]) expect((await post(k)).status).toBe(200);
  }, 30_000);
  // closing drains the proxy and flushes usage events that waited for Redis: more than jest's
  // default 5 s hook time on a loaded machine
  afterAll(async () => {
    await h.closeApp();
    await relay.cut();
    await h.close();
  }, 30_000);

  it('fails closed with 503 by default, and open for a key that chose it', async () => {
    await relay.cut();

    const refused = await post(closedKey);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    const body = (await refused.json()) as {
      error: { code: string; type: string; message: string };
    };
    expect(body.error).toMatchObject({ code: 'service_unavailable', type: 'api_error' });
    expect(body.error.message).toMatch(/budgets and rate limits/);
    const refusedId = refused.headers.get('x-request-id');

    const admitted = await post(openKey);
    expect(admitted.status).toBe(200);
    const admittedId = admitted.headers.get('x-request-id');

    // back up: the refusal and the unchecked request are both metered from the buffer
    await relay.open();
    const job = (id: string | null) =>
      waitFor(async () => (await h.queue.getJob(id ?? '')) ?? undefined, {
        timeoutMs: 15_000,
        what: `usage job ${id}`,
      });
    expect((await job(refusedId)).data).toMatchObject({
      outcome: UsageOutcome.Rejected,
      httpStatus: 503,
      errorCode: 'service_unavailable',
    });
    expect((await job(admittedId)).data).toMatchObject({
      outcome: UsageOutcome.Ok,
      reservedCostNanoUsd: '0',
    });

    // and the fail-closed key is admitted again once Redis answers
    await waitFor(async () => (await post(closedKey)).status === 200, {
      timeoutMs: 10_000,
      what: 'admission after Redis came back',
    });
  });
});
