import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { JsonLogger } from '@tollgate/server-kit';
import { BillingApiModule } from './billing-api.module';
import { BillingWorkerModule } from './billing-worker.module';
import type { BillingConfig, BillingWorkerConfig } from './config/billing.config';

export const API_PREFIX = 'api/v1';
const HEALTH_ROUTES = ['health/live', 'health/ready'];

/**
 * The billing API, configured but not listening (the entry and the tests call `listenAndDescribe`).
 * Routes live under /api/v1; health stays at /health/* for probes.
 */
export async function createBillingApp(config: BillingConfig): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(BillingApiModule.forRoot(config), {
    logger: new JsonLogger('billing', config.LOG_LEVEL),
  });
  app.setGlobalPrefix(API_PREFIX, { exclude: HEALTH_ROUTES });
  app.disable('x-powered-by');
  app.enableShutdownHooks();
  return app;
}

/**
 * The usage worker with its health endpoints (listen on HEALTH_PORT). It starts consuming when the app
 * is initialised and drains (worker.close()) when it is closed or signalled.
 */
export async function createBillingWorker(config: BillingWorkerConfig): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(
    BillingWorkerModule.forRoot(config),
    {
      logger: new JsonLogger('billing-worker', config.LOG_LEVEL),
    },
  );
  app.disable('x-powered-by');
  app.enableShutdownHooks();
  return app;
}
