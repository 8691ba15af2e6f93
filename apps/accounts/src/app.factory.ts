import { type LoggerService, RequestMethod } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import {
  JsonLogger,
  createValidationPipe,
  problemFromUnknown,
  sendProblem,
} from '@tollgate/server-kit';
import type { NextFunction, Request, Response } from 'express';
import { AccountsAppModule } from './app.module';
import type { AccountsConfig } from './config/accounts.config';

export const API_PREFIX = 'api/v1';
/** Management request bodies are small; anything bigger is refused with 413. */
export const MAX_BODY = '64kb';

export interface CreateAccountsAppOptions {
  logger?: LoggerService;
}

/** The accounts application, configured but not listening: main.ts and the tests both use it. */
export async function createAccountsApp(
  config: AccountsConfig,
  options: CreateAccountsAppOptions = {},
): Promise<NestExpressApplication> {
  const logger = options.logger ?? new JsonLogger('accounts', config.LOG_LEVEL);
  const app = await NestFactory.create<NestExpressApplication>(AccountsAppModule.forRoot(config), {
    logger,
    bodyParser: false,
    abortOnError: false,
  });
  app.useLogger(logger);
  app.disable('x-powered-by');
  if (config.TRUST_PROXY !== undefined) app.set('trust proxy', parseTrustProxy(config.TRUST_PROXY));
  app.useBodyParser('json', { limit: MAX_BODY });
  // Body-parser errors (malformed JSON, too large) happen before Nest's filters see the request.
  app.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    sendProblem(res, problemFromUnknown(err));
  });
  app.setGlobalPrefix(API_PREFIX, {
    exclude: [
      { path: 'health/live', method: RequestMethod.GET },
      { path: 'health/ready', method: RequestMethod.GET },
    ],
  });
  app.useGlobalPipes(createValidationPipe());
  app.enableShutdownHooks();
  return app;
}

function parseTrustProxy(value: string): boolean | number | string {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return /^\d+$/.test(value) ? Number(value) : value;
}
