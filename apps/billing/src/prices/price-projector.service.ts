import { Inject, Injectable } from '@nestjs/common';
import { type PriceProjection, type ProjectionChange, projectionKeys } from '@tollgate/contracts';
import type Redis from 'ioredis';
import { BILLING_REDIS } from '../common/redis.provider';
import { BILLING_CONFIG, type BillingConfig } from '../config/billing.config';
import type { PriceEntity } from './price.entity';

/**
 * Writes a price unless Redis already holds a newer version of it, so two concurrent updates of one
 * model can never leave the older one projected.
 */
const SET_IF_NEWER = `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current then
  local ok, parsed = pcall(cjson.decode, current)
  if ok and type(parsed) == 'table' and tonumber(parsed.version) and tonumber(parsed.version) > tonumber(ARGV[3]) then
    return 0
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`;

export function toPriceProjection(price: PriceEntity): PriceProjection {
  return {
    model: price.model,
    inputNanoUsdPerMTok: price.inputNanoUsdPerMTok.toString(),
    outputNanoUsdPerMTok: price.outputNanoUsdPerMTok.toString(),
    version: price.version,
  };
}

/** Projects the price book into Redis (`projectionKeys.prices`) for the proxy, and announces changes. */
@Injectable()
export class PriceProjector {
  private readonly prefix: string;

  constructor(
    @Inject(BILLING_REDIS) private readonly redis: Redis,
    @Inject(BILLING_CONFIG) config: BillingConfig,
  ) {
    this.prefix = config.TOLLGATE_REDIS_PREFIX;
  }

  async project(prices: readonly PriceEntity[]): Promise<void> {
    if (prices.length === 0) return;
    const key = projectionKeys.prices(this.prefix);
    for (const price of prices) {
      const projection = toPriceProjection(price);
      await this.redis.eval(
        SET_IF_NEWER,
        1,
        key,
        price.model,
        JSON.stringify(projection),
        String(price.version),
      );
    }
    const change: ProjectionChange = { kind: 'prices' };
    await this.redis.publish(projectionKeys.changes(this.prefix), JSON.stringify(change));
  }
}
