import type { DataSourceOptions } from 'typeorm';
import type { DatabaseConfig } from '../config/accounts.config';
import { ACCOUNTS_ENTITIES } from './entities';
import { ACCOUNTS_MIGRATIONS } from './migrations';

export const MIGRATIONS_TABLE = 'accounts_migrations';

/** The one description of the accounts database, shared by the app, the CLI and the tests. */
export function accountsDataSourceOptions(config: DatabaseConfig): DataSourceOptions {
  return {
    type: 'postgres',
    url: config.DATABASE_URL,
    schema: config.DB_SCHEMA,
    entities: ACCOUNTS_ENTITIES,
    migrations: ACCOUNTS_MIGRATIONS,
    migrationsTableName: MIGRATIONS_TABLE,
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    installExtensions: false,
    uuidExtension: 'pgcrypto',
    applicationName: 'tollgate-accounts',
    extra: { options: `-c search_path=${config.DB_SCHEMA}`, max: 10 },
  };
}
