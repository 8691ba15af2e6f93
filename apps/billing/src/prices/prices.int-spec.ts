import {
  OrgRole,
  type Page,
  type PriceProjection,
  type PriceResponseDto,
  type ProblemDetails,
  projectionKeys,
} from '@tollgate/contracts';
import { closeRedis, createRedis, loadConfig } from '@tollgate/server-kit';
import { waitFor } from '@tollgate/server-testing';
import type Redis from 'ioredis';
import { Client } from 'pg';
import { BillingConfig } from '../config/billing.config';
import {
  adminToken,
  type BillingTestEnv,
  createBillingTestEnv,
  http,
  mintToken,
  type RunningApp,
  startApi,
} from '../testing/billing-test-env';

describe('price book API', () => {
  let env: BillingTestEnv;
  let sut: RunningApp;
  let redis: Redis;
  let subscriber: Redis;
  let pg: Client;
  const messages: string[] = [];

  const put = (model: string, body: unknown, token: string | undefined = adminToken()) =>
    http<PriceResponseDto & ProblemDetails>(
      sut.url,
      'PUT',
      `/api/v1/admin/prices/${encodeURIComponent(model)}`,
      {
        token,
        body,
      },
    );
  const priceRows = async (): Promise<number> =>
    (await pg.query<{ n: number }>('SELECT count(*)::int AS n FROM prices')).rows[0].n;
  const projected = async (model: string): Promise<PriceProjection | null> => {
    const raw = await redis.hget(projectionKeys.prices(env.redis.prefix), model);
    return raw === null ? null : (JSON.parse(raw) as PriceProjection);
  };

  beforeAll(async () => {
    env = await createBillingTestEnv('prices');
    pg = new Client({
      connectionString: env.schema.url,
      options: `-c search_path=${env.schema.schema}`,
    });
    await pg.connect();
    redis = createRedis(env.redis.url);
    subscriber = createRedis(env.redis.url);
    subscriber.on('message', (_channel: string, message: string) => messages.push(message));
    await subscriber.subscribe(projectionKeys.changes(env.redis.prefix));
    sut = await startApi(env.config);
  });

  afterAll(async () => {
    await sut?.app.close();
    await closeRedis(subscriber);
    await closeRedis(redis);
    await pg?.end();
    await env?.teardown();
  });

  it('sets a price, answers 200 with it, projects it into Redis and announces the change', async () => {
    messages.length = 0;
    const res = await put('gpt-4o', { inputUsdPerMTok: '2.5', outputUsdPerMTok: '10.000000001' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      model: 'gpt-4o',
      inputUsdPerMTok: '2.50',
      outputUsdPerMTok: '10.000000001',
      version: 1,
      updatedAt: expect.any(String),
    });
    expect(await projected('gpt-4o')).toEqual({
      model: 'gpt-4o',
      inputNanoUsdPerMTok: '2500000000',
      outputNanoUsdPerMTok: '10000000001',
      version: 1,
    });
    await waitFor(() => messages.length > 0, { what: 'a change notification' });
    expect(JSON.parse(messages[0])).toEqual({ kind: 'prices' });
    const rows = await pg.query(
      `SELECT input_nano_usd_per_mtok::text AS i, output_nano_usd_per_mtok::text AS o FROM prices WHERE model = 'gpt-4o'`,
    );
    expect(rows.rows).toEqual([{ i: '2500000000', o: '10000000001' }]);
  });

  it('keeps history: a changed price is a new version, the same price again adds nothing', async () => {
    await put('hist', { inputUsdPerMTok: '1', outputUsdPerMTok: '2' });
    const same = await put('hist', { inputUsdPerMTok: '1.0', outputUsdPerMTok: '2.00' });
    expect(same.body.version).toBe(1);
    const changed = await put('hist', { inputUsdPerMTok: '1.5', outputUsdPerMTok: '2' });
    expect(changed.status).toBe(200);
    expect(changed.body.version).toBe(2);
    expect((await projected('hist'))?.version).toBe(2);

    const versions = await http<Page<PriceResponseDto>>(
      sut.url,
      'GET',
      '/api/v1/admin/prices/hist/versions',
      {
        token: adminToken(),
      },
    );
    expect(versions.status).toBe(200);
    expect(versions.body.items.map((v) => [v.version, v.inputUsdPerMTok])).toEqual([
      [2, '1.50'],
      [1, '1.00'],
    ]);
  });

  it('gives each concurrent change of one model its own version', async () => {
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        put('race', { inputUsdPerMTok: `${i + 1}`, outputUsdPerMTok: '1' }),
      ),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(results.map((r) => r.body.version).sort()).toEqual([1, 2, 3, 4, 5, 6]);
    expect((await projected('race'))?.version).toBe(6);
  });

  it('accepts model names with a slash when URL-encoded', async () => {
    const res = await put('openai/gpt-4o-mini', {
      inputUsdPerMTok: '0.15',
      outputUsdPerMTok: '0.6',
    });
    expect(res.status).toBe(200);
    expect(res.body.model).toBe('openai/gpt-4o-mini');
    expect(await projected('openai/gpt-4o-mini')).not.toBeNull();
  });

  it.each([
    ['a negative price', { inputUsdPerMTok: '-1', outputUsdPerMTok: '1' }],
    ['a JSON number', { inputUsdPerMTok: 2.5, outputUsdPerMTok: '1' }],
    ['more than nine decimals', { inputUsdPerMTok: '0.0000000001', outputUsdPerMTok: '1' }],
    ['an exponent', { inputUsdPerMTok: '1e3', outputUsdPerMTok: '1' }],
    ['a missing field', { inputUsdPerMTok: '1' }],
    ['an unknown field', { inputUsdPerMTok: '1', outputUsdPerMTok: '1', currency: 'EUR' }],
    ['leading zeros', { inputUsdPerMTok: '01', outputUsdPerMTok: '1' }],
  ])('refuses %s with a 400 problem and changes nothing', async (_what, body) => {
    const rowsBefore = await priceRows();
    const res = await put('bad-input', body);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body.code).toBe('validation_failed');
    expect(await priceRows()).toBe(rowsBefore);
    expect(await projected('bad-input')).toBeNull();
  });

  it('refuses a price above the range with price_out_of_range and changes nothing', async () => {
    const rowsBefore = await priceRows();
    const res = await put('too-dear', {
      inputUsdPerMTok: '1000000.000000001',
      outputUsdPerMTok: '1',
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('price_out_of_range');
    expect(await priceRows()).toBe(rowsBefore);
  });

  it('refuses malformed JSON and an invalid model name', async () => {
    const malformed = await http<ProblemDetails>(sut.url, 'PUT', '/api/v1/admin/prices/x', {
      token: adminToken(),
      rawBody: '{"inputUsdPerMTok": "1",',
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.code).toBe('malformed_json');
    const spaced = await put('has space', { inputUsdPerMTok: '1', outputUsdPerMTok: '1' });
    expect(spaced.status).toBe(400);
    expect(spaced.body.code).toBe('validation_failed');
  });

  it('is for platform admins only: 401 without a token, 403 for an organisation owner', async () => {
    const rowsBefore = await priceRows();
    const body = { inputUsdPerMTok: '1', outputUsdPerMTok: '1' };
    const anonymous = await put('guarded', body, '');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const owner = await put('guarded', body, mintToken({ orgs: { 'org-a': OrgRole.Owner } }));
    expect(owner.status).toBe(403);
    expect(owner.body.code).toBe('platform_admin_required');
    const list = await http(sut.url, 'GET', '/api/v1/admin/prices', {
      token: mintToken({ orgs: { 'org-a': OrgRole.Owner } }),
    });
    expect(list.status).toBe(403);
    expect(await priceRows()).toBe(rowsBefore);
  });

  it('lists the current price of every model, paginated, each model once', async () => {
    for (const m of ['page-a', 'page-b', 'page-c', 'page-d', 'page-e']) {
      await put(m, { inputUsdPerMTok: '1', outputUsdPerMTok: '1' });
      await put(m, { inputUsdPerMTok: '2', outputUsdPerMTok: '1' });
    }
    const seen: PriceResponseDto[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 50; page++) {
      const q: string = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : '?limit=2';
      const res = await http<Page<PriceResponseDto>>(sut.url, 'GET', `/api/v1/admin/prices${q}`, {
        token: adminToken(),
      });
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items);
      cursor = res.body.nextCursor;
      if (cursor === null) break;
    }
    const models = seen.map((p) => p.model);
    const inDb = (
      await pg.query<{ model: string }>('SELECT DISTINCT model FROM prices ORDER BY model')
    ).rows;
    expect(models).toEqual(inDb.map((r) => r.model));
    expect(
      seen
        .filter((p) => p.model.startsWith('page-'))
        .every((p) => p.version === 2 && p.inputUsdPerMTok === '2.00'),
    ).toBe(true);
  });

  it('answers 404 for the history of a model without a price, and 400 for a foreign cursor', async () => {
    const missing = await http<ProblemDetails>(
      sut.url,
      'GET',
      '/api/v1/admin/prices/nothing-here/versions',
      {
        token: adminToken(),
      },
    );
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('price_not_found');
    const badCursor = await http<ProblemDetails>(
      sut.url,
      'GET',
      '/api/v1/admin/prices?cursor=not-ours!',
      {
        token: adminToken(),
      },
    );
    expect(badCursor.status).toBe(400);
    const tooMany = await http<ProblemDetails>(sut.url, 'GET', '/api/v1/admin/prices?limit=1000', {
      token: adminToken(),
    });
    expect(tooMany.status).toBe(400);
  });

  it('re-projects the whole price book at start (a flushed Redis is filled again)', async () => {
    await redis.del(projectionKeys.prices(env.redis.prefix));
    const again = await startApi(env.config);
    try {
      expect((await projected('hist'))?.version).toBe(2);
      expect((await projected('gpt-4o'))?.inputNanoUsdPerMTok).toBe('2500000000');
    } finally {
      await again.app.close();
    }
  });

  it('does not let an older version overwrite a newer one in Redis', async () => {
    const key = projectionKeys.prices(env.redis.prefix);
    await redis.hset(
      key,
      'hist',
      JSON.stringify({
        model: 'hist',
        inputNanoUsdPerMTok: '1',
        outputNanoUsdPerMTok: '1',
        version: 99,
      }),
    );
    const res = await put('hist', { inputUsdPerMTok: '7', outputUsdPerMTok: '7' });
    expect(res.body.version).toBe(3);
    expect((await projected('hist'))?.version).toBe(99);
    await redis.hdel(key, 'hist');
  });

  it('when Redis is down: saves the price, answers 503, and a retried PUT publishes it without a new version', async () => {
    const config = loadConfig(BillingConfig, {
      ...Object.fromEntries(Object.entries(env.config).map(([k, v]) => [k, String(v)])),
      REDIS_URL: 'redis://127.0.0.1:1',
    });
    const cut = await startApi(config);
    try {
      const res = await http<ProblemDetails>(cut.url, 'PUT', '/api/v1/admin/prices/offline-model', {
        token: adminToken(),
        body: { inputUsdPerMTok: '4', outputUsdPerMTok: '8' },
      });
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('projection_unavailable');
    } finally {
      await cut.app.close();
    }
    expect(await projected('offline-model')).toBeNull();
    const retried = await put('offline-model', { inputUsdPerMTok: '4', outputUsdPerMTok: '8' });
    expect(retried.status).toBe(200);
    expect(retried.body.version).toBe(1);
    expect((await projected('offline-model'))?.version).toBe(1);
  });
});
