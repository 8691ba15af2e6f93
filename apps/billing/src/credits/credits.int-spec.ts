import { type INestApplication, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { CreditGrantResponseDto, Page } from '@tollgate/contracts';
import { AdmissionStore } from '@tollgate/server-admission';
import {
  AccessTokenAuthModule,
  AccessTokenGuard,
  createValidationPipe,
  listenAndDescribe,
} from '@tollgate/server-kit';
import Redis from 'ioredis';
import { BillingExceptionFilter } from '../common/billing-exception.filter';
import { BillingRedisModule } from '../common/redis.module';
import { BillingConfigModule } from '../config/billing-config.module';
import { billingDataSourceOptions } from '../database/data-source';
import {
  adminToken,
  type BillingTestEnv,
  createBillingTestEnv,
  createLedgerSeeder,
  http,
  type LedgerSeeder,
  mintToken,
  orgToken,
  usageEvent,
} from '../testing/billing-test-env';
import { OrgRole } from '@tollgate/contracts';
import { CreditsModule } from './credits.module';

/** The API's wiring around CreditsModule alone, so this file does not depend on other modules. */
async function startCreditsApi(
  env: BillingTestEnv,
): Promise<{ app: INestApplication; url: string }> {
  @Module({
    imports: [
      BillingConfigModule.forRoot(env.config),
      TypeOrmModule.forRoot(billingDataSourceOptions(env.config)),
      BillingRedisModule,
      AccessTokenAuthModule.forRoot(env.config.JWT_SECRET),
      CreditsModule,
    ],
    providers: [
      { provide: APP_GUARD, useExisting: AccessTokenGuard },
      { provide: APP_FILTER, useClass: BillingExceptionFilter },
      { provide: APP_PIPE, useFactory: createValidationPipe },
    ],
  })
  class CreditsTestApi {}
  const moduleRef = await Test.createTestingModule({ imports: [CreditsTestApi] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  app.setGlobalPrefix('api/v1');
  return { app, url: await listenAndDescribe(app, 0, '127.0.0.1') };
}

describe('credits API', () => {
  let env: BillingTestEnv;
  let api: { app: INestApplication; url: string };
  let redis: Redis;
  let store: AdmissionStore;
  let seeder: LedgerSeeder;
  const ORG = 'org-credits';

  beforeAll(async () => {
    env = await createBillingTestEnv('credits');
    api = await startCreditsApi(env);
    redis = new Redis(env.config.REDIS_URL);
    store = new AdmissionStore(redis, { prefix: env.config.TOLLGATE_REDIS_PREFIX });
    seeder = await createLedgerSeeder(env.config);
  });

  afterAll(async () => {
    await api?.app.close();
    await seeder?.close();
    await redis?.quit();
    await env?.teardown();
  });

  describe('POST /admin/orgs/{orgId}/credits', () => {
    it('credits the balance in PostgreSQL and the live admission counter', async () => {
      const res = await http<CreditGrantResponseDto>(
        api.url,
        'POST',
        `/api/v1/admin/orgs/${ORG}/credits`,
        {
          token: adminToken(),
          body: { amountUsd: '25.50', note: 'welcome' },
        },
      );
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ amountUsd: '25.50', source: 'grant', note: 'welcome' });
      expect(await store.readBalance(ORG)).toBe(25_500_000_000n);
      const balance = await http(api.url, 'GET', `/api/v1/orgs/${ORG}/balance`, {
        token: orgToken(ORG),
      });
      expect(balance.body).toMatchObject({
        prepaid: true,
        balanceUsd: '25.50',
        liveBalanceUsd: '25.50',
      });
    });

    it('refuses an organisation member who is not a platform admin', async () => {
      const res = await http(api.url, 'POST', `/api/v1/admin/orgs/${ORG}/credits`, {
        token: orgToken(ORG),
        body: { amountUsd: '1' },
      });
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ code: 'platform_admin_required' });
    });

    it('refuses a zero amount with a problem', async () => {
      const res = await http(api.url, 'POST', `/api/v1/admin/orgs/${ORG}/credits`, {
        token: adminToken(),
        body: { amountUsd: '0' },
      });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body).toMatchObject({ code: 'amount_not_positive' });
    });
  });

  describe('redemption codes', () => {
    it('credits exactly once when 20 owners redeem the same code at once', async () => {
      const created = await http<{ items: { code: string }[] }>(
        api.url,
        'POST',
        '/api/v1/admin/redemption-codes',
        {
          token: adminToken(),
          body: { amountUsd: '10', count: 2 },
        },
      );
      expect(created.status).toBe(201);
      expect(created.body.items).toHaveLength(2);
      const code = created.body.items[0]!.code;
      const orgs = Array.from({ length: 20 }, (_, n) => `org-redeem-${n % 2}`);
      const results = await Promise.all(
        orgs.map((o) =>
          http(api.url, 'POST', `/api/v1/orgs/${o}/redeem`, { token: orgToken(o), body: { code } }),
        ),
      );
      expect(results.filter((r) => r.status === 201)).toHaveLength(1);
      expect(results.filter((r) => r.status === 400)).toHaveLength(19);
      const balances = await Promise.all([0, 1].map((n) => store.readBalance(`org-redeem-${n}`)));
      expect(balances.map((b) => b ?? 0n).reduce((a, b) => a + b)).toBe(10_000_000_000n);
      const [grants] = (await seeder.dataSource.query(
        `SELECT count(*)::int AS n FROM credit_grants WHERE organisation_id LIKE 'org-redeem-%'`,
      )) as [{ n: number }];
      expect(grants.n).toBe(1);
    });

    it('stores only the hash of a code', async () => {
      const created = await http<{ items: { code: string }[] }>(
        api.url,
        'POST',
        '/api/v1/admin/redemption-codes',
        {
          token: adminToken(),
          body: { amountUsd: '1' },
        },
      );
      const code = created.body.items[0]!.code;
      const rows = (await seeder.dataSource.query(
        `SELECT count(*)::int AS n FROM redemption_codes WHERE code_hash = $1 OR code_hash = $2`,
        [code, code.toUpperCase()],
      )) as [{ n: number }];
      expect(rows[0].n).toBe(0);
    });

    it('refuses an expired code and a non-owner', async () => {
      const created = await http<{ items: { id: string; code: string }[] }>(
        api.url,
        'POST',
        '/api/v1/admin/redemption-codes',
        {
          token: adminToken(),
          body: { amountUsd: '1', expiresAt: new Date(Date.now() + 60_000).toISOString() },
        },
      );
      const { id, code } = created.body.items[0]!;
      const finance = await http(api.url, 'POST', `/api/v1/orgs/${ORG}/redeem`, {
        token: orgToken(ORG, OrgRole.Finance),
        body: { code },
      });
      expect(finance.status).toBe(403);
      await seeder.dataSource.query(
        `UPDATE redemption_codes SET expires_at = now() - interval '1 second' WHERE id = $1`,
        [id],
      );
      const expired = await http(api.url, 'POST', `/api/v1/orgs/${ORG}/redeem`, {
        token: orgToken(ORG),
        body: { code },
      });
      expect(expired.status).toBe(400);
      expect(expired.body).toMatchObject({ code: 'redemption_code_invalid' });
    });
  });

  describe('GET /orgs/{orgId}/balance and /credits', () => {
    it('subtracts spend recorded since the first credit', async () => {
      const org = 'org-spender';
      await http(api.url, 'POST', `/api/v1/admin/orgs/${org}/credits`, {
        token: adminToken(),
        body: { amountUsd: '5' },
      });
      await seeder.dataSource.query(
        `INSERT INTO prices (model, version, input_nano_usd_per_mtok, output_nano_usd_per_mtok, effective_from, created_by)
         VALUES ('gpt-credit', 1, 1000000000, 0, now() - interval '1 day', 'test')`,
      );
      await seeder.record(
        usageEvent({
          organisationId: org,
          model: 'gpt-credit',
          inputTokens: 1_000_000,
          outputTokens: 0,
        }),
      );
      const res = await http(api.url, 'GET', `/api/v1/orgs/${org}/balance`, {
        token: orgToken(org),
      });
      expect(res.body).toMatchObject({ balanceUsd: '4.00', creditedUsd: '5.00', spentUsd: '1.00' });
    });

    it('pages the credit history newest first', async () => {
      const org = 'org-history';
      for (const amountUsd of ['1', '2', '3']) {
        await http(api.url, 'POST', `/api/v1/admin/orgs/${org}/credits`, {
          token: adminToken(),
          body: { amountUsd },
        });
      }
      const first = await http<Page<CreditGrantResponseDto>>(
        api.url,
        'GET',
        `/api/v1/orgs/${org}/credits?limit=2`,
        {
          token: orgToken(org, OrgRole.Finance),
        },
      );
      expect(first.body.items.map((g) => g.amountUsd)).toEqual(['3.00', '2.00']);
      const second = await http<Page<CreditGrantResponseDto>>(
        api.url,
        'GET',
        `/api/v1/orgs/${org}/credits?limit=2&cursor=${first.body.nextCursor!}`,
        { token: orgToken(org) },
      );
      expect(second.body).toMatchObject({ items: [{ amountUsd: '1.00' }], nextCursor: null });
    });

    it('hides another organisation’s balance and history', async () => {
      const other = mintToken({ orgs: { 'org-else': OrgRole.Owner } });
      for (const path of ['balance', 'credits']) {
        const res = await http(api.url, 'GET', `/api/v1/orgs/${ORG}/${path}`, { token: other });
        expect(res.status).toBe(404);
      }
    });
  });
});
