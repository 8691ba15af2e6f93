import { ConfigValidationError, loadConfig } from '@tollgate/server-kit';
import {
  BillingConfig,
  BillingDatabaseConfig,
  BillingWorkerConfig,
  describeBillingConfig,
} from './billing.config';

const SECRET = 'x'.repeat(32);

describe('BillingConfig', () => {
  it('has the documented defaults', () => {
    const sut = loadConfig(BillingConfig, { JWT_SECRET: SECRET });
    expect(sut).toMatchObject({
      HOST: '127.0.0.1',
      PORT: 3002,
      HEALTH_PORT: 3012,
      LOG_LEVEL: 'log',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/tollgate',
      DB_SCHEMA: 'billing',
      REDIS_URL: 'redis://127.0.0.1:6379',
      TOLLGATE_REDIS_PREFIX: 'tg:',
      TOLLGATE_QUEUE_PREFIX: '{tollgate}',
      WORKER_CONCURRENCY: 16,
    });
  });

  it('reads numbers from the environment', () => {
    const sut = loadConfig(BillingConfig, {
      JWT_SECRET: SECRET,
      PORT: '4000',
      WORKER_CONCURRENCY: '3',
    });
    expect(sut.PORT).toBe(4000);
    expect(sut.WORKER_CONCURRENCY).toBe(3);
  });

  it.each([
    ['a missing JWT_SECRET', {}],
    ['a short JWT_SECRET', { JWT_SECRET: 'short' }],
    ['a bad port', { JWT_SECRET: SECRET, PORT: 'eighty' }],
    ['an unsafe schema name', { JWT_SECRET: SECRET, DB_SCHEMA: 'billing; drop' }],
    ['a bad log level', { JWT_SECRET: SECRET, LOG_LEVEL: 'chatty' }],
    ['a non-redis URL', { JWT_SECRET: SECRET, REDIS_URL: 'http://localhost' }],
  ])('refuses %s', (_what, env) => {
    expect(() => loadConfig(BillingConfig, env)).toThrow(ConfigValidationError);
  });

  it('lets the worker run without the JWT secret it never uses', () => {
    const sut = loadConfig(BillingWorkerConfig, {});
    expect(sut.WORKER_CONCURRENCY).toBe(16);
    expect(sut.HEALTH_PORT).toBe(3012);
  });

  it('lets the migrate entry run without the API secrets', () => {
    expect(loadConfig(BillingDatabaseConfig, {}).DB_SCHEMA).toBe('billing');
  });

  it('never describes the secret or URL passwords, nor the rest of the environment', () => {
    const config = loadConfig(BillingConfig, {
      UNRELATED_TOKEN: 'do-not-print',
      JWT_SECRET: SECRET,
      DATABASE_URL: 'postgres://billing:hunter2@db:5432/tollgate',
      REDIS_URL: 'redis://:redispass@cache:6379',
    });
    const text = JSON.stringify(describeBillingConfig(config));
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('redispass');
    expect(text).not.toContain('do-not-print');
    expect(text).toContain('db:5432');
    expect(text).toContain('"JWT_SECRET":"***"');
  });
});
