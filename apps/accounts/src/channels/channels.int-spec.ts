import {
  type ChannelProjection,
  type ChannelResponseDto,
  type Page,
  type ProblemDetails,
  projectionKeys,
} from '@tollgate/contracts';
import { SecretBox } from '@tollgate/server-kit';
import { waitFor } from '@tollgate/server-testing';
import {
  type AccountsTestApp,
  type SignedUp,
  startAccountsTestApp,
  uniqueEmail,
} from '../testing/accounts-test-app';
import { ChannelEntity } from './channel.entity';

const ADMIN_PASSWORD = 'admin password for tests';
const UPSTREAM_KEY = 'sk-upstream-secret-0123456789';

describe('channels (int)', () => {
  let sut: AccountsTestApp;
  let adminToken: string;
  let box: SecretBox;
  let customer: SignedUp;

  beforeAll(async () => {
    const adminEmail = uniqueEmail('admin');
    sut = await startAccountsTestApp('channels', {
      TOLLGATE_ADMIN_EMAIL: adminEmail,
      TOLLGATE_ADMIN_PASSWORD: ADMIN_PASSWORD,
    });
    adminToken = await sut.login(adminEmail, ADMIN_PASSWORD);
    box = new SecretBox(sut.config.TOLLGATE_ENCRYPTION_KEY);
    customer = await sut.signup();
  });

  afterAll(async () => {
    await sut?.close();
  });

  const channelBody = (overrides: Record<string, unknown> = {}) => ({
    name: 'mock',
    type: 'openai',
    baseUrl: 'http://127.0.0.1:18000/v1/',
    apiKey: UPSTREAM_KEY,
    models: ['gpt-4o-mini', 'text-embedding-3-small'],
    modelMapping: { 'gpt-4o-mini': 'mock-small' },
    priority: 5,
    weight: 2,
    groups: ['default', 'internal-tools'],
    ...overrides,
  });

  const projected = async (id: string): Promise<ChannelProjection | null> => {
    const raw = await sut.redis.hget(projectionKeys.channels(sut.redisPrefix.prefix), id);
    return raw ? (JSON.parse(raw) as ChannelProjection) : null;
  };

  it('creates a channel: credential encrypted in PostgreSQL and Redis, never in a response', async () => {
    const subscription = await sut.subscribeToChanges();

    const res = await sut.api<ChannelResponseDto>('POST', '/api/v1/admin/channels', {
      token: adminToken,
      body: channelBody(),
    });

    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      name: 'mock',
      type: 'openai',
      baseUrl: 'http://127.0.0.1:18000/v1',
      models: ['gpt-4o-mini', 'text-embedding-3-small'],
      modelMapping: { 'gpt-4o-mini': 'mock-small' },
      priority: 5,
      weight: 2,
      groups: ['default', 'internal-tools'],
      status: 'enabled',
      statusReason: null,
      apiVersion: null,
      extraHeaders: {},
      connectTimeoutMs: null,
      firstByteTimeoutMs: null,
      totalTimeoutMs: null,
      createdAt: expect.any(String),
    });
    expect(res.text).not.toContain(UPSTREAM_KEY);

    const row = await sut.db.getRepository(ChannelEntity).findOneByOrFail({ id: res.body.id });
    expect(row.encryptedApiKey).not.toContain(UPSTREAM_KEY);
    expect(box.open(row.encryptedApiKey, row.id)).toBe(UPSTREAM_KEY);
    expect(() => box.open(row.encryptedApiKey, 'another-channel')).toThrow();
    const audit: unknown[] = await sut.db.query('SELECT * FROM audit_log');
    expect(JSON.stringify(audit)).not.toContain(UPSTREAM_KEY);

    const projection = await projected(res.body.id);
    expect(projection).toEqual({
      id: res.body.id,
      name: 'mock',
      type: 'openai',
      baseUrl: 'http://127.0.0.1:18000/v1',
      encryptedApiKey: expect.any(String),
      models: ['gpt-4o-mini', 'text-embedding-3-small'],
      modelMapping: { 'gpt-4o-mini': 'mock-small' },
      priority: 5,
      weight: 2,
      groups: ['default', 'internal-tools'],
      status: 'enabled',
      organisationId: null,
      apiVersion: null,
      extraHeaders: {},
      connectTimeoutMs: null,
      firstByteTimeoutMs: null,
      totalTimeoutMs: null,
    });
    expect(JSON.stringify(projection)).not.toContain(UPSTREAM_KEY);
    expect(box.open(projection!.encryptedApiKey, res.body.id)).toBe(UPSTREAM_KEY);
    await waitFor(() => subscription.changes.some((c) => c.kind === 'channels'), {
      what: 'channels notification',
    });
  });

  it('defaults priority 0, weight 1 and the default group', async () => {
    const res = await sut.api<ChannelResponseDto>('POST', '/api/v1/admin/channels', {
      token: adminToken,
      body: {
        name: 'plain',
        type: 'openai',
        baseUrl: 'https://api.example.test/v1',
        apiKey: 'k',
        models: ['m'],
      },
    });

    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      priority: 0,
      weight: 1,
      groups: ['default'],
      modelMapping: {},
      status: 'enabled',
    });
  });

  it('lists and reads channels without credentials', async () => {
    const created = await sut.api<ChannelResponseDto>('POST', '/api/v1/admin/channels', {
      token: adminToken,
      body: channelBody({ name: 'listed' }),
    });

    const list = await sut.api<Page<ChannelResponseDto>>(
      'GET',
      '/api/v1/admin/channels?limit=200',
      { token: adminToken },
    );
    const one = await sut.api<ChannelResponseDto>(
      'GET',
      `/api/v1/admin/channels/${created.body.id}`,
      { token: adminToken },
    );

    expect(list.status).toBe(200);
    expect(list.body.items.map((c) => c.id)).toContain(created.body.id);
    expect(one.body).toEqual(created.body);
    for (const text of [list.text, one.text]) {
      expect(text).not.toContain(UPSTREAM_KEY);
      expect(text).not.toMatch(/apiKey|encrypted/i);
    }
  });

  it('disables a channel and replaces its credential; the projection follows', async () => {
    const created = (
      await sut.api<ChannelResponseDto>('POST', '/api/v1/admin/channels', {
        token: adminToken,
        body: channelBody(),
      })
    ).body;

    const res = await sut.api<ChannelResponseDto>('PATCH', `/api/v1/admin/channels/${created.id}`, {
      token: adminToken,
      body: { status: 'disabled', apiKey: 'sk-rotated-credential', weight: 0 },
    });

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'disabled', statusReason: 'admin', weight: 0 });
    expect(res.text).not.toContain('sk-rotated-credential');
    const projection = await projected(created.id);
    expect(projection).toMatchObject({ status: 'disabled', weight: 0 });
    expect(box.open(projection!.encryptedApiKey, created.id)).toBe('sk-rotated-credential');
    const row = await sut.db.getRepository(ChannelEntity).findOneByOrFail({ id: created.id });
    expect(box.open(row.encryptedApiKey, created.id)).toBe('sk-rotated-credential');

    const enabled = await sut.api<ChannelResponseDto>(
      'PATCH',
      `/api/v1/admin/channels/${created.id}`,
      {
        token: adminToken,
        body: { status: 'enabled' },
      },
    );
    expect(enabled.body).toMatchObject({ status: 'enabled', statusReason: null });
    expect((await projected(created.id))!.status).toBe('enabled');
  });

  it('refuses every channel route to a non-admin, whatever their organisation role, and changes nothing', async () => {
    const existing = (
      await sut.api<ChannelResponseDto>('POST', '/api/v1/admin/channels', {
        token: adminToken,
        body: channelBody(),
      })
    ).body;
    const before = await sut.db.getRepository(ChannelEntity).count();
    const token = customer.accessToken;

    const attempts = await Promise.all([
      sut.api<ProblemDetails>('GET', '/api/v1/admin/channels', { token }),
      sut.api<ProblemDetails>('POST', '/api/v1/admin/channels', { token, body: channelBody() }),
      sut.api<ProblemDetails>('GET', `/api/v1/admin/channels/${existing.id}`, { token }),
      sut.api<ProblemDetails>('PATCH', `/api/v1/admin/channels/${existing.id}`, {
        token,
        body: { status: 'disabled' },
      }),
      sut.api<ProblemDetails>('GET', `/api/v1/admin/channels/${existing.id}/events`, { token }),
      sut.api<ProblemDetails>('POST', `/api/v1/admin/channels/${existing.id}/test`, {
        token,
        body: {},
      }),
    ]);

    for (const res of attempts) {
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('platform_admin_required');
      expect(res.text).not.toContain(UPSTREAM_KEY);
    }
    expect(await sut.db.getRepository(ChannelEntity).count()).toBe(before);
    expect((await projected(existing.id))!.status).toBe('enabled');
  });

  it('answers 404 for an unknown channel', async () => {
    const res = await sut.api<ProblemDetails>(
      'GET',
      '/api/v1/admin/channels/00000000-0000-4000-8000-000000000000',
      { token: adminToken },
    );

    expect(res.status).toBe(404);
    expect(res.body.code).toBe('channel_not_found');
  });
  describe('provider settings', () => {
    const create = (overrides: Record<string, unknown>) =>
      sut.api<ChannelResponseDto & { code?: string }>('POST', '/api/v1/admin/channels', {
        token: adminToken,
        body: channelBody(overrides),
      });
    const patch = (id: string, body: Record<string, unknown>) =>
      sut.api<ChannelResponseDto & { code?: string }>('PATCH', `/api/v1/admin/channels/${id}`, {
        token: adminToken,
        body,
      });

    it('stores an azure channel with api-version, extra headers and timeouts, and projects them', async () => {
      const res = await create({
        type: 'azure',
        baseUrl: 'https://my-resource.openai.azure.com/',
        models: ['gpt-4o'],
        modelMapping: { 'gpt-4o': 'prod-gpt4o-deployment' },
        apiVersion: '2024-10-21',
        extraHeaders: { 'X-Trace-Tag': 'tollgate', 'ms-secret-ish': 'header-secret-value' },
        connectTimeoutMs: 2_000,
        firstByteTimeoutMs: 30_000,
        totalTimeoutMs: 120_000,
      });

      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        type: 'azure',
        baseUrl: 'https://my-resource.openai.azure.com',
        apiVersion: '2024-10-21',
        extraHeaders: { 'x-trace-tag': 'tollgate', 'ms-secret-ish': 'header-secret-value' },
        connectTimeoutMs: 2_000,
        firstByteTimeoutMs: 30_000,
        totalTimeoutMs: 120_000,
      });
      const one = await sut.api<ChannelResponseDto>(
        'GET',
        `/api/v1/admin/channels/${res.body.id}`,
        { token: adminToken },
      );
      expect(one.body).toEqual(res.body);
      expect(await projected(res.body.id)).toMatchObject({
        type: 'azure',
        apiVersion: '2024-10-21',
        extraHeaders: { 'x-trace-tag': 'tollgate', 'ms-secret-ish': 'header-secret-value' },
        connectTimeoutMs: 2_000,
        firstByteTimeoutMs: 30_000,
        totalTimeoutMs: 120_000,
      });
      const audit: unknown[] = await sut.db.query(`SELECT * FROM audit_log WHERE target_id = $1`, [
        res.body.id,
      ]);
      expect(JSON.stringify(audit)).toContain('ms-secret-ish');
      expect(JSON.stringify(audit)).not.toContain('header-secret-value');
    });

    it('accepts anthropic and gemini channels', async () => {
      for (const type of ['anthropic', 'gemini']) {
        const res = await create({ type, baseUrl: 'https://provider.example.test' });
        expect(res.status).toBe(201);
        expect(res.body).toMatchObject({ type, apiVersion: null });
        expect((await projected(res.body.id))!.type).toBe(type);
      }
    });

    it.each<[string, Record<string, unknown>, RegExp]>([
      ['azure without api-version', { type: 'azure' }, /apiVersion is required/],
      ['api-version on openai', { apiVersion: '2024-10-21' }, /azure channels only/],
      ['a malformed api-version', { type: 'azure', apiVersion: '2024/10/21&x=1' }, /apiVersion/],
      ['an authorization header', { extraHeaders: { Authorization: 'Bearer x' } }, /overridden/],
      ['an api-key header', { extraHeaders: { 'api-key': 'x' } }, /overridden/],
      ['an x-api-key header', { extraHeaders: { 'X-API-Key': 'x' } }, /overridden/],
      ['a hop-by-hop header', { extraHeaders: { connection: 'close' } }, /overridden/],
      [
        'a header value with a line break',
        { extraHeaders: { 'x-a': 'v\r\nx-b: 1' } },
        /visible ASCII/,
      ],
      ['a header name with a space', { extraHeaders: { 'x a': 'v' } }, /not a header name/],
      [
        'too many headers',
        {
          extraHeaders: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`x-h${i}`, 'v'])),
        },
        /at most 20/,
      ],
      ['headers as a list', { extraHeaders: ['x-a: 1'] }, /object/],
      ['a zero timeout', { connectTimeoutMs: 0 }, /connectTimeoutMs/],
      ['a fractional timeout', { firstByteTimeoutMs: 1.5 }, /firstByteTimeoutMs/],
      ['a timeout over the bound', { totalTimeoutMs: 3_600_001 }, /totalTimeoutMs/],
      ['a timeout as text', { totalTimeoutMs: '1000' }, /totalTimeoutMs/],
      [
        'a first-byte timeout over the total',
        { firstByteTimeoutMs: 10_000, totalTimeoutMs: 5_000 },
        /must not exceed totalTimeoutMs/,
      ],
    ])('refuses %s with a problem and changes nothing', async (_label, overrides, message) => {
      const before = await sut.snapshot();

      const res = await create(overrides);

      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body.code).toBe('validation_failed');
      expect(JSON.stringify(res.body)).toMatch(message);
      expect(await sut.snapshot()).toBe(before);
    });

    it('updates, resets and validates settings on PATCH; the projection follows', async () => {
      const created = (await create({ extraHeaders: { 'x-one': '1' }, totalTimeoutMs: 60_000 }))
        .body;

      const changed = await patch(created.id, {
        extraHeaders: { 'X-Two': '2' },
        connectTimeoutMs: 1_500,
        totalTimeoutMs: null,
      });
      expect(changed.status).toBe(200);
      expect(changed.body).toMatchObject({
        extraHeaders: { 'x-two': '2' },
        connectTimeoutMs: 1_500,
        totalTimeoutMs: null,
      });
      expect(await projected(created.id)).toMatchObject({
        extraHeaders: { 'x-two': '2' },
        connectTimeoutMs: 1_500,
        totalTimeoutMs: null,
      });

      const before = await sut.snapshot();
      const refused = await Promise.all([
        patch(created.id, { type: 'azure' }),
        patch(created.id, { apiVersion: '2024-10-21' }),
        patch(created.id, { extraHeaders: { 'x-api-key': 'k' } }),
        patch(created.id, { totalTimeoutMs: 1_000 }),
        patch(created.id, { type: 'carrier-pigeon' }),
        patch(created.id, { type: null }),
      ]);
      for (const res of refused) {
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('validation_failed');
      }
      expect(await sut.snapshot()).toBe(before);

      const azure = await patch(created.id, { type: 'azure', apiVersion: '2025-04-01-preview' });
      expect(azure.body).toMatchObject({ type: 'azure', apiVersion: '2025-04-01-preview' });
      expect(await projected(created.id)).toMatchObject({
        type: 'azure',
        apiVersion: '2025-04-01-preview',
      });

      const back = await patch(created.id, {
        type: 'openai',
        extraHeaders: null,
        connectTimeoutMs: null,
      });
      expect(back.body).toMatchObject({
        type: 'openai',
        apiVersion: null,
        extraHeaders: {},
        connectTimeoutMs: null,
      });
      expect(await projected(created.id)).toMatchObject({
        type: 'openai',
        apiVersion: null,
        extraHeaders: {},
        connectTimeoutMs: null,
      });
    });
  });
});
