// The DataSource the TypeORM CLI loads (e.g. `typeorm migration:show -d <built>/cli-data-source.js`).
// Nothing else imports this file: it reads the environment when loaded.
import { loadConfig } from '@tollgate/server-kit';
import { BillingDatabaseConfig } from '../config/billing.config';
import { createBillingDataSource } from './data-source';

export default createBillingDataSource(loadConfig(BillingDatabaseConfig));
