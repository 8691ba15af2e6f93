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
    expect(res.body).toMatchObject({ status: 'disabled', weight: 0 });
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
    expect(enabled.body.status).toBe('enabled');
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
});
