import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import {
  HealthCheck,
  HealthCheckService,
  type HealthCheckResult,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { Public } from '@tollgate/server-kit';
import { AccountsErrorCode, AccountsException } from '../common/accounts.exception';
import { RedisHealthIndicator } from './redis.health';

/** Outside `/api/v1`: `live` checks nothing (the process answers), `ready` checks PostgreSQL and Redis. */
@Controller('health')
@Public()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly redis: RedisHealthIndicator,
  ) {}

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @HealthCheck()
  async ready(): Promise<HealthCheckResult> {
    try {
      return await this.health.check([
        () => this.db.pingCheck('postgres', { timeout: 2_000 }),
        () => this.redis.ping('redis', 2_000),
      ]);
    } catch (err) {
      if (!(err instanceof ServiceUnavailableException)) throw err;
      const result = err.getResponse() as HealthCheckResult;
      const down = Object.entries(result.error ?? {}).map(
        ([name, v]) => `${name}: ${String(v?.['message'] ?? 'down')}`,
      );
      throw new AccountsException(AccountsErrorCode.DependencyUnavailable, 'not ready', {
        errors: down,
      });
    }
  }
}
