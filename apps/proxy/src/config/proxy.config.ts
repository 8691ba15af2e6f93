import { DEFAULT_QUEUE_PREFIX, DEFAULT_REDIS_PREFIX } from '@tollgate/contracts';
import { describeConfig, loadConfig, SecretBox } from '@tollgate/server-kit';
import {
  IsIn,
  IsInt,
  IsNotEmpty,
  IsString,
  Matches,
  Max,
  Min,
  Validate,
  type ValidatorConstraintInterface,
  ValidatorConstraint,
} from 'class-validator';

@ValidatorConstraint({ name: 'encryptionKey' })
class EncryptionKeyConstraint implements ValidatorConstraintInterface {
  validate(v: unknown): boolean {
    if (typeof v !== 'string') return false;
    try {
      SecretBox.parseKey(v);
      return true;
    } catch {
      return false;
    }
  }
  defaultMessage(): string {
    return 'TOLLGATE_ENCRYPTION_KEY must be 32 bytes, base64 or 64 hex characters';
  }
}

/**
 * The proxy's environment, validated once at boot (see README.md for the table). The explicit
 * property types are what lets loadConfig convert the environment's strings to numbers.
 */
export class ProxyConfig {
  @IsString() @IsNotEmpty() HOST: string = '127.0.0.1';
  @IsInt() @Min(0) @Max(65535) PORT: number = 8080;
  @IsIn(['log', 'warn', 'error', 'debug']) LOG_LEVEL: 'log' | 'warn' | 'error' | 'debug' = 'log';

