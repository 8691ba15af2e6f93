import { Logger } from '@nestjs/common';
import { listenAndDescribe, loadConfig } from '@tollgate/server-kit';
import { createBillingWorker } from './bootstrap';
import { BillingWorkerConfig, describeBillingConfig } from './config/billing.config';

async function main(): Promise<void> {
  const config = loadConfig(BillingWorkerConfig);
  const app = await createBillingWorker(config);
  const url = await listenAndDescribe(app, config.HEALTH_PORT, config.HOST);
  Logger.log(
    {
      msg: `billing worker consuming queue usage (prefix ${config.TOLLGATE_QUEUE_PREFIX}), health on ${url}`,
      config: describeBillingConfig(config),
    },
    'Bootstrap',
  );
}

main().catch((e: unknown) => {
  process.stderr.write(
    `billing worker failed to start: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
  );
  process.exit(1);
});
