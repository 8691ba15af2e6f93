import { Controller, Get, Inject } from '@nestjs/common';
import { Public } from '@tollgate/server-kit';
import { BillingErrorCode, BillingException } from '../common/billing.exception';
import { READINESS_CHECKS, type ReadinessCheck, runReadinessChecks } from './readiness';

export interface HealthResponse {
  status: 'ok';
  checks: Record<string, 'up'>;
}

/** Liveness checks nothing; readiness checks every dependency the process needs to do its work. */
@Controller('health')
@Public()
export class HealthController {
  constructor(@Inject(READINESS_CHECKS) private readonly checks: ReadinessCheck[]) {}

  @Get('live')
  live(): HealthResponse {
    return { status: 'ok', checks: {} };
  }

  @Get('ready')
  async ready(): Promise<HealthResponse> {
    const failures = await runReadinessChecks(this.checks);
    const down = Object.entries(failures);
    if (down.length) {
      throw new BillingException(
        BillingErrorCode.NotReady,
        down.map(([name, why]) => `${name}: ${why}`).join('; '),
      );
    }
    return {
      status: 'ok',
      checks: Object.fromEntries(this.checks.map((c) => [c.name, 'up' as const])),
    };
  }
}
