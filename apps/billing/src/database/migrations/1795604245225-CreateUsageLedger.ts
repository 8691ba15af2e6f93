import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The usage ledger (one row per request id) and its daily rollup. */
export class CreateUsageLedger1795604245225 implements MigrationInterface {
  name = 'CreateUsageLedger1795604245225';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE usage_ledger (
        request_id text NOT NULL,
        occurred_at timestamptz NOT NULL,
        organisation_id text NOT NULL,
        tenant_id text NOT NULL,
        tenant_name text,
        key_id text NOT NULL,
        key_name text,
        channel_id text,
        provider text,
        model text NOT NULL,
        upstream_model text,
        endpoint text NOT NULL,
        stream boolean NOT NULL,
        outcome text NOT NULL,
        http_status integer NOT NULL,
        error_code text,
        input_tokens integer NOT NULL,
        output_tokens integer NOT NULL,
        cached_input_tokens integer NOT NULL,
        tokens_estimated boolean NOT NULL,
        latency_ms integer NOT NULL,
        ttft_ms integer,
        attempts integer NOT NULL,
        reserved_cost_nano_usd bigint NOT NULL,
        cost_nano_usd bigint NOT NULL,
        priced boolean NOT NULL,
        price_version integer,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_usage_ledger PRIMARY KEY (request_id)
      )`);
    // newest-first listing of one organisation, keyset-paginated on (occurred_at, request_id)
    await q.query(
      `CREATE INDEX ix_usage_ledger_org_occurred ON usage_ledger (organisation_id, occurred_at DESC, request_id DESC)`,
    );
    await q.query(`
      CREATE TABLE usage_daily_rollup (
        organisation_id text NOT NULL,
        tenant_id text NOT NULL,
        key_id text NOT NULL,
        model text NOT NULL,
        day date NOT NULL,
        tenant_name text,
        key_name text,
        requests bigint NOT NULL,
        unpriced_requests bigint NOT NULL,
        input_tokens bigint NOT NULL,
        output_tokens bigint NOT NULL,
        cached_input_tokens bigint NOT NULL,
        cost_nano_usd bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_usage_daily_rollup PRIMARY KEY (organisation_id, tenant_id, key_id, model, day)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE usage_daily_rollup`);
    await q.query(`DROP TABLE usage_ledger`);
  }
}
