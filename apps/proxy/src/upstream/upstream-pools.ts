import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { type Dispatcher, Pool } from 'undici';
import { PROXY_CONFIG, type ProxyConfig } from '../config/proxy.config';

const BACKSTOP_MS = 6 * 3_600_000;

/**
 * One undici keep-alive pool per provider origin and connect timeout (undici sets the connect
 * timeout per pool), shared by every channel with that origin and timeout.
 */
@Injectable()
export class UpstreamPools implements OnApplicationShutdown {
  private readonly pools = new Map<string, Pool>();

  constructor(@Inject(PROXY_CONFIG) private readonly config: ProxyConfig) {}

  get(origin: string, connectTimeoutMs = this.config.UPSTREAM_CONNECT_TIMEOUT_MS): Pool {
    const key = `${connectTimeoutMs} ${origin}`;
    let pool = this.pools.get(key);
    if (!pool) {
      pool = new Pool(origin, {
        connections: this.config.UPSTREAM_CONNECTIONS,
        pipelining: 1,
        keepAliveTimeout: 30_000,
        keepAliveMaxTimeout: 600_000,
        connect: { timeout: connectTimeoutMs },
        // the relays run their own (per-channel) first-byte and total timers; these are only a
        // backstop, above any channel's own total
        headersTimeout: BACKSTOP_MS,
        bodyTimeout: BACKSTOP_MS,
      });
      this.pools.set(key, pool);
    }
    return pool;
  }

  /** Closes (gracefully) the pools no channel uses any more. */
  retain(inUse: ReadonlySet<Dispatcher>): void {
    for (const [key, pool] of this.pools) {
      if (inUse.has(pool)) continue;
      this.pools.delete(key);
      void pool.close().catch(() => undefined);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(all.map((p) => p.destroy().catch(() => undefined)));
  }
}
