import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The accounts tables. Table names are unqualified: the data source's search_path points at the
 * service's schema (`DB_SCHEMA`). Timestamps keep millisecond precision (see database/columns.ts).
 */
export class CreateAccountsTables1795600000000 implements MigrationInterface {
  name = 'CreateAccountsTables1795600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE organisations (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        name varchar(120) NOT NULL,
        billing_time_zone varchar(64) NOT NULL DEFAULT 'UTC',
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT organisations_pkey PRIMARY KEY (id)
      )`);

    await q.query(`
      CREATE TABLE users (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        email varchar(254) NOT NULL,
        password_hash text NOT NULL,
        is_platform_admin boolean NOT NULL DEFAULT false,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT users_pkey PRIMARY KEY (id)
      )`);
    await q.query(`CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email))`);

    await q.query(`
      CREATE TABLE memberships (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        organisation_id uuid NOT NULL,
        user_id uuid NOT NULL,
        role varchar(16) NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT memberships_pkey PRIMARY KEY (id),
        CONSTRAINT memberships_organisation_user_key UNIQUE (organisation_id, user_id),
        CONSTRAINT memberships_role_check CHECK (role IN ('owner', 'admin', 'finance', 'member')),
        CONSTRAINT memberships_organisation_fk FOREIGN KEY (organisation_id)
          REFERENCES organisations (id) ON DELETE CASCADE,
        CONSTRAINT memberships_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX memberships_user_idx ON memberships (user_id)`);

    await q.query(`
      CREATE TABLE tenants (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        organisation_id uuid NOT NULL,
        name varchar(120) NOT NULL,
        tenant_group varchar(63) NOT NULL DEFAULT 'default',
        allow_fallback boolean NOT NULL DEFAULT true,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT tenants_pkey PRIMARY KEY (id),
        CONSTRAINT tenants_organisation_fk FOREIGN KEY (organisation_id)
          REFERENCES organisations (id) ON DELETE CASCADE
      )`);
    await q.query(
      `CREATE INDEX tenants_organisation_created_idx ON tenants (organisation_id, created_at, id)`,
    );

    await q.query(`
      CREATE TABLE api_keys (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        organisation_id uuid NOT NULL,
        name varchar(120) NOT NULL,
        prefix varchar(16) NOT NULL,
        secret_hash char(64) NOT NULL,
        models text[],
        expires_at timestamptz(3),
        revoked_at timestamptz(3),
        allow_fallback boolean NOT NULL DEFAULT true,
        created_by uuid,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT api_keys_pkey PRIMARY KEY (id),
        CONSTRAINT api_keys_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
        CONSTRAINT api_keys_organisation_fk FOREIGN KEY (organisation_id)
          REFERENCES organisations (id) ON DELETE CASCADE,
        CONSTRAINT api_keys_created_by_fk FOREIGN KEY (created_by) REFERENCES users (id) ON DELETE SET NULL
      )`);
    await q.query(`CREATE UNIQUE INDEX api_keys_secret_hash_key ON api_keys (secret_hash)`);
    await q.query(
      `CREATE INDEX api_keys_tenant_created_idx ON api_keys (tenant_id, created_at, id)`,
    );
    await q.query(`CREATE INDEX api_keys_organisation_idx ON api_keys (organisation_id)`);

    await q.query(`
      CREATE TABLE channels (
        id uuid NOT NULL,
        organisation_id uuid,
        name varchar(120) NOT NULL,
        type varchar(32) NOT NULL,
        base_url varchar(500) NOT NULL,
        encrypted_api_key text NOT NULL,
        models text[] NOT NULL,
        model_mapping jsonb NOT NULL DEFAULT '{}'::jsonb,
        priority integer NOT NULL DEFAULT 0,
        weight integer NOT NULL DEFAULT 1,
        groups text[] NOT NULL DEFAULT '{default}'::text[],
        status varchar(16) NOT NULL DEFAULT 'enabled',
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT channels_pkey PRIMARY KEY (id),
        CONSTRAINT channels_status_check CHECK (status IN ('enabled', 'disabled')),
        CONSTRAINT channels_weight_check CHECK (weight >= 0),
        CONSTRAINT channels_organisation_fk FOREIGN KEY (organisation_id)
          REFERENCES organisations (id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX channels_created_idx ON channels (created_at, id)`);

    await q.query(`
      CREATE TABLE refresh_tokens (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL,
        family_id uuid NOT NULL,
        token_hash char(64) NOT NULL,
        expires_at timestamptz(3) NOT NULL,
        rotated_at timestamptz(3),
        revoked_at timestamptz(3),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT refresh_tokens_pkey PRIMARY KEY (id),
        CONSTRAINT refresh_tokens_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
      )`);
    await q.query(
      `CREATE UNIQUE INDEX refresh_tokens_token_hash_key ON refresh_tokens (token_hash)`,
    );
    await q.query(`CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id)`);
    await q.query(`CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id)`);

    await q.query(`
      CREATE TABLE audit_log (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        actor_user_id uuid,
        organisation_id uuid,
        action varchar(64) NOT NULL,
        target_type varchar(32),
        target_id varchar(64),
        details jsonb NOT NULL DEFAULT '{}'::jsonb,
        at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT audit_log_pkey PRIMARY KEY (id)
      )`);
    await q.query(`CREATE INDEX audit_log_organisation_at_idx ON audit_log (organisation_id, at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'audit_log',
      'refresh_tokens',
      'channels',
      'api_keys',
      'tenants',
      'memberships',
      'users',
      'organisations',
    ]) {
      await q.query(`DROP TABLE ${table}`);
    }
  }
}
