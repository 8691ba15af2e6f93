import { Inject, Injectable, Logger } from '@nestjs/common';
import { API_KEY_PREFIX, type KeyRecordProjection, projectionKeys } from '@tollgate/contracts';
import { createHash } from 'node:crypto';
import { PROXY_CONFIG, type ProxyConfig } from '../config/proxy.config';
import { RedisClients } from '../projections/redis-clients';
import { errors, type ProxyError } from '../v1/proxy-error';
import { KeyCache, type ResolvedKey } from './key-cache';

export type AuthResult =
  | { ok: true; key: ResolvedKey }
  /** `key` is set when the key exists but is refused (revoked, expired): such a request is still metered */
  | { ok: false; error: ProxyError; key: ResolvedKey | null };

const MAX_KEY_LENGTH = 256;

function mask(token: string): string {
  return token.length > 12 ? `${token.slice(0, 6)}****${token.slice(-4)}` : '****';
}

/** `Authorization: Bearer <key>` → the key's record, from the in-process cache or the Redis projection. */
@Injectable()
export class KeyAuthService {
  private readonly logger = new Logger(KeyAuthService.name);
  readonly cache: KeyCache;

  constructor(
    @Inject(PROXY_CONFIG) config: ProxyConfig,
    private readonly redis: RedisClients,
  ) {
    const prefix = config.TOLLGATE_REDIS_PREFIX;
    this.cache = new KeyCache((hash) => this.read(projectionKeys.keyRecord(prefix, hash)), {
      ttlMs: config.KEY_CACHE_TTL_MS,
      negativeTtlMs: config.KEY_CACHE_NEGATIVE_TTL_MS,
      maxEntries: config.KEY_CACHE_MAX_ENTRIES,
    });
  }

  private async read(redisKey: string): Promise<KeyRecordProjection | null> {
    const raw = await this.redis.commands.get(redisKey);
    if (raw === null) return null;
    try {
      const record = JSON.parse(raw) as KeyRecordProjection;
      if (typeof record?.id !== 'string' || typeof record.organisationId !== 'string')
        throw new Error('incomplete');
      return record;
    } catch {
      this.logger.warn({
        msg: 'unreadable key record in Redis; treating the key as unknown',
        redisKey,
      });
      return null;
    }
  }

  static hash(secret: string): string {
    return createHash('sha256').update(secret).digest('hex');
  }

  authenticate(authorization: string | undefined): AuthResult | Promise<AuthResult> {
    const token = bearer(authorization);
    if (token === null) return { ok: false, error: errors.missingKey(), key: null };
    if (!token.startsWith(API_KEY_PREFIX) || token.length > MAX_KEY_LENGTH) {
      return { ok: false, error: errors.invalidKey(mask(token)), key: null };
    }
    const found = this.cache.get(KeyAuthService.hash(token));
    if (found instanceof Promise) {
      return found.then(
        (key) => judge(key, token),
        () =>
          ({ ok: false, error: errors.unavailable('Key verification'), key: null }) as AuthResult,
      );
    }
    return judge(found, token);
  }
}

function bearer(header: string | undefined): string | null {
  if (typeof header !== 'string' || header.length < 8) return null;
  if (!/^bearer /i.test(header.slice(0, 7))) return null;
  const token = header.slice(7).trim();
  return token.length > 0 ? token : null;
}

function judge(key: ResolvedKey | null, token: string): AuthResult {
  if (key === null) return { ok: false, error: errors.invalidKey(mask(token)), key: null };
  const r = key.record;
  if (r.revoked) return { ok: false, error: errors.revokedKey(r.prefix), key };
  if (key.expiresAtMs !== null && !(key.expiresAtMs > Date.now())) {
    return { ok: false, error: errors.expiredKey(r.prefix, r.expiresAt ?? 'an unknown time'), key };
  }
  return { ok: true, key };
}
