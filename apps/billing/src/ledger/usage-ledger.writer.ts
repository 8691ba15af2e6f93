import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { UsageRecordedJobData } from '@tollgate/contracts';
import { computeCostNano } from '@tollgate/pricing';
import { DataSource } from 'typeorm';
import { PriceLookupService } from '../prices/price-lookup.service';

export interface UsageWriteResult {
  /** false when the ledger already held this request id: nothing was changed */
  inserted: boolean;
  priced: boolean;
  costNanoUsd: string;
  priceVersion: number | null;
}

/*
 * One statement, hence one transaction: the ledger insert is skipped on a known request id, and the
 * rollup is fed only from the rows that insert returned, so a replayed event changes nothing at all.
 */
const RECORD_USAGE_SQL = `
WITH inserted AS (
  INSERT INTO usage_ledger (
    request_id, occurred_at, organisation_id, tenant_id, tenant_name, key_id, key_name, channel_id,
    provider, model, upstream_model, endpoint, stream, outcome, http_status, error_code, input_tokens,
    output_tokens, cached_input_tokens, tokens_estimated, latency_ms, ttft_ms, attempts,
    reserved_cost_nano_usd, cost_nano_usd, priced, price_version
  ) VALUES (
    $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21,
    $22, $23, $24, $25, $26, $27
  )
  ON CONFLICT (request_id) DO NOTHING
  RETURNING organisation_id, tenant_id, tenant_name, key_id, key_name, model, occurred_at, input_tokens,
    output_tokens, cached_input_tokens, cost_nano_usd, priced
), rolled AS (
  INSERT INTO usage_daily_rollup AS r (
    organisation_id, tenant_id, key_id, model, day, tenant_name, key_name, requests, unpriced_requests,
    input_tokens, output_tokens, cached_input_tokens, cost_nano_usd
  )
  SELECT organisation_id, tenant_id, key_id, model, (occurred_at AT TIME ZONE 'UTC')::date, tenant_name,
    key_name, 1, CASE WHEN priced THEN 0 ELSE 1 END, input_tokens, output_tokens, cached_input_tokens,
    cost_nano_usd
  FROM inserted
  ON CONFLICT (organisation_id, tenant_id, key_id, model, day) DO UPDATE SET
    tenant_name = COALESCE(EXCLUDED.tenant_name, r.tenant_name),
    key_name = COALESCE(EXCLUDED.key_name, r.key_name),
    requests = r.requests + EXCLUDED.requests,
    unpriced_requests = r.unpriced_requests + EXCLUDED.unpriced_requests,
    input_tokens = r.input_tokens + EXCLUDED.input_tokens,
    output_tokens = r.output_tokens + EXCLUDED.output_tokens,
    cached_input_tokens = r.cached_input_tokens + EXCLUDED.cached_input_tokens,
    cost_nano_usd = r.cost_nano_usd + EXCLUDED.cost_nano_usd,
    updated_at = now()
  RETURNING 1
)
SELECT (SELECT count(*) FROM inserted)::int AS inserted, (SELECT count(*) FROM rolled)::int AS rolled`;

/** Prices usage events and writes them to the ledger, idempotently. */
@Injectable()
export class UsageLedgerWriter {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly prices: PriceLookupService,
  ) {}

  async record(event: UsageRecordedJobData): Promise<UsageWriteResult> {
    const occurredAt = new Date(event.occurredAt);
    const price = await this.prices.priceAt(event.model, occurredAt);
    const cost = price
      ? computeCostNano(
          {
            inputTokens: event.inputTokens,
            outputTokens: event.outputTokens,
            cachedInputTokens: event.cachedInputTokens,
          },
          {
            inputNanoUsdPerMTok: price.inputNanoUsdPerMTok,
            outputNanoUsdPerMTok: price.outputNanoUsdPerMTok,
          },
        )
      : 0n;
    const rows = (await this.dataSource.query(RECORD_USAGE_SQL, [
      event.requestId,
      occurredAt,
      event.organisationId,
      event.tenantId,
      event.tenantName ?? null,
      event.keyId,
      event.keyName ?? null,
      event.channelId ?? null,
      event.provider ?? null,
      event.model,
      event.upstreamModel ?? null,
      event.endpoint,
      event.stream,
      event.outcome,
      event.httpStatus,
      event.errorCode ?? null,
      event.inputTokens,
      event.outputTokens,
      event.cachedInputTokens,
      event.tokensEstimated,
      event.latencyMs,
      event.ttftMs ?? null,
      event.attempts,
      event.reservedCostNanoUsd,
      cost.toString(),
      price !== null,
      price?.version ?? null,
    ])) as { inserted: number }[];
    return {
      inserted: rows[0]?.inserted === 1,
      priced: price !== null,
      costNanoUsd: cost.toString(),
      priceVersion: price?.version ?? null,
    };
  }
}
