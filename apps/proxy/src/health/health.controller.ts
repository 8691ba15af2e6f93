import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { DrainService } from '../lifecycle/drain';
import { RedisClients } from '../projections/redis-clients';
import { ChannelRegistry } from '../routing/channel-registry';

/** Liveness checks nothing; readiness needs Redis, a loaded channel table and no shutdown under way. */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly redis: RedisClients,
    private readonly channels: ChannelRegistry,
    private readonly drain: DrainService,
  ) {}

  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      async () => {
        const session = this.indicators.check('redis');
        try {
          await this.redis.commands.ping();
          return session.up();
        } catch (err) {
          return session.down({ message: err instanceof Error ? err.message : String(err) });
        }
      },
      () => {
        const session = this.indicators.check('channels');
        return this.channels.loaded
          ? session.up({ enabled: this.channels.table.channels.length })
          : session.down({ message: 'not loaded yet' });
      },
      () => {
        const session = this.indicators.check('lifecycle');
        return this.drain.isDraining ? session.down({ message: 'shutting down' }) : session.up();
      },
    ]);
  }
}
