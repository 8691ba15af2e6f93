import { type AccountsTestApp, startAccountsTestApp } from '../testing/accounts-test-app';

interface ExpressLayer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
}

/** Every route the running application registered, as `METHOD /path/{param}`. */
function registeredRoutes(sut: AccountsTestApp): string[] {
  const express = sut.app.getHttpAdapter().getInstance() as { router: { stack: ExpressLayer[] } };
  const routes: string[] = [];
  for (const layer of express.router.stack) {
    if (!layer.route) continue;
    const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
    for (const path of paths) {
      for (const [method, on] of Object.entries(layer.route.methods)) {
        if (on && method !== '_all')
          routes.push(`${method.toUpperCase()} ${path.replace(/:([A-Za-z]+)/g, '{$1}')}`);
      }
    }
  }
  return routes.sort();
}

describe('OpenAPI document and health (int)', () => {
  let sut: AccountsTestApp;

  beforeAll(async () => {
    sut = await startAccountsTestApp('openapi');
  });

  afterAll(async () => {
    await sut?.close();
  });

  it('is served as OpenAPI 3.1 without a token', async () => {
    const res = await sut.api<{ openapi: string; paths: Record<string, unknown> }>(
      'GET',
      '/api/v1/openapi.json',
    );

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.body.openapi).toBe('3.1.0');
  });

  it('describes exactly the routes the application registers', async () => {
    const doc = (
      await sut.api<{ paths: Record<string, Record<string, unknown>> }>(
        'GET',
        '/api/v1/openapi.json',
      )
    ).body;
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`))
      .sort();

    const registered = registeredRoutes(sut);

    expect(registered.length).toBeGreaterThan(20);
    expect(documented).toEqual(registered);
  });

  it('resolves every schema reference', async () => {
    const res = await sut.api('GET', '/api/v1/openapi.json');
    const doc = res.body as { components: { schemas: Record<string, unknown> } };
    const refs = [...res.text.matchAll(/"\$ref":"#\/components\/schemas\/([A-Za-z]+)"/g)].map(
      (m) => m[1]!,
    );

    expect(refs.length).toBeGreaterThan(0);
    expect(refs.filter((r) => !(r in doc.components.schemas))).toEqual([]);
  });

  it('answers liveness and readiness outside /api/v1 without a token', async () => {
    const live = await sut.api<{ status: string }>('GET', '/health/live');
    const ready = await sut.api<{ status: string; details: Record<string, { status: string }> }>(
      'GET',
      '/health/ready',
    );

    expect(live.status).toBe(200);
    expect(live.body).toEqual({ status: 'ok' });
    expect(ready.status).toBe(200);
    expect(ready.body.details).toEqual({ postgres: { status: 'up' }, redis: { status: 'up' } });
  });
});
