import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Prepaid credits (grants, redemption codes) and budget alerts with their webhook settings. */
export class CreateCreditsAndAlerts1795700000000 implements MigrationInterface {
  name = 'CreateCreditsAndAlerts1795700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE credit_grants (
        id uuid NOT NULL,
        organisation_id text NOT NULL,
        amount_nano_usd bigint NOT NULL,
        source text NOT NULL,
        note text,
        redemption_code_id uuid,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL,
        CONSTRAINT pk_credit_grants PRIMARY KEY (id)
      )`);
    await q.query(
      `CREATE INDEX ix_credit_grants_org_created ON credit_grants (organisation_id, created_at DESC, id DESC)`,
    );
    await q.query(
      `CREATE UNIQUE INDEX uq_credit_grants_redemption_code ON credit_grants (redemption_code_id)`,
    );
    await q.query(`
      CREATE TABLE redemption_codes (
        id uuid NOT NULL,
        code_hash text NOT NULL,
        amount_nano_usd bigint NOT NULL,
        expires_at timestamptz,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL,
        redeemed_by_organisation_id text,
        redeemed_by text,
        redeemed_at timestamptz,
        CONSTRAINT pk_redemption_codes PRIMARY KEY (id),
        CONSTRAINT uq_redemption_codes_hash UNIQUE (code_hash)
      )`);
    await q.query(`
      CREATE TABLE alert_webhooks (
        organisation_id text NOT NULL,
        url text NOT NULL,
        secret text NOT NULL,
        updated_at timestamptz NOT NULL,
        CONSTRAINT pk_alert_webhooks PRIMARY KEY (organisation_id)
      )`);
    await q.query(`
      CREATE TABLE budget_alerts (
        id uuid NOT NULL,
        organisation_id text NOT NULL,
        scope_kind text NOT NULL,
        scope_id text NOT NULL,
        window_kind text NOT NULL,
        window_id text NOT NULL,
        threshold_percent integer NOT NULL,
        spent_nano_usd bigint NOT NULL,
        budget_nano_usd bigint NOT NULL,
        delivery text NOT NULL,
        delivery_attempts integer NOT NULL,
        created_at timestamptz NOT NULL,
        CONSTRAINT pk_budget_alerts PRIMARY KEY (id),
        CONSTRAINT uq_budget_alerts_once UNIQUE
          (organisation_id, scope_kind, scope_id, window_kind, window_id, threshold_percent)
      )`);
    await q.query(
      `CREATE INDEX ix_budget_alerts_org_created ON budget_alerts (organisation_id, created_at DESC, id DESC)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE budget_alerts`);
    await q.query(`DROP TABLE alert_webhooks`);
    await q.query(`DROP TABLE redemption_codes`);
    await q.query(`DROP TABLE credit_grants`);
  }
}
