import { ConfigValidationError, describeConfig, loadConfig } from '@tollgate/server-kit';
import { ACCOUNTS_SECRET_KEYS, AccountsConfig, ProjectionConfig } from './accounts.config';

const valid = {
  JWT_SECRET: 'x'.repeat(32),
  TOLLGATE_ENCRYPTION_KEY: 'ab'.repeat(32),
};

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(AccountsConfig, env);
  } catch (e) {
    if (e instanceof ConfigValidationError) return e.problems;
    throw e;
  }
  return [];
}

describe('AccountsConfig', () => {
  it('applies the documented defaults', () => {
    const sut = loadConfig(AccountsConfig, valid);

    expect(sut).toMatchObject({
      HOST: '127.0.0.1',
      PORT: 3001,
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/tollgate',
      DB_SCHEMA: 'accounts',
      REDIS_URL: 'redis://127.0.0.1:6379',
      TOLLGATE_REDIS_PREFIX: 'tg:',
      LOG_LEVEL: 'log',
      PASSWORD_HASH_COST: 16,
      LOGIN_MAX_FAILURES_PER_EMAIL: 10,
      LOGIN_FAILURE_WINDOW_SECONDS: 900,
    });
  });

  it('converts numbers from the environment', () => {
    expect(loadConfig(AccountsConfig, { ...valid, PORT: '0' }).PORT).toBe(0);
  });

  it('requires a JWT secret of at least 32 characters', () => {
    expect(problemsOf({ ...valid, JWT_SECRET: 'short' }).join()).toMatch(/JWT_SECRET/);
    expect(problemsOf({ TOLLGATE_ENCRYPTION_KEY: valid.TOLLGATE_ENCRYPTION_KEY }).join()).toMatch(
      /JWT_SECRET/,
    );
  });

  it('requires a 32-byte encryption key, hex or base64', () => {
    expect(problemsOf({ JWT_SECRET: valid.JWT_SECRET }).join()).toMatch(/TOLLGATE_ENCRYPTION_KEY/);
    expect(problemsOf({ ...valid, TOLLGATE_ENCRYPTION_KEY: 'abcd' }).join()).toMatch(
      /TOLLGATE_ENCRYPTION_KEY/,
    );
    expect(
      problemsOf({ ...valid, TOLLGATE_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64') }),
    ).toEqual([]);
  });

  it('refuses an admin email without a password, and a bad schema name', () => {
    expect(problemsOf({ ...valid, TOLLGATE_ADMIN_EMAIL: 'ops@example.test' }).join()).toMatch(
      /TOLLGATE_ADMIN_PASSWORD/,
    );
    expect(problemsOf({ ...valid, DB_SCHEMA: 'accounts; drop' }).join()).toMatch(/DB_SCHEMA/);
  });

  it('lets the rebuild run without a JWT secret', () => {
    expect(() =>
      loadConfig(ProjectionConfig, { TOLLGATE_ENCRYPTION_KEY: valid.TOLLGATE_ENCRYPTION_KEY }),
    ).not.toThrow();
  });

  it('masks secrets when described', () => {
    const sut = describeConfig(
      loadConfig(AccountsConfig, {
        ...valid,
        TOLLGATE_ADMIN_EMAIL: 'ops@example.test',
        TOLLGATE_ADMIN_PASSWORD: 'p'.repeat(12),
      }),
      ACCOUNTS_SECRET_KEYS,
    );

    expect(JSON.stringify(sut)).not.toContain(valid.JWT_SECRET);
    expect(JSON.stringify(sut)).not.toContain(valid.TOLLGATE_ENCRYPTION_KEY);
    expect(JSON.stringify(sut)).not.toContain('p'.repeat(12));
  });
});
