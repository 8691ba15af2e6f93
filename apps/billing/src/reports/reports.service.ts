import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { MonthlyReportLineDto, MonthlyReportResponseDto } from '@tollgate/contracts';
import { formatNanoAsUsd } from '@tollgate/pricing';
import { DataSource } from 'typeorm';
import { BillingErrorCode, BillingException } from '../common/billing.exception';
import { UsageDailyRollupEntity } from '../usage/usage-daily-rollup.entity';

interface LineRow {
  tenantId: string;
  keyId: string;
  model: string;
  tenantName: string | null;
  keyName: string | null;
  requests: string;
  unpricedRequests: string;
  inputTokens: string;
  outputTokens: string;
  costNanoUsd: string;
}

/** First day of the month and of the next one, `YYYY-MM-DD`; rejects months outside 1970–9998. */
export function monthBounds(month: string): { from: string; to: string } {
  const m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(month);
  const year = m ? Number(m[1]) : NaN;
  if (!m || year < 1970 || year > 9998) {
    throw new BillingException(
      BillingErrorCode.InvalidTimeRange,
      'month must be YYYY-MM between 1970-01 and 9998-12',
    );
  }
  const mon = Number(m[2]);
  const next = mon === 12 ? `${year + 1}-01` : `${year}-${String(mon + 1).padStart(2, '0')}`;
  return { from: `${month}-01`, to: `${next}-01` };
}

function count(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new Error(`count out of range: ${v}`);
  return n;
}

/** Spend of one UTC calendar month per tenant, key and requested model, summed from the daily rollups. */
@Injectable()
export class ReportsService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async monthly(organisationId: string, month: string): Promise<MonthlyReportResponseDto> {
    const { from, to } = monthBounds(month);
    const rows = await this.dataSource
      .getRepository(UsageDailyRollupEntity)
      .createQueryBuilder('r')
      .select('r.tenantId', 'tenantId')
      .addSelect('r.keyId', 'keyId')
      .addSelect('r.model', 'model')
      // the names of the latest day that had them: a renamed tenant shows its current name
      .addSelect(
        '(array_agg(r.tenantName ORDER BY r.day DESC) FILTER (WHERE r.tenantName IS NOT NULL))[1]',
        'tenantName',
      )
      .addSelect(
        '(array_agg(r.keyName ORDER BY r.day DESC) FILTER (WHERE r.keyName IS NOT NULL))[1]',
        'keyName',
      )
      .addSelect('SUM(r.requests)::text', 'requests')
      .addSelect('SUM(r.unpricedRequests)::text', 'unpricedRequests')
      .addSelect('SUM(r.inputTokens)::text', 'inputTokens')
      .addSelect('SUM(r.outputTokens)::text', 'outputTokens')
      .addSelect('SUM(r.costNanoUsd)::text', 'costNanoUsd')
      .where('r.organisationId = :organisationId', { organisationId })
      .andWhere('r.day >= :from AND r.day < :to', { from, to })
      .groupBy('r.tenantId')
      .addGroupBy('r.keyId')
      .addGroupBy('r.model')
      .orderBy('r.tenantId')
      .addOrderBy('r.keyId')
      .addOrderBy('r.model')
      .getRawMany<LineRow>();

    let total = 0n;
    const lines: MonthlyReportLineDto[] = rows.map((r) => {
      const cost = BigInt(r.costNanoUsd);
      total += cost;
      return {
        tenantId: r.tenantId,
        tenantName: r.tenantName,
        keyId: r.keyId,
        keyName: r.keyName,
        model: r.model,
        requests: count(r.requests),
        unpricedRequests: count(r.unpricedRequests),
        inputTokens: count(r.inputTokens),
        outputTokens: count(r.outputTokens),
        costUsd: formatNanoAsUsd(cost),
      };
    });
    return {
      organisationId,
      month,
      currency: 'USD',
      totalCostUsd: formatNanoAsUsd(total),
      lines,
    };
  }
}
