import { loadConfig } from '@tollgate/server-kit';
import { BillingDatabaseConfig } from './config/billing.config';
import { createBillingDataSource, runBillingMigrations } from './database/data-source';

/** Creates the billing schema if missing, applies pending migrations, and exits. */
async function main(): Promise<void> {
  const config = loadConfig(BillingDatabaseConfig);
  const dataSource = createBillingDataSource(config);
  await dataSource.initialize();
  try {
    const applied = await runBillingMigrations(dataSource, config.DB_SCHEMA);
    process.stdout.write(
      JSON.stringify({
        t: new Date().toISOString(),
        level: 'log',
        service: 'billing-migrate',
        msg: applied.length ? `applied ${applied.length} migration(s)` : 'schema up to date',
        schema: config.DB_SCHEMA,
        applied,
      }) + '\n',
    );
  } finally {
    await dataSource.destroy();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(
    `billing migrate failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
  );
  process.exit(1);
});
