import { Inject, Injectable, Logger } from '@nestjs/common';
import { type PriceProjection, projectionKeys } from '@tollgate/contracts';
import type { TokenPrice } from '@tollgate/pricing';
import { PROXY_CONFIG, type ProxyConfig } from '../config/proxy.config';
import { RedisClients } from '../projections/redis-clients';

const NANO = /^\d{1,24}$/;

/** A projected price, or null when it cannot be read (an unreadable price is no price). */
export function parsePrice(json: string): TokenPrice | null {
  try {
    const p = JSON.parse(json) as Partial<PriceProjection> | null;
    if (typeof p?.inputNanoUsdPerMTok !== 'string' || typeof p.outputNanoUsdPerMTok !== 'string')
      return null;
    if (!NANO.test(p.inputNanoUsdPerMTok) || !NANO.test(p.outputNanoUsdPerMTok)) return null;
    return {
      inputNanoUsdPerMTok: BigInt(p.inputNanoUsdPerMTok),
      outputNanoUsdPerMTok: BigInt(p.outputNanoUsdPerMTok),
    };
  } catch {
    return null;
  }
}

/**
 * The price book billing projects into Redis (`projectionKeys.prices`), held whole in memory:
 * admission prices every request's reservation and its settlement with it, without a round trip.
 * Reloaded by the projection listener on every (re)subscription and `prices` change.
 */
@Injectable()
export class PriceBook {
  private readonly logger = new Logger(PriceBook.name);
  private readonly key: string;
  private prices = new Map<string, TokenPrice>();
  private started = 0;

  constructor(
    @Inject(PROXY_CONFIG) config: ProxyConfig,
    private readonly redis: RedisClients,
  ) {
    this.key = projectionKeys.prices(config.TOLLGATE_REDIS_PREFIX);
  }

  get size(): number {
    return this.prices.size;
  }

  /** The price of a public model name, or null (unpriced: its requests reserve no cost). */
  get(model: string): TokenPrice | null {
    return this.prices.get(model) ?? null;
  }

  /** Reads the whole price book; of overlapping reloads, the last one started wins. */
  async reload(): Promise<void> {
    const run = ++this.started;
    const raw = await this.redis.commands.hgetall(this.key);
    if (run !== this.started) return;
    const next = new Map<string, TokenPrice>();
    for (const [model, json] of Object.entries(raw)) {
      const price = parsePrice(json);
      if (price) next.set(model, price);
      else this.logger.warn({ msg: 'unreadable price projection ignored', model });
    }
    this.prices = next;
  }
}
