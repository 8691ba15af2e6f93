import {
  ConfigValidationError,
  describeConfig,
  JsonLogger,
  listenAndDescribe,
  loadConfig,
} from '@tollgate/server-kit';
import { createAccountsApp } from './app.factory';
import { ACCOUNTS_SECRET_KEYS, AccountsConfig } from './config/accounts.config';

async function main(): Promise<void> {
  const config = loadConfig(AccountsConfig);
  const logger = new JsonLogger('accounts', config.LOG_LEVEL);
  logger.log({ msg: 'starting', config: describeConfig(config, ACCOUNTS_SECRET_KEYS) }, 'Main');
  const app = await createAccountsApp(config, { logger });
  const url = await listenAndDescribe(app, config.PORT, config.HOST);
  logger.log({ msg: 'listening', url }, 'Main');
}

main().catch((err: unknown) => {
  const logger = new JsonLogger('accounts');
  if (err instanceof ConfigValidationError)
    logger.error({ msg: 'invalid configuration', problems: err.problems }, 'Main');
  else logger.error(err instanceof Error ? err : String(err), 'Main');
  process.exit(1);
});
