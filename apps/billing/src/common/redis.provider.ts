import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import { closeRedis, createRedis } from '@tollgate/server-kit';
import type Redis from 'ioredis';
import { BILLING_CONFIG, type BillingConfig } from '../config/billing.config';

export const BILLING_REDIS = Symbol('BILLING_REDIS');

/** The API's command client: a few retries, then an error, so no request waits on a dead Redis for long. */
export const billingRedisProvider: Provider = {
  provide: BILLING_REDIS,
  inject: [BILLING_CONFIG],
  useFactory: (config: BillingConfig): Redis => {
    const client = createRedis(config.REDIS_URL, {
      maxRetriesPerRequest: 2,
      connectTimeout: 5_000,
      // ioredis waits this long for a socket that never connected to close; don't hold shutdown on it
      disconnectTimeout: 500,
    });
    const logger = new Logger('Redis');
    let lastLogged = 0;
    // ioredis reconnects by itself; say so at most every 10 s instead of once per attempt
    client.on('error', (e: Error) => {
      if (Date.now() - lastLogged < 10_000) return;
      lastLogged = Date.now();
      logger.warn(`redis: ${e.message}`);
    });
    return client;
  },
};

@Injectable()
export class BillingRedisCloser implements OnApplicationShutdown {
  constructor(@Inject(BILLING_REDIS) private readonly redis: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    // QUIT on a client that is still (re)connecting would wait for a connection; just stop it
    if (this.redis.status === 'ready') await closeRedis(this.redis);
    else this.redis.disconnect();
  }
}
