import { loadConfig } from '@tollgate/server-kit';
import { DataSource } from 'typeorm';
import { DatabaseConfig } from '../config/accounts.config';
import { accountsDataSourceOptions } from './data-source-options';

/**
 * The standalone data source for the TypeORM CLI, e.g.
 * `npx typeorm-ts-node-commonjs migration:show -d apps/accounts/src/database/cli-data-source.ts`.
 */
export default new DataSource(accountsDataSourceOptions(loadConfig(DatabaseConfig)));
