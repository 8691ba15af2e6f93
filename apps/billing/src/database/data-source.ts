import { DataSource, type DataSourceOptions } from 'typeorm';
import type { BillingDatabaseConfig } from '../config/billing.config';
import { BILLING_ENTITIES } from './entities';
import { BILLING_MIGRATIONS } from './migrations';

/** The one description of billing's database, shared by the Nest apps, the migrate entry and the tests. */
export function billingDataSourceOptions(config: BillingDatabaseConfig): DataSourceOptions {
  return {
    type: 'postgres',
    url: config.DATABASE_URL,
    schema: config.DB_SCHEMA,
    entities: BILLING_ENTITIES,
    migrations: BILLING_MIGRATIONS,
    migrationsTableName: 'billing_migrations',
    synchronize: false,
    migrationsRun: false,
    installExtensions: false,
    // failed queries surface as exceptions, logged as JSON where they are handled (filter, worker)
    logging: false,
    extra: {
      options: `-c search_path=${config.DB_SCHEMA}`,
      max: config.DB_POOL_SIZE,
      connectionTimeoutMillis: 5_000,
      application_name: 'tollgate-billing',
    },
  };
}

/** A standalone DataSource (not initialised) for the CLI and the migrate entry. */
export function createBillingDataSource(config: BillingDatabaseConfig): DataSource {
  return new DataSource(billingDataSourceOptions(config));
}

/**
 * Creates the schema if missing and runs pending migrations, holding an advisory lock so two
 * concurrent runs (two replicas, a Job and a developer) cannot interleave. Returns the names applied.
 */
export async function runBillingMigrations(
  dataSource: DataSource,
  schema: string,
): Promise<string[]> {
  const lock = dataSource.createQueryRunner();
  await lock.connect();
  try {
    await lock.query(`SELECT pg_advisory_lock(hashtext($1))`, [
      `tollgate-billing-migrations:${schema}`,
    ]);
    try {
      await lock.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      return applied.map((m) => m.name);
    } finally {
      await lock.query(`SELECT pg_advisory_unlock(hashtext($1))`, [
        `tollgate-billing-migrations:${schema}`,
      ]);
    }
  } finally {
    await lock.release();
  }
}
