import { Processor, WorkerHost } from '@nestjs/bullmq';
import {
  type BeforeApplicationShutdown,
  Inject,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  ALERT_EVENT_ID_HEADER,
  ALERT_SIGNATURE_HEADER,
  AlertJobName,
  BUDGET_THRESHOLD_EVENT,
  type BudgetAlertWindow,
  type BudgetThresholdWebhookBody,
  QueueName,
} from '@tollgate/contracts';
import { formatNanoAsUsd } from '@tollgate/pricing';
import type { SecretBox } from '@tollgate/server-kit';
import { type Job, UnrecoverableError } from 'bullmq';
import type { DataSource } from 'typeorm';
import { BILLING_CONFIG, type BillingWorkerConfig } from '../config/billing.config';
import { AlertWebhookEntity, alertScopeOf, BudgetAlertEntity } from './alert.entities';
import { ALERT_SECRET_BOX, alertSecretAad, signAlertBody } from './alert-secrets';
import { postWebhook, WebhookDestinationRefusedError } from './webhook-destination';

export type AlertDeliveryOutcome = 'delivered' | 'already_settled' | 'no_webhook';

/** Alert webhook deliveries run in the worker process, this many at once. */
const DELIVERY_CONCURRENCY = 8;

/**
 * POSTs one budget alert to the organisation's webhook, signed with its secret. A 2xx answer is a
 * delivery; anything else (status, timeout, network error) is recorded on the alert and thrown, so
 * BullMQ retries with the exponential back-off the job was added with; the last attempt marks the
 * alert failed. Redirects are not followed; non-public destinations are refused (see
 * webhook-destination.ts) unless ALERT_WEBHOOK_ALLOW_PRIVATE_NETWORKS is true.
 */
@Processor(QueueName.Alerts, { autorun: false })
export class AlertDeliveryProcessor
  extends WorkerHost
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly logger = new Logger(AlertDeliveryProcessor.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(ALERT_SECRET_BOX) private readonly box: SecretBox | null,
    @Inject(BILLING_CONFIG) private readonly config: BillingWorkerConfig,
  ) {
    super();
  }

  async process(job: Job): Promise<AlertDeliveryOutcome> {
    if (job.name !== AlertJobName.Deliver) {
      throw new UnrecoverableError(
        `unknown job name ${job.name}; expected ${AlertJobName.Deliver}`,
      );
    }
    const alertId = (job.data as { alertId?: unknown } | null)?.alertId;
    if (typeof alertId !== 'string') throw new UnrecoverableError('job data has no alertId');
    const alerts = this.db.getRepository(BudgetAlertEntity);
    const alert = await alerts.findOneBy({ id: alertId });
    if (!alert) throw new UnrecoverableError(`alert ${alertId} does not exist`);
    if (alert.delivery !== 'pending') return 'already_settled';

    const settings = await this.db
      .getRepository(AlertWebhookEntity)
      .findOneBy({ organisationId: alert.organisationId });
    if (!settings?.url) {
      // the URL was removed after the alert was raised: it stays a record
      await alerts.update({ id: alert.id, delivery: 'pending' }, { delivery: 'no_webhook' });
      return 'no_webhook';
    }

    const attempt = job.attemptsMade + 1;
    const last = attempt >= (job.opts.attempts ?? 1);
    let secret: string;
    try {
      if (!this.box) throw new Error('billing has no TOLLGATE_ENCRYPTION_KEY');
      secret = this.box.open(settings.secret, alertSecretAad(alert.organisationId));
    } catch (e) {
      const reason = `cannot open the signing secret: ${e instanceof Error ? e.message : String(e)}`;
      await this.recordFailure(alert.id, attempt, reason, true);
      throw new UnrecoverableError(reason);
    }

    const body = JSON.stringify(webhookBody(alert));
    let failure: string | null;
    try {
      const status = await postWebhook(
        settings.url,
        body,
        {
          'content-type': 'application/json',
          'user-agent': 'Tollgate-Alerts/1',
          [ALERT_SIGNATURE_HEADER]: signAlertBody(secret, body, Math.floor(Date.now() / 1000)),
          [ALERT_EVENT_ID_HEADER]: alert.id,
        },
        {
          timeoutMs: this.config.ALERT_WEBHOOK_TIMEOUT_MS,
          allowPrivate: this.config.ALERT_WEBHOOK_ALLOW_PRIVATE_NETWORKS === 'true',
        },
      );
      failure = status >= 200 && status < 300 ? null : `HTTP ${status}`;
    } catch (e) {
      if (e instanceof WebhookDestinationRefusedError) {
        // asking again will not make the address public
        const reason = `destination refused: ${e.message}`;
        await this.recordFailure(alert.id, attempt, reason, true);
        throw new UnrecoverableError(reason);
      }
      failure = e instanceof Error ? `${e.name}: ${e.message}`.slice(0, 500) : String(e);
    }

    if (failure === null) {
      await alerts.update(
        { id: alert.id, delivery: 'pending' },
        {
          delivery: 'delivered',
          deliveredAt: new Date(),
          deliveryAttempts: attempt,
          lastError: null,
        },
      );
      this.logger.log({ msg: 'budget alert delivered', alertId: alert.id, attempt });
      return 'delivered';
    }
    await this.recordFailure(alert.id, attempt, failure, last);
    this.logger.warn({ msg: 'budget alert delivery failed', alertId: alert.id, attempt, failure });
    throw new Error(`webhook delivery failed: ${failure}`);
  }

  /** Starts consuming only once the whole application is up. */
  onApplicationBootstrap(): void {
    const worker = this.worker;
    worker.concurrency = DELIVERY_CONCURRENCY;
    worker.on('error', (e) => this.logger.error(`alert worker error: ${e.message}`));
    worker.run().catch((e: unknown) => this.logger.error(`alert worker stopped: ${String(e)}`));
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.worker.close();
  }

  private async recordFailure(
    id: string,
    attempt: number,
    reason: string,
    final: boolean,
  ): Promise<void> {
    await this.db.getRepository(BudgetAlertEntity).update(
      { id, delivery: 'pending' },
      {
        deliveryAttempts: attempt,
        lastError: reason,
        ...(final ? { delivery: 'failed' } : {}),
      },
    );
  }
}

export function webhookBody(alert: BudgetAlertEntity): BudgetThresholdWebhookBody {
  return {
    id: alert.id,
    type: BUDGET_THRESHOLD_EVENT,
    organisationId: alert.organisationId,
    ...alertScopeOf(alert),
    window: alert.windowKind as BudgetAlertWindow,
    windowId: alert.windowId,
    thresholdPercent: alert.thresholdPercent,
    budgetUsd: formatNanoAsUsd(alert.budgetNanoUsd),
    spentUsd: formatNanoAsUsd(alert.spentNanoUsd),
    at: alert.createdAt.toISOString(),
  };
}