  @Matches(/^rediss?:\/\//) REDIS_URL: string = 'redis://127.0.0.1:6379';
  @IsString() @IsNotEmpty() TOLLGATE_REDIS_PREFIX: string = DEFAULT_REDIS_PREFIX;
  @IsString() @IsNotEmpty() TOLLGATE_QUEUE_PREFIX: string = DEFAULT_QUEUE_PREFIX;
  /** secret: decrypts channel credentials */
  @Validate(EncryptionKeyConstraint) TOLLGATE_ENCRYPTION_KEY!: string;

  /** largest request body accepted (413 above) */
  @IsInt() @Min(1024) MAX_BODY_BYTES: number = 10 * 1024 * 1024;
  /** until the provider's first byte (for a non-streamed call that is its whole answer) */
  @IsInt() @Min(1) UPSTREAM_FIRST_BYTE_TIMEOUT_MS: number = 120_000;
  /** whole upstream exchange, streams included */
  @IsInt() @Min(1) UPSTREAM_TOTAL_TIMEOUT_MS: number = 600_000;
  @IsInt() @Min(1) UPSTREAM_CONNECT_TIMEOUT_MS: number = 5_000;
  /** keep-alive connections per provider origin */
  @IsInt() @Min(1) @Max(10_000) UPSTREAM_CONNECTIONS: number = 256;
  /** comma-separated prefixes of client request headers forwarded to providers (the mock's controls by default) */
  @IsString() FORWARD_HEADER_PREFIXES: string = 'x-mock-';

  /** a cached key record is re-read after this long even without a change notification */
  @IsInt() @Min(100) KEY_CACHE_TTL_MS: number = 60_000;
  /** how long "no such key" is remembered */
  @IsInt() @Min(0) KEY_CACHE_NEGATIVE_TTL_MS: number = 2_000;
  @IsInt() @Min(100) KEY_CACHE_MAX_ENTRIES: number = 100_000;
  @IsInt() @Min(50) REDIS_COMMAND_TIMEOUT_MS: number = 1_000;

  /** usage events held in memory while Redis cannot take them (oldest dropped beyond) */
  @IsInt() @Min(100) USAGE_BUFFER_MAX_EVENTS: number = 100_000;
  /** how long events gather before one batched enqueue */
  @IsInt() @Min(0) @Max(1000) USAGE_FLUSH_INTERVAL_MS: number = 10;
  /** attempts billing's worker gets for one event (exponential back-off) */
  @IsInt() @Min(1) @Max(100) USAGE_JOB_ATTEMPTS: number = 10;

  /** provider calls per client request, the first included (fallback to other channels) */
  @IsInt() @Min(1) @Max(10) ROUTING_MAX_ATTEMPTS: number = 3;
  /** when the only channel left is cooling down after a 429, wait at most this long for it instead of answering 429 */
  @IsInt() @Min(0) @Max(60_000) ROUTING_MAX_RETRY_WAIT_MS: number = 2_000;
  /** how often each replica re-reads the shared channel health as a safety net for missed notifications */
  @IsInt() @Min(100) ROUTING_STATE_REFRESH_MS: number = 5_000;
  /** failures (connect, timeout, 5xx, malformed answer) within the window that open a channel's circuit */
  @IsInt() @Min(1) BREAKER_FAILURE_THRESHOLD: number = 5;
  @IsInt() @Min(100) BREAKER_WINDOW_MS: number = 30_000;
  /** how long an open circuit stays open before one probe request is let through */
  @IsInt() @Min(100) BREAKER_COOLDOWN_MS: number = 30_000;

  /**
   * `false` turns admission off: no budget, rate limit, concurrency limit or prepaid balance is
   * enforced and no Redis round trip is made for it (for deployments that meter but never limit)
   */
  @IsIn(['true', 'false']) ADMISSION_ENABLED: 'true' | 'false' = 'true';
  /**
   * the prompt part of a reservation: `bound` (an upper bound of what a provider can count, so a
   * request never settles above its reservation) or `heuristic` (four characters per token:
   * reserves less, but text with more tokens per character or images can overspend a budget)
   */
  @IsIn(['bound', 'heuristic']) ADMISSION_PROMPT_ESTIMATE: 'bound' | 'heuristic' = 'bound';
  /** output tokens reserved for a request that sets no `max_tokens` (times its `n`) */
  @IsInt() @Min(1) @Max(10_000_000) ADMISSION_DEFAULT_MAX_OUTPUT_TOKENS: number = 4096;
  /**
   * how long a reservation is held before the sweeper may release it (a replica died before
   * settling); longer than the slowest request (first-byte timeouts of retries plus a whole stream)
   */
  @IsInt() @Min(1000) @Max(7 * 24 * 3_600_000) ADMISSION_RESERVATION_TTL_MS: number = 900_000;
  /** how often each replica releases expired reservations */
  @IsInt() @Min(100) ADMISSION_SWEEP_INTERVAL_MS: number = 15_000;
  /**
   * leases: for a key and model far from every limit, one admission script reserves for several
   * of this replica's next requests at once, which are then admitted without a Redis round trip;
   * a lease hands out requests for this long (ms, at most one rate bucket, 1000). 0: every request
   * runs the script itself
   */
  @IsInt() @Min(0) @Max(1000) ADMISSION_LEASE_MS: number = 1000;
  /**
   * leases are taken only while every limit of the key, tenant, organisation (and model) still
   * leaves room for this many more leases of the same size
   */
  @IsInt() @Min(1) @Max(1000) ADMISSION_LEASE_HEADROOM: number = 8;
  /** the most requests one lease admits (leases are sized to the replica's recent demand) */
  @IsInt() @Min(2) @Max(1000) ADMISSION_LEASE_MAX_REQUESTS: number = 1000;

  /** on shutdown, how long open requests and streams may finish before they are cut */
  @IsInt() @Min(0) SHUTDOWN_DRAIN_TIMEOUT_MS: number = 25_000;
}

export const PROXY_CONFIG = Symbol('PROXY_CONFIG');

export const PROXY_CONFIG_SECRETS: readonly (keyof ProxyConfig)[] = [
  'TOLLGATE_ENCRYPTION_KEY',
  'REDIS_URL',
];

export function loadProxyConfig(env?: Record<string, string | undefined>): ProxyConfig {
  return loadConfig(ProxyConfig, env);
}

export function describeProxyConfig(config: ProxyConfig): Record<string, unknown> {
  return describeConfig(config, PROXY_CONFIG_SECRETS);
}
