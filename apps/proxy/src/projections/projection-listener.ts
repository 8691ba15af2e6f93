import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { type ProjectionChange, projectionKeys } from '@tollgate/contracts';
import type Redis from 'ioredis';
import { PriceBook } from '../admission/price-book';
import { KeyAuthService } from '../auth/key-auth.service';
import { PROXY_CONFIG, type ProxyConfig } from '../config/proxy.config';
import { ChannelRegistry } from '../routing/channel-registry';
import { RedisClients } from './redis-clients';

const FIRST_LOAD_WAIT_MS = 5_000;

/**
 * Follows the projection change channel. On every (re)subscription the key cache is flushed and
 * the channels reloaded, since changes published while the connection was down were missed.
 */
@Injectable()
export class ProjectionListener implements OnApplicationBootstrap {
  private readonly logger = new Logger(ProjectionListener.name);
  private sub: Redis | null = null;
  private readonly channel: string;
  private firstLoad: Promise<void> | null = null;

  constructor(
    @Inject(PROXY_CONFIG) config: ProxyConfig,
    private readonly redis: RedisClients,
    private readonly keys: KeyAuthService,
    private readonly channels: ChannelRegistry,
    private readonly prices: PriceBook,
  ) {
    this.channel = projectionKeys.changes(config.TOLLGATE_REDIS_PREFIX);
  }

  /** Subscribes and loads the channels; waits a little for the first load so a fresh process starts warm. */
  async onApplicationBootstrap(): Promise<void> {
    const sub = this.redis.createSubscriber(`tollgate-proxy-sub:${this.channel}`);
    this.sub = sub;
    let resolveFirst!: () => void;
    this.firstLoad = new Promise<void>((r) => (resolveFirst = r));
    sub.on('ready', () => {
      void this.resubscribe(sub).then(resolveFirst, (err: unknown) => {
        this.logger.warn({ msg: `subscribing to projection changes failed: ${String(err)}` });
      });
    });
    for (const ev of ['close', 'end', 'reconnecting'])
      sub.on(ev, () => this.keys.cache.setLive(false));
    sub.on('message', (_channel: string, message: string) => this.onMessage(message));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.firstLoad,
      new Promise<void>((r) => (timer = setTimeout(r, FIRST_LOAD_WAIT_MS))),
    ]);
    clearTimeout(timer);
  }

  /** Resolves once the first subscription and channel load are done. */
  whenLoaded(): Promise<void> {
    return this.firstLoad ?? Promise.resolve();
  }

  private async resubscribe(sub: Redis): Promise<void> {
    await sub.subscribe(this.channel);
    this.keys.cache.clear();
    this.keys.cache.setLive(true);
    await Promise.all([this.channels.reload(), this.prices.reload()]);
  }

  onMessage(message: string): void {
    let change: ProjectionChange;
    try {
      change = JSON.parse(message) as ProjectionChange;
    } catch {
      this.logger.warn({ msg: 'unreadable projection change ignored' });
      return;
    }
    switch (change.kind) {
      case 'key':
        if (typeof change.hash === 'string') this.keys.cache.invalidate(change.hash);
        return;
      case 'channels':
        this.reloadChannels();
        return;
      case 'all':
        this.keys.cache.clear();
        this.reloadChannels();
        this.reloadPrices();
        return;
      case 'prices':
        this.reloadPrices();
        return;
      case 'limits':
        // the admission script reads the limits itself on every request: nothing cached to drop
        return;
      default:
        this.logger.warn({
          msg: 'unknown projection change ignored',
          kind: (change as { kind?: unknown }).kind,
        });
    }
  }

  private reloadPrices(): void {
    this.prices.reload().catch((err: unknown) => {
      this.logger.warn({ msg: `reloading prices failed: ${String(err)}` });
    });
  }

  private reloadChannels(): void {
    this.channels.reload().catch((err: unknown) => {
      this.logger.warn({ msg: `reloading channels failed: ${String(err)}` });
    });
  }
}
