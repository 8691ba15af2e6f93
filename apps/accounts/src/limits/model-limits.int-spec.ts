import {
  type CreatedApiKeyResponseDto,
  type MemberResponseDto,
  type ModelLimitsListResponseDto,
  type ModelLimitsResponseDto,
  type ModelLimitsStateResponseDto,
  type ProblemDetails,
  type TenantDetailResponseDto,
} from '@tollgate/contracts';
import {
  admissionKeys,
  type AnyAdmissionScope,
  AdmissionStore,
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
import { ScopeModelLimitsEntity } from './scope-model-limits.entity';

const USD = 1_000_000_000n;
const SLASHED = 'meta-llama/llama-3-8b:free';

describe('per-model limits of tenants and keys (int)', () => {
  let sut: AccountsTestApp;
  let store: AdmissionStore;
  let owner: SignedUp;
  let orgId: string;
  let tenant: TenantDetailResponseDto;
  let key: CreatedApiKeyResponseDto;

  const keyPath = (model: string) =>
    `/api/v1/keys/${key.id}/limits/models/${encodeURIComponent(model)}`;
  const tenantPath = (model: string) =>
    `/api/v1/tenants/${tenant.id}/limits/models/${encodeURIComponent(model)}`;
  const keyModel = (model: string): AnyAdmissionScope => ({
    kind: 'key-model',
    orgId,
    keyId: key.id,
    model,
  });
  const tenantModel = (model: string): AnyAdmissionScope => ({
    kind: 'tenant-model',
    orgId,
    tenantId: tenant.id,
    model,
  });
  const put = (path: string, body: unknown, token = owner.accessToken) =>
    sut.api<ModelLimitsResponseDto & ProblemDetails>('PUT', path, { token, body });
  const get = (path: string, token = owner.accessToken) =>
    sut.api<ModelLimitsStateResponseDto & ProblemDetails>('GET', path, { token });
  const del = (path: string, token = owner.accessToken) =>
    sut.api<ProblemDetails>('DELETE', path, { token });
  const list = (path: string, token = owner.accessToken) =>
    sut.api<ModelLimitsListResponseDto & ProblemDetails>('GET', path, { token });

  const memberWithRole = async (role: string): Promise<string> => {
    const user = await sut.signup();
    const res = await sut.api<MemberResponseDto>('POST', `/api/v1/orgs/${orgId}/members`, {
      token: owner.accessToken,
      body: { email: user.user.email, role },
    });
    expect(res.status).toBe(201);
    return user.accessToken;
  };

  const audits = (targetId: string) =>
    sut.db.getRepository(AuditLogEntity).find({
      where: { organisationId: orgId, action: 'limits.updated', targetId },
      order: { at: 'DESC' },
    });

  beforeAll(async () => {
    sut = await startAccountsTestApp('model_limits');
    store = new AdmissionStore(sut.redis, { prefix: sut.redisPrefix.prefix });
    owner = await sut.signup();
    orgId = owner.organisation.id;
    tenant = (
      await sut.api<TenantDetailResponseDto>('POST', `/api/v1/orgs/${orgId}/tenants`, {
        token: owner.accessToken,
        body: { name: 'per model' },
      })
    ).body;
    key = (
      await sut.api<CreatedApiKeyResponseDto>('POST', `/api/v1/tenants/${tenant.id}/keys`, {
        token: owner.accessToken,
        body: { name: 'per model key' },
      })
    ).body;
  });

  afterAll(async () => {
    await sut?.close();
  });

  it('sets a key’s limits on one model, stores them, projects them and announces the change', async () => {
    const subscription = await sut.subscribeToChanges();
    try {
      const res = await put(keyPath('gpt-4o'), { dailyBudgetUsd: '2.5', rpm: 2, tpm: 5000 });

      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        model: 'gpt-4o',
        dailyBudgetUsd: '2.50',
        monthlyBudgetUsd: null,
        totalBudgetUsd: null,
        rpm: 2,
        tpm: 5000,
        maxConcurrent: null,
      });
      const row = await sut.db
        .getRepository(ScopeModelLimitsEntity)
        .findOneByOrFail({ scope: 'key', scopeId: key.id, model: 'gpt-4o' });
      expect(row).toMatchObject({ organisationId: orgId, dailyBudgetNano: 2_500_000_000n });
      expect(await store.readLimits(keyModel('gpt-4o'))).toEqual({
        ...NO_LIMITS,
        dailyBudgetNano: 2_500_000_000n,
        rpm: 2,
        tpm: 5000,
      });
      // the key's own limits are untouched
      expect(await store.readLimits({ kind: 'key', orgId, keyId: key.id })).toEqual(NO_LIMITS);
      await waitFor(
        () => subscription.changes.some((c) => c.kind === 'limits' && c.model === 'gpt-4o'),
        { what: 'per-model limits change' },
      );
      expect(subscription.changes).toContainEqual({
        kind: 'limits',
        scope: 'key',
        id: key.id,
        organisationId: orgId,
        model: 'gpt-4o',
      });
      const [audit] = await audits(key.id);
      expect(audit).toMatchObject({
        actorUserId: owner.user.id,
        targetType: 'api_key',
        details: {
          scope: 'key',
          model: 'gpt-4o',
          changes: { dailyBudgetUsd: '2.50', rpm: 2, tpm: 5000 },
        },
      });
    } finally {
      await subscription.close();
    }
  });

  it('takes URL-encoded model names with slashes and colons, on a tenant too', async () => {
    const res = await put(tenantPath(SLASHED), { monthlyBudgetUsd: '10', maxConcurrent: 3 });
    expect(res.status).toBe(200);
    expect(res.body.model).toBe(SLASHED);
    expect(await store.readLimits(tenantModel(SLASHED))).toEqual({
      ...NO_LIMITS,
      monthlyBudgetNano: 10n * USD,
      maxConcurrent: 3,
    });
    const lim = admissionKeys.limits(sut.redisPrefix.prefix, tenantModel(SLASHED));
    expect(lim).toContain(`{org:${orgId}}`);
    expect(await sut.redis.exists(lim)).toBe(1);
    const [audit] = await audits(tenant.id);
    expect(audit).toMatchObject({
      targetType: 'tenant',
      details: { scope: 'tenant', model: SLASHED },
    });
  });

  it('keeps omitted fields and clears null ones', async () => {
    await put(keyPath('keep-clear'), { rpm: 10, tpm: 100 });
    const res = await put(keyPath('keep-clear'), { tpm: null, totalBudgetUsd: '1' });
    expect(res.body).toMatchObject({ rpm: 10, tpm: null, totalBudgetUsd: '1.00' });
    expect(await store.readLimits(keyModel('keep-clear'))).toEqual({
      ...NO_LIMITS,
      rpm: 10,
      totalBudgetNano: USD,
    });
  });

  it('reads the settings with the live spend of that model only', async () => {
    await put(keyPath('spend-model'), { dailyBudgetUsd: '5' });
    const base = {
      orgId,
      tenantId: tenant.id,
      keyId: key.id,
      timeZone: 'UTC',
      estimatedTokens: 10,
      estimatedCostNano: 2n * USD,
    };
    const done = await store.admit({ ...base, reservationId: 'rq-1', model: 'spend-model' });
    if (!done.admitted) throw new Error('not admitted');
    await store.settle(done.reservation, { costNano: 1_250_000_000n, tokens: 10 });
    const open = await store.admit({ ...base, reservationId: 'rq-2', model: 'spend-model' });
    expect(open.admitted).toBe(true);
    // another model's spend is not this model's
    expect((await store.admit({ ...base, reservationId: 'rq-3', model: 'other' })).admitted).toBe(
      true,
    );

    const res = await get(keyPath('spend-model'));

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      scope: 'key',
      model: 'spend-model',
      dailyBudgetUsd: '5.00',
      timeZone: 'UTC',
      usage: {
        day: { spentUsd: '1.25', reservedUsd: '2.00' },
        total: { spentUsd: '1.25', reservedUsd: '2.00' },
      },
    });
    const never = await get(keyPath('never-limited'));
    expect(never.status).toBe(200);
    expect(never.body).toMatchObject({ model: 'never-limited', rpm: null, dailyBudgetUsd: null });
    expect(never.body.usage.total).toEqual({ spentUsd: '0.00', reservedUsd: '0.00' });
  });

  it('lists the models with limits by name, without cleared ones', async () => {
    await put(keyPath('zz-cleared'), { rpm: 1 });
    await put(keyPath('zz-cleared'), { rpm: null });

    const res = await list(`/api/v1/keys/${key.id}/limits/models`);

    expect(res.status).toBe(200);
    expect(res.body.items.map((i) => i.model)).toEqual(['gpt-4o', 'keep-clear', 'spend-model']);
    expect(res.body.items[0]).toEqual({
      model: 'gpt-4o',
      dailyBudgetUsd: '2.50',
      monthlyBudgetUsd: null,
      totalBudgetUsd: null,
      rpm: 2,
      tpm: 5000,
      maxConcurrent: null,
    });
    const tenantList = await list(`/api/v1/tenants/${tenant.id}/limits/models`);
    expect(tenantList.body.items.map((i) => i.model)).toEqual([SLASHED]);
  });

  it('deletes a model’s limits (audited once, idempotent) and removes them from Redis', async () => {
    await put(keyPath('to-delete'), { rpm: 4, dailyBudgetUsd: '1' });
    expect(
      await sut.redis.exists(admissionKeys.limits(sut.redisPrefix.prefix, keyModel('to-delete'))),
    ).toBe(1);
    const auditsBefore = (await audits(key.id)).length;

    const res = await del(keyPath('to-delete'));

    expect(res.status).toBe(204);
    expect(
      await sut.db
        .getRepository(ScopeModelLimitsEntity)
        .findOneBy({ scope: 'key', scopeId: key.id, model: 'to-delete' }),
    ).toBeNull();
    expect(
      await sut.redis.exists(admissionKeys.limits(sut.redisPrefix.prefix, keyModel('to-delete'))),
    ).toBe(0);
    const after = await audits(key.id);
    expect(after).toHaveLength(auditsBefore + 1);
    expect(after[0]).toMatchObject({
      details: {
        model: 'to-delete',
        deleted: true,
        changes: { rpm: null, dailyBudgetUsd: null },
      },
    });

    expect((await del(keyPath('to-delete'))).status).toBe(204);
    expect(await audits(key.id)).toHaveLength(auditsBefore + 1);
  });

  it('lets members and finance read but not change per-model limits; admins may', async () => {
    await put(keyPath('roles'), { rpm: 9 });
    const finance = await memberWithRole('finance');
    const member = await memberWithRole('member');
    const admin = await memberWithRole('admin');
    const before = await sut.snapshot();

    for (const token of [finance, member]) {
      expect((await get(keyPath('roles'), token)).status).toBe(200);
      expect((await list(`/api/v1/keys/${key.id}/limits/models`, token)).status).toBe(200);
      const refusedPut = await put(keyPath('roles'), { rpm: 1 }, token);
      expect([refusedPut.status, refusedPut.body.code]).toEqual([403, 'forbidden']);
      const refusedDelete = await del(tenantPath(SLASHED), token);
      expect([refusedDelete.status, refusedDelete.body.code]).toEqual([403, 'forbidden']);
    }
    expect(await sut.snapshot()).toBe(before);

    expect((await put(keyPath('roles'), { rpm: 8 }, admin)).status).toBe(200);
    expect((await store.readLimits(keyModel('roles'))).rpm).toBe(8);
    expect((await del(keyPath('roles'), admin)).status).toBe(204);
  });

  it('rebuild restores lost per-model limits and removes per-model hashes without a row', async () => {
    const expected = await store.readLimits(keyModel('gpt-4o'));
    await store.writeLimits(keyModel('gpt-4o'), null);
    await store.writeLimits(tenantModel(SLASHED), { ...NO_LIMITS, rpm: 1 });
    const ghost: AnyAdmissionScope = { kind: 'key-model', orgId, keyId: key.id, model: 'ghost' };
    await store.writeLimits(ghost, { ...NO_LIMITS, rpm: 3 });

    const report = await sut.app.get(ProjectionsService).rebuildAll();

    expect(report.staleLimitsRemoved).toBe(1);
    expect(await store.readLimits(keyModel('gpt-4o'))).toEqual(expected);
    expect(await store.readLimits(tenantModel(SLASHED))).toEqual({
      ...NO_LIMITS,
      monthlyBudgetNano: 10n * USD,
      maxConcurrent: 3,
    });
    expect(await store.readLimits(ghost)).toEqual(NO_LIMITS);
  });
});
