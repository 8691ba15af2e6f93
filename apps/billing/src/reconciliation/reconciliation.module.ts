import {
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { admissionStoreProvider } from '../credits/admission.provider';
import { CreditsService } from '../credits/credits.service';
import { BILLING_CONFIG, type BillingWorkerConfig } from '../config/billing.config';
import { ReconciliationService } from './reconciliation.service';

/** Runs reconciliation every RECONCILE_INTERVAL_MS in the worker (safe on every replica: CAS writes). */
@Injectable()
export class ReconciliationScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ReconciliationScheduler.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly reconciliation: ReconciliationService,
    @Inject(BILLING_CONFIG) private readonly config: BillingWorkerConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.RECONCILE_INTERVAL_MS) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.reconciliation
        .reconcile()
        .catch((e: unknown) => this.logger.error(`reconciliation failed: ${String(e)}`))
        .finally(() => (this.running = undefined));
    }, this.config.RECONCILE_INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}

/** Repairs the Redis admission counters from the ledger (worker, and the `reconcile` CLI). */
@Module({
  providers: [ReconciliationService, CreditsService, admissionStoreProvider],
  exports: [ReconciliationService],
})
export class ReconciliationModule {}

@Module({
  imports: [ReconciliationModule],
  providers: [ReconciliationScheduler],
})
export class ReconciliationSchedulerModule {}
