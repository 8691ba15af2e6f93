/**
 * The routing state that accounts (and billing, for prices) project into Redis for the proxy, which
 * never reads PostgreSQL. Keys live under a configurable prefix (`tg:` by default; tests use their own).
 */

/** A key record, stored at `keyRecordKey(prefix, sha256hex(secret))` as JSON. */
export interface KeyRecordProjection {
  id: string;
  name: string;
  prefix: string;
  organisationId: string;
  tenantId: string;
  tenantName: string;
  tenantGroup: string;
  /** public model names allowed; null = any */
  models: string[] | null;
  /** ISO instant, or null */
  expiresAt: string | null;
  revoked: boolean;
  /** effective: false when either the tenant or the key turned fallback off */
  allowFallback: boolean;
  /**
   * The organisation's billing time zone (IANA), which the admission day and month windows follow.
   * Absent in records written before it was projected: read as `UTC`.
   */
  billingTimeZone?: string;
  /**
   * Admit requests when the admission store (Redis) cannot be reached, instead of refusing them.
   * Absent: false. Limits themselves live where the admission lib reads them
   * (`admissionKeys.limits(prefix, scope)` of `@tollgate/server-admission`), found from
   * `organisationId`, `tenantId` and `id`.
   */
  admissionFailOpen?: boolean;
}

/** A channel, stored in the hash `channelsKey(prefix)` under its id as JSON. */
export interface ChannelProjection {
  id: string;
  name: string;
  /**
   * a `ChannelType` (`openai`, `azure`, `anthropic`, `gemini`); typed as a string so that a type
   * added later does not break an older reader
   */
  type: string;
  baseUrl: string;
  /** AES-256-GCM envelope of the provider credential (see server-kit `SecretBox`); never plaintext */
  encryptedApiKey: string;
  models: string[];
  modelMapping: Record<string, string>;
  priority: number;
  weight: number;
  groups: string[];
  status: 'enabled' | 'disabled';
  /** null for platform-wide channels */
  organisationId: string | null;
  /*
   * The settings below are optional: projections written before they existed lack them, so a
   * reader treats absent like null.
   */
  /** Azure's `api-version` (only `azure` channels have one); null or absent: none */
  apiVersion?: string | null;
  /**
   * Headers added to every upstream request, names lower-case; accounts refuses credential and
   * hop-by-hop headers (see `RESERVED_EXTRA_HEADERS`)
   */
  extraHeaders?: Record<string, string> | null;
  /** ms to connect; null or absent: the proxy's default */
  connectTimeoutMs?: number | null;
  /** ms until the first byte of the answer; null or absent: the proxy's default */
  firstByteTimeoutMs?: number | null;
  /** ms for the whole exchange; null or absent: the proxy's default */
  totalTimeoutMs?: number | null;
}

/** A price, stored in the hash `pricesKey(prefix)` under the public model name as JSON. */
export interface PriceProjection {
  model: string;
  inputNanoUsdPerMTok: string;
  outputNanoUsdPerMTok: string;
  version: number;
}

export type ProjectionChange =
  | { kind: 'key'; hash: string }
  | { kind: 'channels' }
  | { kind: 'prices' }
  /**
   * The limits of one scope changed (already written to its admission limits hash, which the
   * admission script reads on every request; the message is for caches and observers).
   * `id` is the organisation, tenant or key id; `model` is set when the per-model limits of that
   * public model on the tenant or key changed.
   */
  | {
      kind: 'limits';
      scope: 'org' | 'tenant' | 'key';
      id: string;
      organisationId: string;
      model?: string;
    }
  | { kind: 'all' };

export const DEFAULT_REDIS_PREFIX = 'tg:';

export const projectionKeys = {
  keyRecord: (prefix: string, keyHash: string): string => `${prefix}key:${keyHash}`,
  channels: (prefix: string): string => `${prefix}channels`,
  prices: (prefix: string): string => `${prefix}prices`,
  /** pub/sub channel carrying `ProjectionChange` JSON messages */
  changes: (prefix: string): string => `${prefix}changes`,
};
