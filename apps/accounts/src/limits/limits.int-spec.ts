import { createHash } from 'node:crypto';
import {
  type CreatedApiKeyResponseDto,
  type KeyRecordProjection,
  type LimitsResponseDto,
  type LimitsStateResponseDto,
  type MemberResponseDto,
  type OrganisationResponseDto,
  type ProblemDetails,
  projectionKeys,
  type TenantDetailResponseDto,
} from '@tollgate/contracts';
import {
  admissionKeys,
  type AdmissionScope,
  AdmissionStore,
  computeWindows,
  NO_LIMITS,
} from '@tollgate/server-admission';
import { waitFor } from '@tollgate/server-testing';
import { AuditLogEntity } from '../audit/audit-log.entity';
import { ProjectionsService } from '../projections/projections.service';
import {
  type AccountsTestApp,
  type SignedUp,
  startAccountsTestApp,
} from '../testing/accounts-test-app';
import { ScopeLimitsEntity } from './scope-limits.entity';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const UNLIMITED: LimitsResponseDto = {
  dailyBudgetUsd: null,
  monthlyBudgetUsd: null,
  totalBudgetUsd: null,
  rpm: null,
  tpm: null,
  maxConcurrent: null,
};

describe('limits and organisation settings (int)', () => {
  let sut: AccountsTestApp;
  let store: AdmissionStore;
  let owner: SignedUp;
  let orgId: string;
  let tenant: TenantDetailResponseDto;
  let key: CreatedApiKeyResponseDto;
  let other: SignedUp;

  const paths = () => ({
    org: `/api/v1/orgs/${orgId}/limits`,
    tenant: `/api/v1/tenants/${tenant.id}/limits`,
    key: `/api/v1/keys/${key.id}/limits`,
  });
  const scopes = (): Record<'org' | 'tenant' | 'key', AdmissionScope> => ({
    org: { kind: 'org', orgId },
    tenant: { kind: 'tenant', orgId, tenantId: tenant.id },
    key: { kind: 'key', orgId, keyId: key.id },
  });
  const put = (path: string, body: unknown, token = owner.accessToken) =>
    sut.api<LimitsResponseDto & ProblemDetails>('PUT', path, { token, body });
  const get = (path: string, token = owner.accessToken) =>
    sut.api<LimitsStateResponseDto & ProblemDetails>('GET', path, { token });

  const memberWithRole = async (role: string): Promise<string> => {
    const user = await sut.signup();
    const res = await sut.api<MemberResponseDto>('POST', `/api/v1/orgs/${orgId}/members`, {
      token: owner.accessToken,
      body: { email: user.user.email, role },
    });
    expect(res.status).toBe(201);
    return user.accessToken;
  };

  beforeAll(async () => {
    sut = await startAccountsTestApp('limits');
    store = new AdmissionStore(sut.redis, { prefix: sut.redisPrefix.prefix });
    owner = await sut.signup();
    other = await sut.signup();
    orgId = owner.organisation.id;
    tenant = (
      await sut.api<TenantDetailResponseDto>('POST', `/api/v1/orgs/${orgId}/tenants`, {
        token: owner.accessToken,
        body: { name: 'limited' },
      })
    ).body;
    key = (
      await sut.api<CreatedApiKeyResponseDto>('POST', `/api/v1/tenants/${tenant.id}/keys`, {
        token: owner.accessToken,
        body: { name: 'limited key' },
      })
    ).body;
  });

  afterAll(async () => {
    await sut?.close();
  });

  describe('PUT limits', () => {
    it.each(['org', 'tenant', 'key'] as const)(
      'sets all six on the %s, answers them, stores nano-USD and projects them for admission',
      async (scope) => {
        const subscription = await sut.subscribeToChanges();
        const res = await put(paths()[scope], {
          dailyBudgetUsd: '1.5',
          monthlyBudgetUsd: '30',
          totalBudgetUsd: '0.000000001',
          rpm: 60,
          tpm: 100000,
          maxConcurrent: 4,
        });

        expect(res.status).toBe(200);
        expect(res.body).toEqual({
          dailyBudgetUsd: '1.50',
          monthlyBudgetUsd: '30.00',
          totalBudgetUsd: '0.000000001',
          rpm: 60,
          tpm: 100000,
          maxConcurrent: 4,
        });
        const id = scope === 'org' ? orgId : scope === 'tenant' ? tenant.id : key.id;
        const row = await sut.db
          .getRepository(ScopeLimitsEntity)
          .findOneByOrFail({ scope, scopeId: id });
        expect(row.dailyBudgetNano).toBe(1_500_000_000n);
        expect(row.monthlyBudgetNano).toBe(30_000_000_000n);
        expect(row.totalBudgetNano).toBe(1n);
        expect(await store.readLimits(scopes()[scope])).toEqual({
          dailyBudgetNano: 1_500_000_000n,
          monthlyBudgetNano: 30_000_000_000n,
          totalBudgetNano: 1n,
          rpm: 60,
          tpm: 100000,
          maxConcurrent: 4,
        });
        await waitFor(
          () =>
            subscription.changes.some(
              (c) => c.kind === 'limits' && c.scope === scope && c.id === id,
            ),
          { what: 'limits change' },
        );
        expect(subscription.changes).toContainEqual({
          kind: 'limits',
          scope,
          id,
          organisationId: orgId,
        });
      },
    );

    it('keeps omitted fields, clears null ones, and mirrors both in Redis', async () => {
      await put(paths().tenant, { dailyBudgetUsd: '2', rpm: 10, tpm: 500, maxConcurrent: 2 });

      const res = await put(paths().tenant, { dailyBudgetUsd: null, tpm: null, rpm: 11 });

      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        dailyBudgetUsd: null,
        tpm: null,
        rpm: 11,
        maxConcurrent: 2,
      });
      const limits = await store.readLimits(scopes().tenant);
      expect(limits).toMatchObject({ dailyBudgetNano: null, tpm: null, rpm: 11, maxConcurrent: 2 });
      const unchanged = await put(paths().tenant, {});
      expect(unchanged.body).toEqual(res.body);
    });

    it('clears everything back to unlimited, leaving no limits hash behind', async () => {
      const res = await put(paths().key, {
        dailyBudgetUsd: null,
        monthlyBudgetUsd: null,
        totalBudgetUsd: null,
        rpm: null,
        tpm: null,
        maxConcurrent: null,
      });

      expect(res.status).toBe(200);
      expect(res.body).toEqual(UNLIMITED);
      const lim = admissionKeys.limits(sut.redisPrefix.prefix, scopes().key);
      expect(lim).toContain(`{org:${orgId}}`);
      expect(await sut.redis.exists(lim)).toBe(0);
    });

    it('answers all six fields as null for a scope never limited', async () => {
      const fresh = (
        await sut.api<TenantDetailResponseDto>('POST', `/api/v1/orgs/${orgId}/tenants`, {
          token: owner.accessToken,
          body: { name: 'fresh' },
        })
      ).body;

      const res = await get(`/api/v1/tenants/${fresh.id}/limits`);

      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ ...UNLIMITED, scope: 'tenant' });
    });

    it('records who changed what in the audit log, budgets as USD', async () => {
      await put(paths().org, { monthlyBudgetUsd: '99.99' });

      const rows = await sut.db.getRepository(AuditLogEntity).find({
        where: { organisationId: orgId, action: 'limits.updated', targetId: orgId },
        order: { at: 'DESC' },
      });
      expect(rows[0]).toMatchObject({
        actorUserId: owner.user.id,
        targetType: 'organisation',
        details: { scope: 'org', changes: { monthlyBudgetUsd: '99.99' } },
      });
    });

    it.each([
      ['a negative budget', { dailyBudgetUsd: '-1' }],
      ['a budget with more decimals than nano-USD', { dailyBudgetUsd: '1.0000000001' }],
      ['an exponent', { monthlyBudgetUsd: '1e3' }],
      ['a budget as a JSON number', { totalBudgetUsd: 5 }],
      ['a budget too large', { totalBudgetUsd: '1000000000000' }],
      ['an empty budget', { dailyBudgetUsd: '' }],
      ['a negative rpm', { rpm: -1 }],
      ['a fractional tpm', { tpm: 1.5 }],
      ['an rpm as a string', { rpm: '10' }],
      ['a concurrency as a boolean', { maxConcurrent: true }],
      ['an unknown field', { rps: 3 }],
      [
        'per-model limits in the body (they have their own routes)',
        { models: { 'gpt-4o': { rpm: 1 } } },
      ],
      ['one bad field among good ones', { rpm: 5, dailyBudgetUsd: '1,5' }],
    ])('refuses %s with a problem and changes nothing', async (_label, body) => {
      await put(paths().key, { rpm: 7 });
      const before = await sut.snapshot();

      const res = await put(paths().key, body);

      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.body.code).toBe('validation_failed');
      expect(await sut.snapshot()).toBe(before);
      expect((await store.readLimits(scopes().key)).rpm).toBe(7);
    });
  });

  describe('roles', () => {
    it('lets finance and members read but not set limits; admins may set them', async () => {
      await put(paths().org, { rpm: 100 });
      const finance = await memberWithRole('finance');
      const member = await memberWithRole('member');
      const admin = await memberWithRole('admin');
      const before = await sut.snapshot();

      for (const token of [finance, member]) {
        for (const path of Object.values(paths())) {
          expect((await get(path, token)).status).toBe(200);
          const refused = await put(path, { rpm: 1 }, token);
          expect(refused.status).toBe(403);
          expect(refused.body.code).toBe('forbidden');
        }
      }
      expect(await sut.snapshot()).toBe(before);

      const res = await put(paths().org, { rpm: 101 }, admin);
      expect(res.status).toBe(200);
      expect((await store.readLimits(scopes().org)).rpm).toBe(101);
    });

    it('refuses another organisation’s owner with 404 on every limits and settings route, changing nothing', async () => {
      const before = await sut.snapshot();
      const expected = {
        org: 'organisation_not_found',
        tenant: 'tenant_not_found',
        key: 'api_key_not_found',
      } as const;

      for (const [scope, path] of Object.entries(paths()) as [keyof typeof expected, string][]) {
        const read = await get(path, other.accessToken);
        const write = await put(path, { rpm: 1 }, other.accessToken);
        expect([read.status, read.body.code]).toEqual([404, expected[scope]]);
        expect([write.status, write.body.code]).toEqual([404, expected[scope]]);
      }
      const org = await sut.api<ProblemDetails>('GET', `/api/v1/orgs/${orgId}`, {
        token: other.accessToken,
      });
      const patch = await sut.api<ProblemDetails>('PATCH', `/api/v1/orgs/${orgId}`, {
        token: other.accessToken,
        body: { admissionFailOpen: true },
      });
      expect([org.status, patch.status]).toEqual([404, 404]);
      expect(await sut.snapshot()).toBe(before);
    });
  });

  describe('GET limits', () => {
    it('reads spend and reservations per window from the admission counters, in the org’s time zone', async () => {
      const zone = 'Pacific/Kiritimati'; // UTC+14: its day differs from UTC's for 14 hours a day
      expect(
        (
          await sut.api('PATCH', `/api/v1/orgs/${orgId}`, {
            token: owner.accessToken,
            body: { billingTimeZone: zone },
          })
        ).status,
      ).toBe(200);
      // only the key's limits matter here: the organisation and tenant are unlimited
      await put(paths().org, UNLIMITED);
      await put(paths().tenant, UNLIMITED);
      await put(paths().key, {
        dailyBudgetUsd: '10',
        monthlyBudgetUsd: null,
        totalBudgetUsd: null,
        rpm: 100,
        tpm: null,
        maxConcurrent: 10,
      });
      const base = { orgId, tenantId: tenant.id, keyId: key.id, timeZone: zone };
      const settled = await store.admit({
        ...base,
        reservationId: `r-settled-${Date.now()}`,
        estimatedTokens: 100,
        estimatedCostNano: 2_000_000_000n,
      });
      if (!settled.admitted) throw new Error(`not admitted: ${settled.reason}`);
      expect(
        await store.settle(settled.reservation, { costNano: 1_250_000_000n, tokens: 80 }),
      ).toBe('settled');
      const open = await store.admit({
        ...base,
        reservationId: `r-open-${Date.now()}`,
        estimatedTokens: 100,
        estimatedCostNano: 500_000_000n,
      });
      expect(open.admitted).toBe(true);
      const windows = computeWindows(zone, Date.now());

      const res = await get(paths().key);

      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        scope: 'key',
        dailyBudgetUsd: '10.00',
        rpm: 100,
        maxConcurrent: 10,
        timeZone: zone,
        usage: {
          day: {
            id: windows.dayId,
            start: new Date(windows.dayStart).toISOString(),
            end: new Date(windows.dayEnd).toISOString(),
            spentUsd: '1.25',
            reservedUsd: '0.50',
          },
          month: { id: windows.monthId, spentUsd: '1.25', reservedUsd: '0.50' },
          total: { spentUsd: '1.25', reservedUsd: '0.50' },
          requestsLastMinute: 2,
          concurrent: 1,
        },
      });
      // the same request counts on the tenant and the organisation
      const org = await get(paths().org);
      expect(org.body.usage.total).toEqual({ spentUsd: '1.25', reservedUsd: '0.50' });
    });
  });

  describe('organisation settings', () => {
    it('sets the billing time zone (canonical spelling) and fail-open, returns them and projects them into key records', async () => {
      const res = await sut.api<OrganisationResponseDto>('PATCH', `/api/v1/orgs/${orgId}`, {
        token: owner.accessToken,
        body: { billingTimeZone: 'europe/berlin', admissionFailOpen: true },
      });

      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        id: orgId,
        billingTimeZone: 'Europe/Berlin',
        admissionFailOpen: true,
        role: 'owner',
      });
      const got = await sut.api<OrganisationResponseDto>('GET', `/api/v1/orgs/${orgId}`, {
        token: owner.accessToken,
      });
      expect(got.body).toEqual(res.body);
      const raw = await sut.redis.get(
        projectionKeys.keyRecord(sut.redisPrefix.prefix, sha256(key.key)),
      );
      expect(JSON.parse(raw!) as KeyRecordProjection).toMatchObject({
        id: key.id,
        organisationId: orgId,
        tenantId: tenant.id,
        billingTimeZone: 'Europe/Berlin',
        admissionFailOpen: true,
      });
      const [audit] = await sut.db.getRepository(AuditLogEntity).find({
        where: { organisationId: orgId, action: 'organisation.updated' },
        order: { at: 'DESC' },
      });
      expect(audit?.details).toMatchObject({
        changes: { billingTimeZone: 'Europe/Berlin', admissionFailOpen: true },
      });
    });

    it('defaults to UTC and fail-closed for a new organisation', async () => {
      const res = await sut.api<OrganisationResponseDto>(
        'GET',
        `/api/v1/orgs/${other.organisation.id}`,
        { token: other.accessToken },
      );

      expect(res.body).toMatchObject({ billingTimeZone: 'UTC', admissionFailOpen: false });
    });

    it.each([
      ['an unknown zone', { billingTimeZone: 'Mars/Olympus_Mons' }],
      ['a zone with a space', { billingTimeZone: 'Europe/ Berlin' }],
      ['a zone as a number', { billingTimeZone: 1 }],
      ['fail-open as a string', { admissionFailOpen: 'yes' }],
      ['a null time zone', { billingTimeZone: null }],
    ])('refuses %s and changes nothing', async (_label, body) => {
      const before = await sut.snapshot();

      const res = await sut.api<ProblemDetails>('PATCH', `/api/v1/orgs/${orgId}`, {
        token: owner.accessToken,
        body,
      });

      expect(res.status).toBe(400);
      expect(res.body.code).toBe('validation_failed');
      expect(await sut.snapshot()).toBe(before);
    });

    it('lets only owners and admins change settings', async () => {
      const finance = await memberWithRole('finance');
      const before = await sut.snapshot();

      const res = await sut.api<ProblemDetails>('PATCH', `/api/v1/orgs/${orgId}`, {
        token: finance,
        body: { admissionFailOpen: false },
      });

      expect(res.status).toBe(403);
      expect(await sut.snapshot()).toBe(before);
    });
  });

  describe('rebuild', () => {
    it('restores lost limits, removes limits of scopes without any, and keeps key records’ settings', async () => {
      await put(paths().tenant, { rpm: 42 });
      const expectedTenant = await store.readLimits(scopes().tenant);
      const expectedOrg = await store.readLimits(scopes().org);
      await store.writeLimits(scopes().tenant, null);
      await store.writeLimits(scopes().org, { ...expectedOrg, rpm: 1 });
      const ghost: AdmissionScope = { kind: 'key', orgId, keyId: 'ghost-key' };
      await store.writeLimits(ghost, { ...expectedOrg, rpm: 3 });

      const report = await sut.app.get(ProjectionsService).rebuildAll();

      expect(report.limits).toBeGreaterThanOrEqual(3);
      expect(report.staleLimitsRemoved).toBe(1);
      expect(await store.readLimits(scopes().tenant)).toEqual(expectedTenant);
      expect(await store.readLimits(scopes().org)).toEqual(expectedOrg);
      expect(await store.readLimits(ghost)).toEqual(NO_LIMITS);
    });
  });
});
