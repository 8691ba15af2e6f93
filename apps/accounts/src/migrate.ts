import { JsonLogger, loadConfig } from '@tollgate/server-kit';
import { DatabaseConfig } from './config/accounts.config';
import { runAccountsMigrations } from './database/run-migrations';

/** `node migrate.js`: creates the schema if missing, applies pending migrations, exits. */
async function main(): Promise<void> {
  const config = loadConfig(DatabaseConfig);
  const logger = new JsonLogger('accounts-migrate', config.LOG_LEVEL);
  await runAccountsMigrations(config, logger);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    new JsonLogger('accounts-migrate').error(
      err instanceof Error ? err : String(err),
      'Migrations',
    );
    process.exit(1);
  },
);
