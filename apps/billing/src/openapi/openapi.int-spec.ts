import {
  type BillingTestEnv,
  createBillingTestEnv,
  http,
  type RunningApp,
  startApi,
} from '../testing/billing-test-env';
import { BILLING_OPENAPI_DOCUMENT } from './openapi.document';

interface ExpressLayer {
  route?: { path: string; methods: Record<string, boolean> };
}

/** `METHOD /path/{param}` for every route the running Express app serves. */
function servedRoutes(sut: RunningApp): string[] {
  const express = sut.app.getHttpAdapter().getInstance() as { router: { stack: ExpressLayer[] } };
  return express.router.stack
    .filter((l) => l.route)
    .flatMap((l) =>
      Object.keys(l.route!.methods)
        .filter((m) => m !== '_all')
        .map((m) => `${m.toUpperCase()} ${l.route!.path.replace(/:(\w+)/g, '{$1}')}`),
    )
    .sort();
}

function documentedRoutes(doc: { paths: Record<string, Record<string, unknown>> }): string[] {
  return Object.entries(doc.paths)
    .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
    .sort();
}

describe('GET /api/v1/openapi.json', () => {
  let env: BillingTestEnv;
  let sut: RunningApp;

  beforeAll(async () => {
    env = await createBillingTestEnv('openapi');
    sut = await startApi(env.config);
  });

  afterAll(async () => {
    await sut?.app.close();
    await env?.teardown();
  });

  it('is served without a token', async () => {
    const res = await http<typeof BILLING_OPENAPI_DOCUMENT>(sut.url, 'GET', '/api/v1/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
  });

  it('documents exactly the routes the app serves', async () => {
    const served = servedRoutes(sut);
    expect(served.length).toBeGreaterThanOrEqual(8);
    const res = await http<{ paths: Record<string, Record<string, unknown>> }>(
      sut.url,
      'GET',
      '/api/v1/openapi.json',
    );
    expect(documentedRoutes(res.body)).toEqual(served);
  });

  it('resolves every $ref it uses', () => {
    const text = JSON.stringify(BILLING_OPENAPI_DOCUMENT);
    const refs = [...text.matchAll(/"\$ref":"#\/components\/(\w+)\/(\w+)"/g)];
    expect(refs.length).toBeGreaterThan(5);
    const components = BILLING_OPENAPI_DOCUMENT.components as unknown as Record<
      string,
      Record<string, unknown>
    >;
    for (const [, kind, name] of refs)
      expect([kind, name, components[kind]?.[name] !== undefined]).toEqual([kind, name, true]);
  });
});
