import { Inject, Injectable } from '@nestjs/common';
import { channelHealthKeys, type RejectedCredentialEntry } from '@tollgate/contracts';
import type Redis from 'ioredis';
import { AccountsErrorCode, AccountsException } from '../common/accounts.exception';
import { ACCOUNTS_CONFIG, type AccountsConfig } from '../config/accounts.config';
import { REDIS } from '../redis/redis.module';

/** A stored entry, or null when it is not one the proxy writes. */
export function parseRejectedEntry(json: string): RejectedCredentialEntry | null {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const { credential, status, at } = v as Record<string, unknown>;
  if (typeof credential !== 'string' || !credential || credential.length > 64) return null;
  return {
    credential,
    status: typeof status === 'number' && Number.isInteger(status) ? status : 0,
    at: typeof at === 'string' ? at.slice(0, 40) : '',
  };
}

/**
 * The proxy's shared list of refused channel credentials (`channelHealthKeys.rejected`): every
 * proxy replica skips a listed channel while its credential fingerprint matches the entry.
 */
@Injectable()
export class RejectedCredentials {
  private readonly key: string;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(ACCOUNTS_CONFIG) config: AccountsConfig,
  ) {
    this.key = channelHealthKeys.rejected(config.TOLLGATE_REDIS_PREFIX);
  }

  async get(channelId: string): Promise<RejectedCredentialEntry | null> {
    const json = await this.redis.hget(this.key, channelId);
    return json === null ? null : parseRejectedEntry(json);
  }

  async all(): Promise<Map<string, RejectedCredentialEntry>> {
    const out = new Map<string, RejectedCredentialEntry>();
    for (const [id, json] of Object.entries(await this.redis.hgetall(this.key))) {
      const entry = parseRejectedEntry(json);
      if (entry) out.set(id, entry);
    }
    return out;
  }

  /**
   * Lifts the refusal for every proxy (an admin enabled the channel). The change is already
   * saved, so a failure is the same 503 as a failed projection write: a retry repeats it.
   */
  async forget(channelId: string): Promise<void> {
    try {
      await this.redis.hdel(this.key, channelId);
    } catch (err) {
      throw new AccountsException(
        AccountsErrorCode.ProjectionUnavailable,
        'the change is saved but could not be propagated to the gateway yet; retry the request',
        { retryAfterSeconds: 1, cause: err },
      );
    }
  }
}
