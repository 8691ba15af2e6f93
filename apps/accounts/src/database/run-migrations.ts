import type { LoggerService } from '@nestjs/common';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import type { DatabaseConfig } from '../config/accounts.config';
import { accountsDataSourceOptions } from './data-source-options';

/** Creates the schema if it is missing, then applies every pending migration. Returns their names. */
export async function runAccountsMigrations(
  config: DatabaseConfig,
  logger?: LoggerService,
): Promise<string[]> {
  const client = new Client({ connectionString: config.DATABASE_URL });
  await client.connect();
  try {
    // DB_SCHEMA is validated as a plain lower-case identifier by the config class.
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${config.DB_SCHEMA}"`);
  } finally {
    await client.end();
  }
  const dataSource = new DataSource(accountsDataSourceOptions(config));
  await dataSource.initialize();
  try {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    const names = applied.map((m) => m.name);
    logger?.log(
      { msg: 'migrations applied', schema: config.DB_SCHEMA, applied: names },
      'Migrations',
    );
    return names;
  } finally {
    await dataSource.destroy();
  }
}
