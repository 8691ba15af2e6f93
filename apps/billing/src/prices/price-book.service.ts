import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  type AccessTokenClaims,
  DEFAULT_PAGE_LIMIT,
  type Page,
  type PageQueryDto,
  type PriceResponseDto,
  type PutPriceRequestDto,
} from '@tollgate/contracts';
import { formatNanoAsUsd, parseUsdToNano } from '@tollgate/pricing';
import { DataSource } from 'typeorm';
import { BillingErrorCode, BillingException } from '../common/billing.exception';
import { decodeCursor, encodeCursor } from '../common/cursor';
import { PriceEntity } from './price.entity';
import { PriceProjector } from './price-projector.service';

/** The highest price accepted, per million tokens: keeps every cost far inside a PostgreSQL bigint. */
export const MAX_NANO_USD_PER_MTOK = 1_000_000n * 1_000_000_000n;

export function toPriceResponse(price: PriceEntity): PriceResponseDto {
  return {
    model: price.model,
    inputUsdPerMTok: formatNanoAsUsd(price.inputNanoUsdPerMTok),
    outputUsdPerMTok: formatNanoAsUsd(price.outputNanoUsdPerMTok),
    version: price.version,
    updatedAt: price.effectiveFrom.toISOString(),
  };
}

function parsePrice(field: string, value: string): bigint {
  const nano = parseUsdToNano(value);
  if (nano > MAX_NANO_USD_PER_MTOK) {
    throw new BillingException(
      BillingErrorCode.PriceOutOfRange,
      `${field} must not exceed 1000000 USD per million tokens`,
    );
  }
  return nano;
}

/** The admin side of the price book: versioned changes, listings, and their projection into Redis. */
@Injectable()
export class PriceBookService implements OnApplicationBootstrap {
  private readonly logger = new Logger(PriceBookService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly projector: PriceProjector,
  ) {}

  /**
   * Records a new version of a model's price (or, when the latest version already has these prices,
   * keeps it, so a retried PUT adds nothing), then projects it into Redis.
   */
  async setPrice(
    model: string,
    body: PutPriceRequestDto,
    caller: AccessTokenClaims,
    effectiveFrom: Date = new Date(),
  ): Promise<PriceResponseDto> {
    const input = parsePrice('inputUsdPerMTok', body.inputUsdPerMTok);
    const output = parsePrice('outputUsdPerMTok', body.outputUsdPerMTok);
    const price = await this.dataSource.transaction(async (m) => {
      // one writer per model at a time, so versions are dense and never collide
      await m.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`tollgate-price:${model}`]);
      const repo = m.getRepository(PriceEntity);
      const latest = await repo.findOne({ where: { model }, order: { version: 'DESC' } });
      if (latest && latest.inputNanoUsdPerMTok === input && latest.outputNanoUsdPerMTok === output)
        return latest;
      const created = repo.create({
        model,
        version: (latest?.version ?? 0) + 1,
        inputNanoUsdPerMTok: input,
        outputNanoUsdPerMTok: output,
        effectiveFrom,
        createdBy: caller.sub,
      });
      await repo.insert(created);
      return created;
    });
    try {
      await this.projector.project([price]);
    } catch (e) {
      this.logger.error(`price ${model} v${price.version} saved but not projected: ${String(e)}`);
      throw new BillingException(
        BillingErrorCode.ProjectionUnavailable,
        `price ${model} version ${price.version} is saved; repeating the request publishes it`,
      );
    }
    return toPriceResponse(price);
  }

  /** The current price of every model, ordered by model name. */
  async listCurrent(query: PageQueryDto): Promise<Page<PriceResponseDto>> {
    const limit = query.limit ?? DEFAULT_PAGE_LIMIT;
    const after = query.cursor === undefined ? null : decodeCursor(query.cursor, 1)[0];
    const qb = this.dataSource
      .getRepository(PriceEntity)
      .createQueryBuilder('p')
      .distinctOn(['p.model'])
      .orderBy('p.model', 'ASC')
      .addOrderBy('p.version', 'DESC')
      .limit(limit + 1);
    if (after !== null) qb.where('p.model > :after', { after });
    const rows = await qb.getMany();
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items: items.map(toPriceResponse),
      nextCursor: rows.length > limit && last ? encodeCursor([last.model]) : null,
    };
  }

  /** Every version of one model's price, newest first. */
  async listVersions(model: string, query: PageQueryDto): Promise<Page<PriceResponseDto>> {
    const limit = query.limit ?? DEFAULT_PAGE_LIMIT;
    let before: number | null = null;
    if (query.cursor !== undefined) {
      const [v] = decodeCursor(query.cursor, 1);
      before = /^[1-9]\d{0,8}$/.test(v) ? Number(v) : NaN;
      if (Number.isNaN(before))
        throw new BillingException(
          BillingErrorCode.InvalidCursor,
          'cursor is not one this API issued',
        );
    }
    const qb = this.dataSource
      .getRepository(PriceEntity)
      .createQueryBuilder('p')
      .where('p.model = :model', { model })
      .orderBy('p.version', 'DESC')
      .limit(limit + 1);
    if (before !== null) qb.andWhere('p.version < :before', { before });
    const rows = await qb.getMany();
    if (rows.length === 0 && before === null) {
      throw new BillingException(
        BillingErrorCode.PriceNotFound,
        `no price has been set for ${model}`,
      );
    }
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items: items.map(toPriceResponse),
      nextCursor: rows.length > limit && last ? encodeCursor([String(last.version)]) : null,
    };
  }

  /** Re-projects the whole current price book at start, so a flushed or new Redis is filled again. */
  async onApplicationBootstrap(): Promise<void> {
    try {
      const current = await this.dataSource
        .getRepository(PriceEntity)
        .createQueryBuilder('p')
        .distinctOn(['p.model'])
        .orderBy('p.model', 'ASC')
        .addOrderBy('p.version', 'DESC')
        .getMany();
      await this.projector.project(current);
    } catch (e) {
      // not fatal: readiness reports Redis, and the next price change projects again
      this.logger.warn(`could not re-project the price book at start: ${String(e)}`);
    }
  }
}
