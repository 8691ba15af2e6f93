import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { closeRedis, createRedis } from '@tollgate/server-kit';
import type Redis from 'ioredis';
import { PROXY_CONFIG, type ProxyConfig } from '../config/proxy.config';

/** Logs a Redis client's connection errors at most once per interval (they repeat while it reconnects). */
export function watchRedisErrors(
  client: Redis,
  logger: Logger,
  what: string,
  intervalMs = 10_000,
): void {
  let last = 0;
  client.on('error', (err: Error) => {
    const now = Date.now();
    if (now - last < intervalMs) return;
    last = now;
    logger.warn({ msg: `${what}: ${err.message}` });
  });
}

/** The proxy's Redis connections: one for commands, one per subscriber. */
@Injectable()
export class RedisClients implements OnApplicationShutdown {
  private readonly logger = new Logger(RedisClients.name);
  readonly commands: Redis;
  private readonly subscribers: Redis[] = [];

  constructor(@Inject(PROXY_CONFIG) private readonly config: ProxyConfig) {
    this.commands = createRedis(config.REDIS_URL, {
      commandTimeout: config.REDIS_COMMAND_TIMEOUT_MS,
      maxRetriesPerRequest: 1,
      connectionName: 'tollgate-proxy',
    });
    watchRedisErrors(this.commands, this.logger, 'redis');
  }

  /** A connection for pub/sub; the caller (re)subscribes itself on every `ready`. */
  createSubscriber(name: string): Redis {
    const sub = createRedis(this.config.REDIS_URL, {
      autoResubscribe: false,
      maxRetriesPerRequest: null,
      enableAutoPipelining: false,
      connectionName: name,
    });
    watchRedisErrors(sub, this.logger, 'redis subscriber');
    this.subscribers.push(sub);
    return sub;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.subscribers.map((s) => closeRedis(s)), closeRedis(this.commands)]);
  }
}
