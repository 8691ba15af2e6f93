import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The versioned price book: one row per (model, version), never updated. */
export class CreatePriceBook1795604245224 implements MigrationInterface {
  name = 'CreatePriceBook1795604245224';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE prices (
        model text NOT NULL,
        version integer NOT NULL,
        input_nano_usd_per_mtok bigint NOT NULL,
        output_nano_usd_per_mtok bigint NOT NULL,
        effective_from timestamptz NOT NULL,
        created_by text,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_prices PRIMARY KEY (model, version)
      )`);
    await q.query(`CREATE INDEX ix_prices_model_effective_from ON prices (model, effective_from)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE prices`);
  }
}
