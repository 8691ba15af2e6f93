import { JsonLogger, SecretBox, closeRedis, loadConfig } from '@tollgate/server-kit';
import { DataSource } from 'typeorm';
import { ProjectionConfig } from './config/accounts.config';
import { accountsDataSourceOptions } from './database/data-source-options';
import { ProjectionWriter } from './projections/projection-writer';
import { createAccountsRedis } from './redis/redis.module';

/** `node rebuild-projections.js`: rewrites every Redis projection from PostgreSQL, then exits. */
async function main(): Promise<void> {
  const config = loadConfig(ProjectionConfig);
  const logger = new JsonLogger('accounts-rebuild-projections', config.LOG_LEVEL);
  const dataSource = new DataSource(accountsDataSourceOptions(config));
  await dataSource.initialize();
  const redis = createAccountsRedis(config.REDIS_URL, {
    warn: (m: unknown) => logger.warn(m, 'Redis'),
  });
  try {
    const writer = new ProjectionWriter(
      dataSource,
      redis,
      config.TOLLGATE_REDIS_PREFIX,
      logger,
      new SecretBox(config.TOLLGATE_ENCRYPTION_KEY),
    );
    const report = await writer.rebuildAll();
    if (report.undecryptableChannels.length) process.exitCode = 2;
  } finally {
    await closeRedis(redis);
    await dataSource.destroy();
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => {
    new JsonLogger('accounts-rebuild-projections').error(err instanceof Error ? err : String(err));
    process.exit(1);
  },
);
