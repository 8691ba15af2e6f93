import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Channel settings for every provider format (Azure api-version, extra headers, timeouts), why a
 * channel is disabled (and which credential the provider refused), and the channel events
 * operators read: refused credentials reported by the proxy and admin-run tests.
 */
export class AddChannelSettingsAndEvents1795800000000 implements MigrationInterface {
  name = 'AddChannelSettingsAndEvents1795800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE channels
        ADD COLUMN status_reason varchar(32),
        ADD COLUMN rejected_credential varchar(64),
        ADD COLUMN api_version varchar(40),
        ADD COLUMN extra_headers jsonb NOT NULL DEFAULT '{}'::jsonb,
        ADD COLUMN connect_timeout_ms integer,
        ADD COLUMN first_byte_timeout_ms integer,
        ADD COLUMN total_timeout_ms integer,
        ADD CONSTRAINT channels_type_check CHECK (type IN ('openai', 'azure', 'anthropic', 'gemini')),
        ADD CONSTRAINT channels_timeouts_check CHECK (connect_timeout_ms > 0 AND first_byte_timeout_ms > 0 AND total_timeout_ms > 0)`);
    // channels disabled before reasons were kept were disabled by an administrator
    await q.query(`UPDATE channels SET status_reason = 'admin' WHERE status = 'disabled'`);
    await q.query(`
      CREATE TABLE channel_events (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        channel_id uuid NOT NULL,
        kind varchar(32) NOT NULL,
        detail jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT channel_events_pkey PRIMARY KEY (id),
        CONSTRAINT channel_events_kind_check CHECK (kind IN ('credentials_rejected', 'test')),
        CONSTRAINT channel_events_channel_fk FOREIGN KEY (channel_id)
          REFERENCES channels (id) ON DELETE CASCADE
      )`);
    await q.query(
      `CREATE INDEX channel_events_channel_created_idx ON channel_events (channel_id, created_at, id)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE channel_events`);
    await q.query(`
      ALTER TABLE channels
        DROP CONSTRAINT channels_timeouts_check,
        DROP CONSTRAINT channels_type_check,
        DROP COLUMN total_timeout_ms,
        DROP COLUMN first_byte_timeout_ms,
        DROP COLUMN connect_timeout_ms,
        DROP COLUMN extra_headers,
        DROP COLUMN api_version,
        DROP COLUMN rejected_credential,
        DROP COLUMN status_reason`);
  }
}
