import { Logger } from '@nestjs/common';
import { listenAndDescribe, loadConfig } from '@tollgate/server-kit';
import { createBillingApp } from './bootstrap';
import { BillingConfig, describeBillingConfig } from './config/billing.config';

async function main(): Promise<void> {
  const config = loadConfig(BillingConfig);
  const app = await createBillingApp(config);
  const url = await listenAndDescribe(app, config.PORT, config.HOST);
  Logger.log(
    { msg: `billing API listening on ${url}`, config: describeBillingConfig(config) },
    'Bootstrap',
  );
}

main().catch((e: unknown) => {
  process.stderr.write(
    `billing API failed to start: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
  );
  process.exit(1);
});
