import {
  Global,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { closeRedis, createRedis } from '@tollgate/server-kit';
import type Redis from 'ioredis';
import { ACCOUNTS_CONFIG, type AccountsConfig } from '../config/accounts.config';

export const REDIS = Symbol('REDIS');

/** Commands fail fast when Redis is away instead of queueing for ever. */
export function createAccountsRedis(url: string, logger: Pick<Logger, 'warn'>): Redis {
  const client = createRedis(url, { maxRetriesPerRequest: 2, connectTimeout: 5_000 });
  let lastWarning = 0;
  client.on('error', (err: Error) => {
    if (Date.now() - lastWarning < 10_000) return;
    lastWarning = Date.now();
    logger.warn({ msg: 'redis connection error', error: err.message });
  });
  return client;
}

@Injectable()
class RedisCloser implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    await closeRedis(this.redis);
  }
}

@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [ACCOUNTS_CONFIG],
      useFactory: (config: AccountsConfig) =>
        createAccountsRedis(config.REDIS_URL, new Logger('Redis')),
    },
    RedisCloser,
  ],
  exports: [REDIS],
})
export class RedisModule {}
