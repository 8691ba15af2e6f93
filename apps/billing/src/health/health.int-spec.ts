import { loadConfig } from '@tollgate/server-kit';
import type { ProblemDetails } from '@tollgate/contracts';
import { BillingConfig } from '../config/billing.config';
import {
  type BillingTestEnv,
  createBillingTestEnv,
  http,
  type RunningApp,
  startApi,
} from '../testing/billing-test-env';

describe('billing API health', () => {
  let env: BillingTestEnv;
  let sut: RunningApp;

  beforeAll(async () => {
    env = await createBillingTestEnv('health');
    sut = await startApi(env.config);
  });

  afterAll(async () => {
    await sut?.app.close();
    await env?.teardown();
  });

  it('is live and ready, without a token and outside /api/v1', async () => {
    expect((await http(sut.url, 'GET', '/health/live')).status).toBe(200);
    const ready = await http<{ status: string; checks: Record<string, string> }>(
      sut.url,
      'GET',
      '/health/ready',
    );
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ok', checks: { postgres: 'up', redis: 'up' } });
    expect((await http(sut.url, 'GET', '/api/v1/health/ready')).status).toBe(404);
  });

  it('answers an unknown route with a 404 problem', async () => {
    const res = await http<ProblemDetails>(sut.url, 'GET', '/api/v1/nothing');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('reports not ready (503 problem) but stays live when Redis is unreachable', async () => {
    const config = loadConfig(BillingConfig, {
      ...Object.fromEntries(Object.entries(env.config).map(([k, v]) => [k, String(v)])),
      REDIS_URL: 'redis://127.0.0.1:1',
    });
    const broken = await startApi(config);
    try {
      expect((await http(broken.url, 'GET', '/health/live')).status).toBe(200);
      const ready = await http<ProblemDetails>(broken.url, 'GET', '/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.body.code).toBe('not_ready');
      expect(ready.body.detail).toMatch(/^redis: /);
    } finally {
      await broken.app.close();
    }
  });
});
