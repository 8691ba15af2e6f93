import { ConfigValidationError } from '@tollgate/server-kit';
import { randomBytes } from 'node:crypto';
import { describeProxyConfig, loadProxyConfig } from './proxy.config';

const KEY = randomBytes(32).toString('base64');

describe('loadProxyConfig', () => {
  it('applies the documented defaults', () => {
    const sut = loadProxyConfig({ TOLLGATE_ENCRYPTION_KEY: KEY });
    expect(sut).toMatchObject({
      HOST: '127.0.0.1',
      PORT: 8080,
      REDIS_URL: 'redis://127.0.0.1:6379',
      TOLLGATE_REDIS_PREFIX: 'tg:',
      TOLLGATE_QUEUE_PREFIX: '{tollgate}',
      MAX_BODY_BYTES: 10 * 1024 * 1024,
      FORWARD_HEADER_PREFIXES: 'x-mock-',
      ADMISSION_ENABLED: 'true',
      ADMISSION_PROMPT_ESTIMATE: 'bound',
      ADMISSION_DEFAULT_MAX_OUTPUT_TOKENS: 4096,
      ADMISSION_RESERVATION_TTL_MS: 900_000,
      ADMISSION_SWEEP_INTERVAL_MS: 15_000,
      ADMISSION_LEASE_MS: 1000,
      ADMISSION_LEASE_HEADROOM: 8,
      ADMISSION_LEASE_MAX_REQUESTS: 1000,
    });
  });

  it('refuses admission settings that would break reservations', () => {
    const env = { TOLLGATE_ENCRYPTION_KEY: KEY };
    expect(() => loadProxyConfig({ ...env, ADMISSION_DEFAULT_MAX_OUTPUT_TOKENS: '0' })).toThrow(
      /ADMISSION_DEFAULT_MAX_OUTPUT_TOKENS/,
    );
    expect(() => loadProxyConfig({ ...env, ADMISSION_RESERVATION_TTL_MS: '10' })).toThrow(
      /ADMISSION_RESERVATION_TTL_MS/,
    );
    expect(() => loadProxyConfig({ ...env, ADMISSION_SWEEP_INTERVAL_MS: 'often' })).toThrow(
      /ADMISSION_SWEEP_INTERVAL_MS/,
    );
    // a lease counts its requests in the next one-second bucket: it may not live longer
    expect(() => loadProxyConfig({ ...env, ADMISSION_LEASE_MS: '1001' })).toThrow(
      /ADMISSION_LEASE_MS/,
    );
    expect(() => loadProxyConfig({ ...env, ADMISSION_LEASE_MAX_REQUESTS: '1' })).toThrow(
      /ADMISSION_LEASE_MAX_REQUESTS/,
    );
    expect(() => loadProxyConfig({ ...env, ADMISSION_ENABLED: 'yes' })).toThrow(
      /ADMISSION_ENABLED/,
    );
    expect(() => loadProxyConfig({ ...env, ADMISSION_PROMPT_ESTIMATE: 'guess' })).toThrow(
      /ADMISSION_PROMPT_ESTIMATE/,
    );
  });

  it('keeps the four-characters-per-token prompt estimate available', () => {
    expect(
      loadProxyConfig({ TOLLGATE_ENCRYPTION_KEY: KEY, ADMISSION_PROMPT_ESTIMATE: 'heuristic' })
        .ADMISSION_PROMPT_ESTIMATE,
    ).toBe('heuristic');
  });

  it('converts numbers from the environment', () => {
    expect(
      loadProxyConfig({
        TOLLGATE_ENCRYPTION_KEY: KEY,
        PORT: '9090',
        UPSTREAM_TOTAL_TIMEOUT_MS: '1500',
      }),
    ).toMatchObject({
      PORT: 9090,
      UPSTREAM_TOTAL_TIMEOUT_MS: 1500,
    });
  });

  it('requires a 32-byte encryption key', () => {
    expect(() => loadProxyConfig({})).toThrow(ConfigValidationError);
    expect(() => loadProxyConfig({ TOLLGATE_ENCRYPTION_KEY: 'short' })).toThrow(
      /TOLLGATE_ENCRYPTION_KEY/,
    );
    expect(() => loadProxyConfig({ TOLLGATE_ENCRYPTION_KEY: 'ab'.repeat(32) })).not.toThrow();
  });

  it('refuses nonsense', () => {
    expect(() => loadProxyConfig({ TOLLGATE_ENCRYPTION_KEY: KEY, PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadProxyConfig({ TOLLGATE_ENCRYPTION_KEY: KEY, LOG_LEVEL: 'chatty' })).toThrow(
      /LOG_LEVEL/,
    );
  });

  it('masks secrets when described', () => {
    const described = describeProxyConfig(loadProxyConfig({ TOLLGATE_ENCRYPTION_KEY: KEY }));
    expect(described.TOLLGATE_ENCRYPTION_KEY).toBe('***');
    expect(JSON.stringify(described)).not.toContain(KEY);
  });
});
