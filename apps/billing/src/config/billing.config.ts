import { DEFAULT_QUEUE_PREFIX, DEFAULT_REDIS_PREFIX } from '@tollgate/contracts';
import { describeConfig } from '@tollgate/server-kit';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
} from 'class-validator';

export const LOG_LEVELS = ['log', 'warn', 'error', 'debug'] as const;
export type BillingLogLevel = (typeof LOG_LEVELS)[number];

/** What every billing entry needs: the database (the migrate entry needs nothing else). */
export class BillingDatabaseConfig {
  @IsIn(LOG_LEVELS)
  LOG_LEVEL: BillingLogLevel = 'log';

  @IsString()
  @Matches(/^postgres(ql)?:\/\//, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/tollgate';

  /** the PostgreSQL schema billing owns; every table lives in it */
  @Matches(/^[a-z_][a-z0-9_]{0,62}$/, { message: 'DB_SCHEMA must be a lower-case SQL identifier' })
  DB_SCHEMA = 'billing';

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  DB_POOL_SIZE = 10;
}

/** What the worker needs (it verifies no tokens, so it gets no JWT secret), validated once at boot. */
export class BillingWorkerConfig extends BillingDatabaseConfig {
  @IsString()
  @IsNotEmpty()
  HOST = '127.0.0.1';

  /** the worker's health endpoint */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  HEALTH_PORT = 3012;

  @IsString()
  @Matches(/^rediss?:\/\//, { message: 'REDIS_URL must be a redis:// or rediss:// URL' })
  REDIS_URL = 'redis://127.0.0.1:6379';

  @IsString()
  @IsNotEmpty()
  TOLLGATE_QUEUE_PREFIX = DEFAULT_QUEUE_PREFIX;

  /** prefix of the Redis projections and admission counters (the worker reads and repairs them) */
  @IsString()
  TOLLGATE_REDIS_PREFIX = DEFAULT_REDIS_PREFIX;

  /** first delay of the alert webhook retries (ms); doubles per attempt */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(600_000)
  ALERT_WEBHOOK_BACKOFF_MS = 5_000;

  /** delivery attempts of one alert webhook before it is marked failed */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(20)
  ALERT_WEBHOOK_ATTEMPTS = 8;

  /** how long one alert webhook POST may take before it counts as a failed attempt (ms) */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(120_000)
  ALERT_WEBHOOK_TIMEOUT_MS = 10_000;

  /**
   * `true` lets alert webhooks reach loopback, private and link-local addresses (tests, a private
   * deployment); by default they may only go to public addresses.
   */
  @IsIn(['true', 'false'])
  ALERT_WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' | 'false' = 'false';

  /**
   * 32 bytes, base64 or 64 hex characters (AES-256-GCM): seals the alert webhook signing secrets at
   * rest (the same key accounts uses for channel credentials). Without it no webhook can be set.
   */
  @IsOptional()
  @Matches(/^([0-9a-fA-F]{64}|[A-Za-z0-9+/_-]{43}=?)$/, {
    message: 'TOLLGATE_ENCRYPTION_KEY must be 32 bytes as base64 or 64 hex characters',
  })
  TOLLGATE_ENCRYPTION_KEY?: string;

  /** how often the worker reconciles the Redis spend counters with the ledger (ms; 0 = never) */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(86_400_000)
  RECONCILE_INTERVAL_MS = 300_000;

  /** usage events the worker prices and writes at once */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(256)
  WORKER_CONCURRENCY = 16;
}

/** What the API needs, validated once at boot (a superset of the worker's, so one environment serves both). */
export class BillingConfig extends BillingWorkerConfig {
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3002;

  /** HS256 secret shared with accounts, which signs the access tokens billing verifies */
  @IsString()
  @MinLength(32)
  JWT_SECRET!: string;
}

export const BILLING_CONFIG = Symbol('BILLING_CONFIG');

function redactUrl(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    const u = new URL(value);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '***';
  }
}

/** Every variable billing reads; only these are ever described (loadConfig keeps the rest of the environment). */
export const BILLING_ENV_KEYS = [
  'HOST',
  'PORT',
  'HEALTH_PORT',
  'LOG_LEVEL',
  'DATABASE_URL',
  'DB_SCHEMA',
  'DB_POOL_SIZE',
  'REDIS_URL',
  'TOLLGATE_REDIS_PREFIX',
  'TOLLGATE_QUEUE_PREFIX',
  'JWT_SECRET',
  'WORKER_CONCURRENCY',
  'ALERT_WEBHOOK_BACKOFF_MS',
  'ALERT_WEBHOOK_ATTEMPTS',
  'ALERT_WEBHOOK_TIMEOUT_MS',
  'ALERT_WEBHOOK_ALLOW_PRIVATE_NETWORKS',
  'TOLLGATE_ENCRYPTION_KEY',
  'RECONCILE_INTERVAL_MS',
] as const satisfies readonly (keyof BillingConfig)[];

/** The config as it may be logged: billing's own keys, secrets masked, passwords cut out of URLs. */
export function describeBillingConfig(config: BillingDatabaseConfig): Record<string, unknown> {
  const described = describeConfig(config as BillingConfig, [
    'JWT_SECRET',
    'TOLLGATE_ENCRYPTION_KEY',
  ]);
  const out: Record<string, unknown> = {};
  for (const key of BILLING_ENV_KEYS) {
    if (!(key in described)) continue;
    out[key] =
      key === 'DATABASE_URL' || key === 'REDIS_URL' ? redactUrl(described[key]) : described[key];
  }
  return out;
}
