import { createHash } from 'node:crypto';
import {
  type ApiKeyDetailResponseDto,
  type CreatedApiKeyResponseDto,
  type KeyRecordProjection,
  type MemberResponseDto,
  type Page,
  type ProblemDetails,
  projectionKeys,
  type TenantDetailResponseDto,
} from '@tollgate/contracts';
import { waitFor } from '@tollgate/server-testing';
import { AuditLogEntity } from '../audit/audit-log.entity';
import {
  type AccountsTestApp,
  type SignedUp,
  startAccountsTestApp,
} from '../testing/accounts-test-app';
import { ApiKeyEntity } from './api-key.entity';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describe('tenants and keys (int)', () => {
  let sut: AccountsTestApp;
  let owner: SignedUp;
  let orgId: string;

  beforeAll(async () => {
    sut = await startAccountsTestApp('keys');
    owner = await sut.signup();
    orgId = owner.organisation.id;
  });

  afterAll(async () => {
    await sut?.close();
  });

  const createTenant = async (token: string, body: Record<string, unknown> = { name: 'Tenant' }) =>
    sut.api<TenantDetailResponseDto>('POST', `/api/v1/orgs/${orgId}/tenants`, { token, body });

  const createKey = async (
    token: string,
    tenantId: string,
    body: Record<string, unknown> = { name: 'key' },
  ) =>
    sut.api<CreatedApiKeyResponseDto>('POST', `/api/v1/tenants/${tenantId}/keys`, { token, body });

  const keyRecord = async (secret: string): Promise<KeyRecordProjection | null> => {
    const raw = await sut.redis.get(
      projectionKeys.keyRecord(sut.redisPrefix.prefix, sha256(secret)),
    );
    return raw ? (JSON.parse(raw) as KeyRecordProjection) : null;
  };

  /** a user with `role` in the owner's organisation */
  const memberWithRole = async (role: string): Promise<{ user: SignedUp; token: string }> => {
    const user = await sut.signup();
    const res = await sut.api<MemberResponseDto>('POST', `/api/v1/orgs/${orgId}/members`, {
      token: owner.accessToken,
      body: { email: user.user.email, role },
    });
    expect(res.status).toBe(201);
    return { user, token: user.accessToken };
  };

  describe('tenants', () => {
    it('creates a tenant in the default group with fallback on', async () => {
      const res = await createTenant(owner.accessToken, { name: 'Internal tools' });

      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.any(String),
        name: 'Internal tools',
        group: 'default',
        organisationId: orgId,
        allowFallback: true,
        createdAt: expect.any(String),
      });
      const got = await sut.api('GET', `/api/v1/tenants/${res.body.id}`, {
        token: owner.accessToken,
      });
      expect(got.body).toEqual(res.body);
    });

    it('pages through tenants with an opaque cursor', async () => {
      const names = ['page-a', 'page-b', 'page-c'];
      for (const name of names)
        await createTenant(owner.accessToken, { name, group: 'internal-tools' });
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
        const res = await sut.api<Page<TenantDetailResponseDto>>(
          'GET',
          `/api/v1/orgs/${orgId}/tenants${query}`,
          {
            token: owner.accessToken,
          },
        );
        expect(res.status).toBe(200);
        expect(res.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...res.body.items.map((t) => t.name));
        cursor = res.body.nextCursor;
        pages++;
      } while (cursor && pages < 20);

      expect(cursor).toBeNull();
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).toEqual(expect.arrayContaining(names));
    });

    it('updates name, group and fallback and re-projects the tenant keys', async () => {
      const tenant = (await createTenant(owner.accessToken, { name: 'Before' })).body;
      const key = (await createKey(owner.accessToken, tenant.id)).body;
      const subscription = await sut.subscribeToChanges();

      const res = await sut.api<TenantDetailResponseDto>('PATCH', `/api/v1/tenants/${tenant.id}`, {
        token: owner.accessToken,
        body: { name: 'After', group: 'internal-tools', allowFallback: false },
      });

      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        name: 'After',
        group: 'internal-tools',
        allowFallback: false,
      });
      expect(await keyRecord(key.key)).toMatchObject({
        tenantName: 'After',
        tenantGroup: 'internal-tools',
        allowFallback: false,
      });
      await waitFor(
        () => subscription.changes.some((c) => c.kind === 'key' && c.hash === sha256(key.key)),
        {
          what: 'key change notification',
        },
      );
    });
  });

  describe('keys', () => {
    let tenantId: string;

    beforeAll(async () => {
      tenantId = (await createTenant(owner.accessToken, { name: 'Keys' })).body.id;
    });

    it('shows the secret once and stores only its sha256', async () => {
      const res = await createKey(owner.accessToken, tenantId, {
        name: 'ci',
        models: ['gpt-4o-mini'],
      });

      expect(res.status).toBe(201);
      expect(Object.keys(res.body).sort()).toEqual(['id', 'key', 'name', 'prefix']);
      expect(res.body.key).toMatch(/^tg-[0-9A-Za-z]{40}$/);
      expect(res.body.prefix).toBe(res.body.key.slice(0, 12));
      const row = await sut.db.getRepository(ApiKeyEntity).findOneByOrFail({ id: res.body.id });
      expect(row.secretHash).toBe(sha256(res.body.key));
      const rawRow: unknown[] = await sut.db.query(`SELECT * FROM api_keys WHERE id = $1`, [
        res.body.id,
      ]);
      expect(JSON.stringify(rawRow)).not.toContain(res.body.key);
      const audit: unknown[] = await sut.db.query(`SELECT * FROM audit_log`);
      expect(JSON.stringify(audit)).not.toContain(res.body.key);

      const list = await sut.api<Page<ApiKeyDetailResponseDto>>(
        'GET',
        `/api/v1/tenants/${tenantId}/keys`,
        {
          token: owner.accessToken,
        },
      );
      expect(list.status).toBe(200);
      expect(list.text).not.toContain(res.body.key);
      expect(list.body.items.find((k) => k.id === res.body.id)).toEqual({
        id: res.body.id,
        name: 'ci',
        prefix: res.body.prefix,
        tenantId,
        models: ['gpt-4o-mini'],
        expiresAt: null,
        revokedAt: null,
        allowFallback: true,
        createdByUserId: owner.user.id,
        createdAt: expect.any(String),
      });
    });

    it('projects the key record for the proxy', async () => {
      const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
      const key = (await createKey(owner.accessToken, tenantId, { name: 'projected', expiresAt }))
        .body;

      expect(await keyRecord(key.key)).toEqual({
        id: key.id,
        name: 'projected',
        prefix: key.prefix,
        organisationId: orgId,
        tenantId,
        tenantName: 'Keys',
        tenantGroup: 'default',
        models: null,
        expiresAt,
        revoked: false,
        allowFallback: true,
        billingTimeZone: 'UTC',
        admissionFailOpen: false,
      });
    });

    it('revokes: the projection says revoked, a change is published, the row keeps the time', async () => {
      const key = (await createKey(owner.accessToken, tenantId, { name: 'to revoke' })).body;
      const subscription = await sut.subscribeToChanges();

      const res = await sut.api('DELETE', `/api/v1/keys/${key.id}`, { token: owner.accessToken });

      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      expect(await keyRecord(key.key)).toMatchObject({ id: key.id, revoked: true });
      await waitFor(
        () => subscription.changes.find((c) => c.kind === 'key' && c.hash === sha256(key.key)),
        {
          what: 'revocation notification',
          timeoutMs: 2_000,
        },
      );
      const row = await sut.db.getRepository(ApiKeyEntity).findOneByOrFail({ id: key.id });
      expect(row.revokedAt).toBeInstanceOf(Date);
      const audit = await sut.db
        .getRepository(AuditLogEntity)
        .findBy({ action: 'api_key.revoked', targetId: key.id });
      expect(audit).toHaveLength(1);

      const again = await sut.api('DELETE', `/api/v1/keys/${key.id}`, { token: owner.accessToken });
      expect(again.status).toBe(204);
      expect(
        await sut.db
          .getRepository(AuditLogEntity)
          .countBy({ action: 'api_key.revoked', targetId: key.id }),
      ).toBe(1);
      await sut.api('PATCH', `/api/v1/keys/${key.id}`, {
        token: owner.accessToken,
        body: { name: 'renamed' },
      });
      expect(await keyRecord(key.key)).toMatchObject({ name: 'renamed', revoked: true });
    });

    it('changes expiry and models, and the projection follows', async () => {
      const key = (await createKey(owner.accessToken, tenantId, { name: 'expiring' })).body;
      const expiresAt = new Date(Date.now() + 3_600_000).toISOString();

      const res = await sut.api<ApiKeyDetailResponseDto>('PATCH', `/api/v1/keys/${key.id}`, {
        token: owner.accessToken,
        body: { expiresAt, models: ['a', 'b'], allowFallback: false },
      });

      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ expiresAt, models: ['a', 'b'], allowFallback: false });
      expect(await keyRecord(key.key)).toMatchObject({
        expiresAt,
        models: ['a', 'b'],
        allowFallback: false,
      });

      const cleared = await sut.api<ApiKeyDetailResponseDto>('PATCH', `/api/v1/keys/${key.id}`, {
        token: owner.accessToken,
        body: { expiresAt: null, models: null },
      });
      expect(cleared.body).toMatchObject({ expiresAt: null, models: null });
      expect(await keyRecord(key.key)).toMatchObject({ expiresAt: null, models: null });
    });

    it('refuses an expiry in the past and stores nothing', async () => {
      const before = await sut.db.getRepository(ApiKeyEntity).count();

      const res = await createKey(owner.accessToken, tenantId, {
        name: 'late',
        expiresAt: '2020-01-01T00:00:00Z',
      });

      expect(res.status).toBe(400);
      expect((res.body as unknown as ProblemDetails).code).toBe('validation_failed');
      expect(await sut.db.getRepository(ApiKeyEntity).count()).toBe(before);
    });

    it('lists newest first', async () => {
      const a = (await createKey(owner.accessToken, tenantId, { name: 'older' })).body;
      const b = (await createKey(owner.accessToken, tenantId, { name: 'newer' })).body;

      const list = await sut.api<Page<ApiKeyDetailResponseDto>>(
        'GET',
        `/api/v1/tenants/${tenantId}/keys?limit=2`,
        {
          token: owner.accessToken,
        },
      );

      expect(list.body.items.map((k) => k.id)).toEqual([b.id, a.id]);
      expect(list.body.nextCursor).toEqual(expect.any(String));
    });
  });

  describe('roles', () => {
    let tenantId: string;

    beforeAll(async () => {
      tenantId = (await createTenant(owner.accessToken, { name: 'Roles' })).body.id;
    });

    it('lets a member create keys and revoke their own, not others', async () => {
      const { token, user } = await memberWithRole('member');
      const ownersKey = (await createKey(owner.accessToken, tenantId)).body;

      const created = await createKey(token, tenantId, { name: 'mine' });
      expect(created.status).toBe(201);
      const row = await sut.db.getRepository(ApiKeyEntity).findOneByOrFail({ id: created.body.id });
      expect(row.createdBy).toBe(user.user.id);

      const others = await sut.api<ProblemDetails>('DELETE', `/api/v1/keys/${ownersKey.id}`, {
        token,
      });
      expect(others.status).toBe(403);
      expect(others.body.code).toBe('forbidden');
      expect(
        (await sut.db.getRepository(ApiKeyEntity).findOneByOrFail({ id: ownersKey.id })).revokedAt,
      ).toBeNull();

      expect((await sut.api('DELETE', `/api/v1/keys/${created.body.id}`, { token })).status).toBe(
        204,
      );
    });

    it('refuses tenant creation and updates to members', async () => {
      const { token } = await memberWithRole('member');

      expect((await createTenant(token, { name: 'nope' })).status).toBe(403);
      expect(
        (await sut.api('PATCH', `/api/v1/tenants/${tenantId}`, { token, body: { name: 'nope' } }))
          .status,
      ).toBe(403);
      expect((await sut.api('GET', `/api/v1/tenants/${tenantId}`, { token })).status).toBe(200);
    });

    it('keeps finance read-only', async () => {
      const { token } = await memberWithRole('finance');
      const key = (await createKey(owner.accessToken, tenantId)).body;

      expect((await sut.api('GET', `/api/v1/orgs/${orgId}/tenants`, { token })).status).toBe(200);
      expect((await sut.api('GET', `/api/v1/tenants/${tenantId}/keys`, { token })).status).toBe(
        200,
      );
      expect((await createTenant(token)).status).toBe(403);
      expect((await createKey(token, tenantId)).status).toBe(403);
      expect((await sut.api('DELETE', `/api/v1/keys/${key.id}`, { token })).status).toBe(403);
      expect(
        (await sut.api('PATCH', `/api/v1/keys/${key.id}`, { token, body: { name: 'x' } })).status,
      ).toBe(403);
      expect(
        (await sut.db.getRepository(ApiKeyEntity).findOneByOrFail({ id: key.id })).revokedAt,
      ).toBeNull();
    });

    it('lets an admin manage tenants and revoke any key', async () => {
      const { token } = await memberWithRole('admin');
      const key = (await createKey(owner.accessToken, tenantId)).body;

      expect((await createTenant(token, { name: 'by admin' })).status).toBe(201);
      expect((await sut.api('DELETE', `/api/v1/keys/${key.id}`, { token })).status).toBe(204);
    });
  });
});
