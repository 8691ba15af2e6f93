import { loadConfig } from '@tollgate/server-kit';
import { createTestSchema, type TestSchema } from '@tollgate/server-testing';
import type { DataSource } from 'typeorm';
import { BillingDatabaseConfig } from '../config/billing.config';
import { createBillingDataSource, runBillingMigrations } from './data-source';
import { BILLING_MIGRATIONS } from './migrations';

describe('billing migrations', () => {
  let schema: TestSchema;
  let sut: DataSource;
  const schemaName = (): string => `${schema.schema}_m`;

  beforeAll(async () => {
    schema = await createTestSchema('billing_migrations');
    // a schema that does not exist yet: the migrate entry must create it
    const config = loadConfig(BillingDatabaseConfig, {
      DATABASE_URL: schema.url,
      DB_SCHEMA: schemaName(),
    });
    sut = createBillingDataSource(config);
    await sut.initialize();
  });

  afterAll(async () => {
    await sut.query(`DROP SCHEMA IF EXISTS "${schemaName()}" CASCADE`);
    await sut.destroy();
    await schema.drop();
  });

  it('creates the schema and applies every listed migration once', async () => {
    const applied = await runBillingMigrations(sut, schemaName());
    expect(applied).toEqual(BILLING_MIGRATIONS.map((m) => m.name));
    expect(await runBillingMigrations(sut, schemaName())).toEqual([]);
    const tables = (await sut.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
      [schemaName()],
    )) as { table_name: string }[];
    expect(tables.map((t) => t.table_name)).toEqual([
      'alert_webhooks',
      'billing_migrations',
      'budget_alerts',
      'credit_grants',
      'prices',
      'redemption_codes',
      'usage_daily_rollup',
      'usage_ledger',
    ]);
  });

  it('agrees with the entities: the schema builder has nothing to change', async () => {
    const log = await sut.driver.createSchemaBuilder().log();
    expect(log.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('stores money as bigint columns', async () => {
    const cols = (await sut.query(
      `SELECT table_name, column_name, data_type FROM information_schema.columns
       WHERE table_schema = $1 AND column_name LIKE '%nano_usd%' ORDER BY table_name, column_name`,
      [schemaName()],
    )) as { table_name: string; column_name: string; data_type: string }[];
    expect(cols.length).toBe(9);
    expect(cols.every((c) => c.data_type === 'bigint')).toBe(true);
  });

  it('reverts cleanly', async () => {
    for (let i = 0; i < BILLING_MIGRATIONS.length; i++)
      await sut.undoLastMigration({ transaction: 'each' });
    const tables = (await sut.query(
      `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1 AND table_name <> 'billing_migrations'`,
      [schemaName()],
    )) as { n: number }[];
    expect(tables[0].n).toBe(0);
    expect(await runBillingMigrations(sut, schemaName())).toHaveLength(BILLING_MIGRATIONS.length);
  });

  it('notices when the database drifts from the entities (the check above can fail)', async () => {
    await sut.query(`ALTER TABLE "${schemaName()}".usage_ledger ALTER COLUMN model DROP NOT NULL`);
    await sut.query(`DROP INDEX "${schemaName()}".ix_usage_ledger_org_occurred`);
    const log = await sut.driver.createSchemaBuilder().log();
    const queries = log.upQueries.map((q) => q.query).join('\n');
    expect(queries).toMatch(/"model"/);
    expect(queries).toMatch(/ix_usage_ledger_org_occurred/);
  });
});
