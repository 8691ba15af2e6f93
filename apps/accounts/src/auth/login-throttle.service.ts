import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { AccountsErrorCode, AccountsException } from '../common/accounts.exception';
import { ACCOUNTS_CONFIG, type AccountsConfig } from '../config/accounts.config';
import { REDIS } from '../redis/redis.module';
import { sha256Hex } from './secure-token';

/**
 * Counts failed logins per email and per client address in fixed windows (Redis, shared by all
 * replicas). At the limit every login for that email or address is refused with 429 until the
 * window ends, whether the password is right or not. When Redis is unreachable logins are refused
 * (503) rather than let through unthrottled.
 */
@Injectable()
export class LoginThrottleService {
  private readonly windowSeconds: number;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(ACCOUNTS_CONFIG) private readonly config: AccountsConfig,
  ) {
    this.windowSeconds = config.LOGIN_FAILURE_WINDOW_SECONDS;
  }

  async assertAllowed(email: string, ip: string): Promise<void> {
    const scopes = this.scopes(email, ip);
    const pipeline = this.redis.pipeline();
    for (const s of scopes) pipeline.get(s.key).ttl(s.key);
    const results = await this.run(() => pipeline.exec());
    let retryAfter = 0;
    scopes.forEach((s, i) => {
      const count = Number(results[i * 2]?.[1] ?? 0);
      const ttl = Number(results[i * 2 + 1]?.[1] ?? -1);
      if (count >= s.max) retryAfter = Math.max(retryAfter, ttl > 0 ? ttl : this.windowSeconds);
    });
    if (retryAfter > 0) {
      throw new AccountsException(
        AccountsErrorCode.TooManyLoginAttempts,
        `too many failed logins; try again in ${retryAfter} seconds`,
        { retryAfterSeconds: retryAfter },
      );
    }
  }

  async recordFailure(email: string, ip: string): Promise<void> {
    const tx = this.redis.multi();
    for (const s of this.scopes(email, ip)) tx.incr(s.key).expire(s.key, this.windowSeconds, 'NX');
    await this.run(() => tx.exec());
  }

  /** A successful login clears the email's count (not the address's). */
  async recordSuccess(email: string): Promise<void> {
    await this.run(() => this.redis.del(this.emailKey(email)));
  }

  private scopes(email: string, ip: string): { key: string; max: number }[] {
    return [
      { key: this.emailKey(email), max: this.config.LOGIN_MAX_FAILURES_PER_EMAIL },
      {
        key: `${this.config.TOLLGATE_REDIS_PREFIX}login-failures:ip:${ip}`,
        max: this.config.LOGIN_MAX_FAILURES_PER_IP,
      },
    ];
  }

  private emailKey(email: string): string {
    return `${this.config.TOLLGATE_REDIS_PREFIX}login-failures:email:${sha256Hex(email.toLowerCase())}`;
  }

  private async run<T>(op: () => Promise<T>): Promise<NonNullable<T>> {
    let result: T;
    try {
      result = await op();
    } catch (err) {
      throw new AccountsException(
        AccountsErrorCode.DependencyUnavailable,
        'login is unavailable, try again shortly',
        {
          retryAfterSeconds: 5,
          cause: err,
        },
      );
    }
    const failed =
      result === null ||
      result === undefined ||
      (Array.isArray(result) && result.some((r) => Array.isArray(r) && r[0] instanceof Error));
    if (failed) {
      throw new AccountsException(
        AccountsErrorCode.DependencyUnavailable,
        'login is unavailable, try again shortly',
        {
          retryAfterSeconds: 5,
        },
      );
    }
    return result as NonNullable<T>;
  }
}
