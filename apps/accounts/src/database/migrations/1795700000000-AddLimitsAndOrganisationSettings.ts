import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Budgets and rate limits per organisation, tenant and key (one row per scope that has ever had
 * limits; null columns are unlimited), and the organisation's admission fail-open switch.
 */
export class AddLimitsAndOrganisationSettings1795700000000 implements MigrationInterface {
  name = 'AddLimitsAndOrganisationSettings1795700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE organisations ADD COLUMN admission_fail_open boolean NOT NULL DEFAULT false`,
    );
    await q.query(`
      CREATE TABLE scope_limits (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        organisation_id uuid NOT NULL,
        scope varchar(8) NOT NULL,
        scope_id uuid NOT NULL,
        daily_budget_nano bigint,
        monthly_budget_nano bigint,
        total_budget_nano bigint,
        rpm integer,
        tpm bigint,
        max_concurrent integer,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT scope_limits_pkey PRIMARY KEY (id),
        CONSTRAINT scope_limits_scope_key UNIQUE (scope, scope_id),
        CONSTRAINT scope_limits_scope_check CHECK (scope IN ('org', 'tenant', 'key')),
        CONSTRAINT scope_limits_non_negative_check CHECK (daily_budget_nano >= 0 AND monthly_budget_nano >= 0 AND total_budget_nano >= 0 AND rpm >= 0 AND tpm >= 0 AND max_concurrent >= 0),
        CONSTRAINT scope_limits_organisation_fk FOREIGN KEY (organisation_id)
          REFERENCES organisations (id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX scope_limits_organisation_idx ON scope_limits (organisation_id)`);
    await q.query(`CREATE INDEX scope_limits_updated_idx ON scope_limits (updated_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE scope_limits`);
    await q.query(`ALTER TABLE organisations DROP COLUMN admission_fail_open`);
  }
}
