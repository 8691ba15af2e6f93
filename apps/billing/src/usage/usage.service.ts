import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  DEFAULT_PAGE_LIMIT,
  type Page,
  type UsageQueryDto,
  type UsageRecordResponseDto,
} from '@tollgate/contracts';
import { formatNanoAsUsd } from '@tollgate/pricing';
import { DataSource } from 'typeorm';
import { BillingErrorCode, BillingException } from '../common/billing.exception';
import { decodeUsageCursor, encodeUsageCursor } from '../common/cursor';
import { UsageLedgerEntity } from './usage-ledger.entity';

export function toUsageRecordResponse(row: UsageLedgerEntity): UsageRecordResponseDto {
  return {
    requestId: row.requestId,
    occurredAt: row.occurredAt.toISOString(),
    tenantId: row.tenantId,
    keyId: row.keyId,
    model: row.model,
    upstreamModel: row.upstreamModel,
    endpoint: row.endpoint,
    stream: row.stream,
    outcome: row.outcome,
    httpStatus: row.httpStatus,
    inputTokens: row.inputTokens,
    outputTokens: row.outputTokens,
    cachedInputTokens: row.cachedInputTokens,
    costUsd: formatNanoAsUsd(row.costNanoUsd),
    priced: row.priced,
  };
}

const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(9999, 0, 1);

function instant(name: string, iso: string): Date {
  const at = new Date(iso);
  const ms = at.getTime();
  if (Number.isNaN(ms) || ms < EARLIEST || ms >= LATEST) {
    throw new BillingException(
      BillingErrorCode.InvalidTimeRange,
      `${name} must be between 1970 and 9998`,
    );
  }
  return at;
}

/** Reads an organisation's usage ledger. */
@Injectable()
export class UsageService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Newest first, keyset-paginated on (occurred_at, request_id), so pages never skip or repeat a row. */
  async list(organisationId: string, query: UsageQueryDto): Promise<Page<UsageRecordResponseDto>> {
    const limit = query.limit ?? DEFAULT_PAGE_LIMIT;
    const from = query.from === undefined ? undefined : instant('from', query.from);
    const to = query.to === undefined ? undefined : instant('to', query.to);
    if (from && to && from.getTime() >= to.getTime()) {
      throw new BillingException(BillingErrorCode.InvalidTimeRange, '`from` must be before `to`');
    }
    const cursor = query.cursor === undefined ? undefined : decodeUsageCursor(query.cursor);
    const qb = this.dataSource
      .getRepository(UsageLedgerEntity)
      .createQueryBuilder('u')
      .where('u.organisationId = :organisationId', { organisationId });
    if (query.tenantId !== undefined)
      qb.andWhere('u.tenantId = :tenantId', { tenantId: query.tenantId });
    if (query.keyId !== undefined) qb.andWhere('u.keyId = :keyId', { keyId: query.keyId });
    if (query.model !== undefined) qb.andWhere('u.model = :model', { model: query.model });
    if (from) qb.andWhere('u.occurredAt >= :from', { from });
    if (to) qb.andWhere('u.occurredAt < :to', { to });
    if (cursor) {
      qb.andWhere('(u.occurredAt, u.requestId) < (:cursorAt, :cursorId)', {
        cursorAt: cursor.occurredAt,
        cursorId: cursor.requestId,
      });
    }
    const rows = await qb
      .orderBy('u.occurredAt', 'DESC')
      .addOrderBy('u.requestId', 'DESC')
      .limit(limit + 1)
      .getMany();
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items: items.map(toUsageRecordResponse),
      nextCursor: rows.length > limit && last ? encodeUsageCursor(last) : null,
    };
  }
}
