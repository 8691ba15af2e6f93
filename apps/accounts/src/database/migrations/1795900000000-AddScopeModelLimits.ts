import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Budgets and rate limits per public model of a tenant or key (one row per scope and model that
 * has ever had limits; null columns are unlimited).
 */
export class AddScopeModelLimits1795900000000 implements MigrationInterface {
  name = 'AddScopeModelLimits1795900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE scope_model_limits (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        organisation_id uuid NOT NULL,
        scope varchar(8) NOT NULL,
        scope_id uuid NOT NULL,
        model varchar(200) NOT NULL,
        daily_budget_nano bigint,
        monthly_budget_nano bigint,
        total_budget_nano bigint,
        rpm integer,
        tpm bigint,
        max_concurrent integer,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT scope_model_limits_pkey PRIMARY KEY (id),
        CONSTRAINT scope_model_limits_scope_model_key UNIQUE (scope, scope_id, model),
        CONSTRAINT scope_model_limits_scope_check CHECK (scope IN ('tenant', 'key')),
        CONSTRAINT scope_model_limits_non_negative_check CHECK (daily_budget_nano >= 0 AND monthly_budget_nano >= 0 AND total_budget_nano >= 0 AND rpm >= 0 AND tpm >= 0 AND max_concurrent >= 0),
        CONSTRAINT scope_model_limits_organisation_fk FOREIGN KEY (organisation_id)
          REFERENCES organisations (id) ON DELETE CASCADE
      )`);
    await q.query(
      `CREATE INDEX scope_model_limits_organisation_idx ON scope_model_limits (organisation_id)`,
    );
    await q.query(`CREATE INDEX scope_model_limits_updated_idx ON scope_model_limits (updated_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE scope_model_limits`);
  }
}
