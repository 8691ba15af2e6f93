import { type INestApplicationContext, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AdmissionStore, computeWindows, NO_LIMITS } from '@tollgate/server-admission';
import Redis from 'ioredis';
import { BillingRedisModule } from '../common/redis.module';
import { BillingConfigModule } from '../config/billing-config.module';
import { billingDataSourceOptions } from '../database/data-source';
import {
  type BillingTestEnv,
  createBillingTestEnv,
  createLedgerSeeder,
  type LedgerSeeder,
  usageEvent,
} from '../testing/billing-test-env';
import { ReconciliationModule } from './reconciliation.module';
import { ReconciliationService } from './reconciliation.service';

const USD = 1_000_000_000n;

describe('ReconciliationService', () => {
  let env: BillingTestEnv;
  let ctx: INestApplicationContext;
  let sut: ReconciliationService;
  let redis: Redis;
  let store: AdmissionStore;
  let seeder: LedgerSeeder;
  const ORG = 'org-recon';
  const tz = 'Europe/Berlin';
  const now = Date.now();
  const w = computeWindows(tz, now);
  const org = { kind: 'org', orgId: ORG } as const;
  const tenant = { kind: 'tenant', orgId: ORG, tenantId: 'tenant-1' } as const;
  const key = { kind: 'key', orgId: ORG, keyId: 'key-1' } as const;

  beforeAll(async () => {
    env = await createBillingTestEnv('reconcile');
    @Module({
      imports: [
        BillingConfigModule.forRoot(env.config),
        TypeOrmModule.forRoot(billingDataSourceOptions(env.config)),
        BillingRedisModule,
        ReconciliationModule,
      ],
    })
    class TestModule {}
    const moduleRef = await Test.createTestingModule({ imports: [TestModule] }).compile();
    ctx = await moduleRef.init();
    sut = ctx.get(ReconciliationService);
    redis = new Redis(env.config.REDIS_URL);
    store = new AdmissionStore(redis, { prefix: env.config.TOLLGATE_REDIS_PREFIX });
    seeder = await createLedgerSeeder(env.config);
    await seeder.dataSource.query(
      `INSERT INTO prices (model, version, input_nano_usd_per_mtok, output_nano_usd_per_mtok, effective_from, created_by)
       VALUES ('gpt-test', 1, 1000000000, 0, now() - interval '400 days', 'test')`,
    );
    await store.writeTimeZone(ORG, tz);
    // two requests today (1 USD each) and one last year (2 USD)
    const at = (ms: number) => new Date(ms).toISOString();
    await seeder.record(
      usageEvent({
        organisationId: ORG,
        occurredAt: at(now - 1),
        inputTokens: 1_000_000,
        outputTokens: 0,
      }),
    );
    await seeder.record(
      usageEvent({
        organisationId: ORG,
        occurredAt: at(now - 2),
        inputTokens: 1_000_000,
        outputTokens: 0,
      }),
    );
    await seeder.record(
      usageEvent({
        organisationId: ORG,
        occurredAt: at(now - 370 * 86_400_000),
        inputTokens: 2_000_000,
        outputTokens: 0,
      }),
    );
  });

  afterAll(async () => {
    await ctx?.close();
    await seeder?.close();
    await redis?.quit();
    await env?.teardown();
  });

  it('rebuilds missing counters from the ledger', async () => {
    const report = await sut.reconcile({ orgIds: [ORG], now });
    expect(report.repaired).toBeGreaterThan(0);
    for (const scope of [org, tenant, key]) {
      expect((await store.readSpend(scope, { kind: 'day', id: w.dayId })).spentNano).toBe(2n * USD);
      expect((await store.readSpend(scope, { kind: 'month', id: w.monthId })).spentNano).toBe(
        2n * USD,
      );
      expect((await store.readSpend(scope, { kind: 'total' })).spentNano).toBe(4n * USD);
    }
  });

  it('repairs corrupted counters and leaves reservations alone', async () => {
    const day = { kind: 'day', id: w.dayId } as const;
    await redis.hset(
      `${env.config.TOLLGATE_REDIS_PREFIX}adm:{org:${ORG}}:t:tenant-1:c`,
      'd',
      w.dayId,
      'ds',
      '999',
      'dr',
      '5',
    );
    await redis.hset(`${env.config.TOLLGATE_REDIS_PREFIX}adm:{org:${ORG}}:k:key-1:c`, 'ts', '0');
    const report = await sut.reconcile({ orgIds: [ORG], now });
    expect(report).toMatchObject({ repaired: 2, conflicts: 0 });
    expect(await store.readSpend(tenant, day)).toEqual({ spentNano: 2n * USD, reservedNano: 5n });
    expect((await store.readSpend(key, { kind: 'total' })).spentNano).toBe(4n * USD);
  });

  it('changes nothing when the counters agree', async () => {
    expect(await sut.reconcile({ orgIds: [ORG], now })).toMatchObject({ checked: 9, repaired: 0 });
  });

  it("repairs the counters of per-model scopes that have limits, from that model's ledger rows only", async () => {
    const M_ORG = 'org-recon-models';
    await store.writeTimeZone(M_ORG, tz);
    const at = (ms: number) => new Date(ms).toISOString();
    await seeder.dataSource.query(
      `INSERT INTO prices (model, version, input_nano_usd_per_mtok, output_nano_usd_per_mtok, effective_from, created_by)
       VALUES ('gpt-other', 1, 1000000000, 0, now() - interval '400 days', 'test')
       ON CONFLICT DO NOTHING`,
    );
    // today: 1 USD on gpt-test and 3 USD on another model by key-1; last year 2 USD on gpt-test
    for (const [ms, model, tokens] of [
      [now - 1, 'gpt-test', 1_000_000],
      [now - 2, 'gpt-other', 3_000_000],
      [now - 370 * 86_400_000, 'gpt-test', 2_000_000],
    ] as const) {
      await seeder.record(
        usageEvent({
          organisationId: M_ORG,
          occurredAt: at(ms),
          model,
          inputTokens: tokens,
          outputTokens: 0,
        }),
      );
    }
    const keyModel = {
      kind: 'key-model',
      orgId: M_ORG,
      keyId: 'key-1',
      model: 'gpt-test',
    } as const;
    const tenantModel = {
      kind: 'tenant-model',
      orgId: M_ORG,
      tenantId: 'tenant-1',
      model: 'gpt-test',
    } as const;
    const unused = {
      kind: 'key-model',
      orgId: M_ORG,
      keyId: 'key-1',
      model: 'never-used',
    } as const;
    for (const scope of [keyModel, tenantModel, unused])
      await store.writeLimits(scope, { ...NO_LIMITS, totalBudgetNano: 100n * USD });
    // drift: a lost settlement on the key × model total, garbage on a model never called
    await redis.hset(
      `${env.config.TOLLGATE_REDIS_PREFIX}adm:{org:${M_ORG}}:km:key-1:${Buffer.from('never-used').toString('base64url')}:c`,
      'ts',
      '777',
    );
    const report = await sut.reconcile({ orgIds: [M_ORG], now });
    expect(report.conflicts).toBe(0);
    for (const scope of [keyModel, tenantModel]) {
      expect((await store.readSpend(scope, { kind: 'day', id: w.dayId })).spentNano).toBe(USD);
      expect((await store.readSpend(scope, { kind: 'month', id: w.monthId })).spentNano).toBe(USD);
      expect((await store.readSpend(scope, { kind: 'total' })).spentNano).toBe(3n * USD);
    }
    expect((await store.readSpend(unused, { kind: 'total' })).spentNano).toBe(0n);
    // the key itself still counts every model
    expect(
      (await store.readSpend({ kind: 'key', orgId: M_ORG, keyId: 'key-1' }, { kind: 'total' }))
        .spentNano,
    ).toBe(6n * USD);
    expect(await sut.reconcile({ orgIds: [M_ORG], now })).toMatchObject({ repaired: 0 });
  });

  it('repairs a corrupted prepaid balance from credits minus spend', async () => {
    const since = new Date(now - 10 * 60_000);
    await seeder.dataSource.query(
      `INSERT INTO credit_grants (id, organisation_id, amount_nano_usd, source, created_by, created_at)
       VALUES (gen_random_uuid(), $1, 10000000000, 'grant', 'test', $2)`,
      [ORG, since],
    );
    await store.setBalance(ORG, 123n);
    const report = await sut.reconcile({ orgIds: [ORG], now });
    expect(report.balancesRepaired).toBe(1);
    expect(await store.readBalance(ORG)).toBe(8n * USD);
  });
});
