import { DEFAULT_REDIS_PREFIX } from '@tollgate/contracts';
import { Type } from 'class-transformer';
import {
  IsEmail,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
} from 'class-validator';

export const LOG_LEVELS = ['log', 'warn', 'error', 'debug'] as const;
export type AccountsLogLevel = (typeof LOG_LEVELS)[number];

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** What the migration runner needs: the database alone. */
export class DatabaseConfig {
  @IsString()
  @Matches(/^postgres(ql)?:\/\//, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/tollgate';

  @Matches(SCHEMA_NAME, { message: 'DB_SCHEMA must be a lower-case SQL identifier' })
  DB_SCHEMA = 'accounts';

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: AccountsLogLevel = 'log';
}

/** What the projection rebuild needs: the database, Redis and the encryption key. */
export class ProjectionConfig extends DatabaseConfig {
  @IsString()
  @Matches(/^rediss?:\/\//, { message: 'REDIS_URL must be a redis:// URL' })
  REDIS_URL = 'redis://127.0.0.1:6379';

  @IsString()
  @MaxLength(100)
  TOLLGATE_REDIS_PREFIX = DEFAULT_REDIS_PREFIX;

  /** 32 bytes, base64 or 64 hex characters (AES-256-GCM for channel credentials). */
  @Matches(/^([0-9a-fA-F]{64}|[A-Za-z0-9+/_-]{43}=?)$/, {
    message: 'TOLLGATE_ENCRYPTION_KEY must be 32 bytes as base64 or 64 hex characters',
  })
  TOLLGATE_ENCRYPTION_KEY!: string;
}

/** The accounts API process. */
export class AccountsConfig extends ProjectionConfig {
  @IsString()
  @IsNotEmpty()
  HOST = '127.0.0.1';

  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3001;

  @IsString()
  @MinLength(32, { message: 'JWT_SECRET must be at least 32 characters' })
  JWT_SECRET!: string;

  /** Platform operator bootstrapped at start (both or neither). */
  @IsOptional()
  @IsEmail()
  @MaxLength(254)
  TOLLGATE_ADMIN_EMAIL?: string;

  @ValidateIf((c: AccountsConfig) => c.TOLLGATE_ADMIN_EMAIL !== undefined)
  @IsString({ message: 'TOLLGATE_ADMIN_PASSWORD is required with TOLLGATE_ADMIN_EMAIL' })
  @MinLength(10, { message: 'TOLLGATE_ADMIN_PASSWORD must be at least 10 characters' })
  @MaxLength(200)
  TOLLGATE_ADMIN_PASSWORD?: string;

  /**
   * log2 of the scrypt cost N for new password hashes (r = 8, p = 1): memory per hash is
   * 2^N × 1 KiB, so 16 = 64 MiB, 17 = 128 MiB. At most UV_THREADPOOL_SIZE (4) hash at once.
   */
  @Type(() => Number)
  @IsInt()
  @Min(14)
  @Max(20)
  PASSWORD_HASH_COST = 16;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  LOGIN_MAX_FAILURES_PER_EMAIL = 10;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  LOGIN_MAX_FAILURES_PER_IP = 100;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(86400)
  LOGIN_FAILURE_WINDOW_SECONDS = 900;

  /** Express `trust proxy` setting, e.g. `loopback` or a hop count; unset trusts no proxy. */
  @IsOptional()
  @IsString()
  TRUST_PROXY?: string;
}

/** Never printed. */
export const ACCOUNTS_SECRET_KEYS: readonly (keyof AccountsConfig)[] = [
  'JWT_SECRET',
  'TOLLGATE_ENCRYPTION_KEY',
  'TOLLGATE_ADMIN_PASSWORD',
  'DATABASE_URL',
  'REDIS_URL',
];

export const ACCOUNTS_CONFIG = Symbol('ACCOUNTS_CONFIG');
