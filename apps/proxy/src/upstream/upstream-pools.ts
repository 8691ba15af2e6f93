import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Pool } from 'undici';
import { PROXY_CONFIG, type ProxyConfig } from '../config/proxy.config';

/** One undici keep-alive pool per provider origin, shared by every channel on that origin. */
@Injectable()
export class UpstreamPools implements OnApplicationShutdown {
  private readonly pools = new Map<string, Pool>();

  constructor(@Inject(PROXY_CONFIG) private readonly config: ProxyConfig) {}

  get(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        connections: this.config.UPSTREAM_CONNECTIONS,
        pipelining: 1,
        keepAliveTimeout: 30_000,
        keepAliveMaxTimeout: 600_000,
        connect: { timeout: this.config.UPSTREAM_CONNECT_TIMEOUT_MS },
        // the relays run their own first-byte and total timers; these are only a backstop
        headersTimeout: this.config.UPSTREAM_TOTAL_TIMEOUT_MS + 1000,
        bodyTimeout: this.config.UPSTREAM_TOTAL_TIMEOUT_MS + 1000,
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  /** Closes (gracefully) the pools of origins no channel uses any more. */
  retain(origins: ReadonlySet<string>): void {
    for (const [origin, pool] of this.pools) {
      if (origins.has(origin)) continue;
      this.pools.delete(origin);
      void pool.close().catch(() => undefined);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(all.map((p) => p.destroy().catch(() => undefined)));
  }
}
