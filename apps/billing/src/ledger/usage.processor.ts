import { Processor, WorkerHost } from '@nestjs/bullmq';
import {
  type BeforeApplicationShutdown,
  Inject,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { QueueName, UsageJobName } from '@tollgate/contracts';
import { type Job, UnrecoverableError } from 'bullmq';
import { AlertEvaluator } from '../alerts/alert-evaluator.service';
import { BILLING_CONFIG, type BillingWorkerConfig } from '../config/billing.config';
import { InvalidUsageEventError, parseUsageEvent } from './usage-event.parser';
import { UsageLedgerWriter, type UsageWriteResult } from './usage-ledger.writer';

const DAY_SECONDS = 24 * 3600;

/**
 * Consumes `usage` events in the worker process. Invalid events fail at once (UnrecoverableError: no
 * retries, the job is kept as failed for inspection); database trouble throws and BullMQ retries the
 * job with the producer's back-off.
 */
@Processor(QueueName.Usage, {
  autorun: false,
  removeOnComplete: { age: DAY_SECONDS, count: 10_000 },
  removeOnFail: { age: 30 * DAY_SECONDS, count: 100_000 },
})
export class UsageProcessor
  extends WorkerHost
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly logger = new Logger(UsageProcessor.name);
  private started = false;

  constructor(
    private readonly ledger: UsageLedgerWriter,
    @Inject(BILLING_CONFIG) private readonly config: BillingWorkerConfig,
    private readonly alerts: AlertEvaluator,
  ) {
    super();
  }

  async process(job: Job): Promise<UsageWriteResult> {
    if (job.name !== UsageJobName.Recorded) {
      throw new UnrecoverableError(
        `unknown job name ${job.name}; expected ${UsageJobName.Recorded}`,
      );
    }
    let event;
    try {
      event = parseUsageEvent(job.data);
    } catch (e) {
      if (e instanceof InvalidUsageEventError) throw new UnrecoverableError(e.message);
      throw e;
    }
    const result = await this.ledger.record(event);
    // also on a replay: alerting is idempotent, and a retry must not skip what a failed try missed
    await this.alerts.onUsageBooked(event);
    this.logger.debug({
      msg: result.inserted ? 'usage recorded' : 'usage already recorded',
      requestId: event.requestId,
      jobId: job.id,
      costNanoUsd: result.costNanoUsd,
      priced: result.priced,
    });
    return result;
  }

  /** Starts consuming only once the whole application is up. */
  onApplicationBootstrap(): void {
    const worker = this.worker;
    worker.concurrency = this.config.WORKER_CONCURRENCY;
    worker.on('error', (e) => this.logger.error(`usage worker error: ${e.message}`));
    worker.on('failed', (job, e) => {
      this.logger.warn({
        msg: 'usage job failed',
        jobId: job?.id,
        attemptsMade: job?.attemptsMade,
        reason: e.message,
      });
    });
    this.started = true;
    worker.run().catch((e: unknown) => this.logger.error(`usage worker stopped: ${String(e)}`));
  }

  /** True while the worker is consuming. */
  isConsuming(): boolean {
    return this.started && this.worker.isRunning() && !this.worker.closing;
  }

  /** Readiness of the worker's own Redis connection: one read of the queue's meta hash (same slot). */
  async ping(): Promise<void> {
    const client = await this.worker.client;
    if (client.status !== 'ready') throw new Error(`redis connection is ${client.status}`);
    await client.hget(`${this.config.TOLLGATE_QUEUE_PREFIX}:${QueueName.Usage}:meta`, 'version');
  }

  /** Drains: no new jobs are taken and the running ones finish before the database pool closes. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.worker.close();
  }
}
