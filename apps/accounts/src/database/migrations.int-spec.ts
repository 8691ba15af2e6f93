import { createTestSchema, type TestSchema } from '@tollgate/server-testing';
import { DataSource } from 'typeorm';
import { type DatabaseConfig } from '../config/accounts.config';
import { accountsDataSourceOptions } from './data-source-options';
import { ACCOUNTS_MIGRATIONS } from './migrations';
import { runAccountsMigrations } from './run-migrations';

describe('accounts migrations (int)', () => {
  let schema: TestSchema;
  let config: DatabaseConfig;
  let dataSource: DataSource | undefined;

  beforeAll(async () => {
    schema = await createTestSchema('accounts_migrations');
    // the runner must create the schema itself: drop the one the helper made
    await schema.drop();
    config = { DATABASE_URL: schema.url, DB_SCHEMA: schema.schema, LOG_LEVEL: 'error' };
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await schema.drop();
  });

  it('creates the schema and applies every migration, once', async () => {
    const first = await runAccountsMigrations(config);
    const second = await runAccountsMigrations(config);

    expect(first).toEqual(ACCOUNTS_MIGRATIONS.map((m) => m.name));
    expect(second).toEqual([]);
  });

  it('leaves nothing for the entities to change (migrations and entities agree)', async () => {
    dataSource = new DataSource(accountsDataSourceOptions(config));
    await dataSource.initialize();

    const sql = await dataSource.driver.createSchemaBuilder().log();

    expect(sql.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('puts every table in the service schema', async () => {
    const rows: { table_name: string }[] = await dataSource!.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
      [schema.schema],
    );

    expect(rows.map((r) => r.table_name)).toEqual([
      'accounts_migrations',
      'api_keys',
      'audit_log',
      'channel_events',
      'channels',
      'memberships',
      'organisations',
      'refresh_tokens',
      'scope_limits',
      'scope_model_limits',
      'tenants',
      'users',
    ]);
  });

  it('refuses two users whose emails differ only in case', async () => {
    await dataSource!.query(
      `INSERT INTO users (email, password_hash) VALUES ('Case@Example.test', 'x')`,
    );

    await expect(
      dataSource!.query(
        `INSERT INTO users (email, password_hash) VALUES ('case@example.TEST', 'x')`,
      ),
    ).rejects.toThrow(/users_email_lower_key/);
  });

  it('rolls back cleanly', async () => {
    for (let i = 0; i < ACCOUNTS_MIGRATIONS.length; i++) await dataSource!.undoLastMigration();

    const rows: unknown[] = await dataSource!.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name <> 'accounts_migrations'`,
      [schema.schema],
    );
    expect(rows).toEqual([]);
  });
});
