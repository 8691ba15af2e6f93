import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, type Provider } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  type AlertDeliveryJobData,
  AlertJobName,
  type BudgetAlertScope,
  type BudgetAlertWindow,
  DEFAULT_ALERT_THRESHOLDS_PERCENT,
  QueueName,
} from '@tollgate/contracts';
import {
  AdmissionStore,
  type AdmissionWindows,
  type AnyAdmissionScope,
  assertAdmissionId,
  computeWindows,
  InvalidTimeZoneError,
  isAdmissionModel,
  type LimitSettings,
  type SpendWindow,
} from '@tollgate/server-admission';
import type { Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { BILLING_REDIS } from '../common/redis.provider';
import { BILLING_CONFIG, type BillingWorkerConfig } from '../config/billing.config';
import type Redis from 'ioredis';
import { alertScopeIdentity, AlertWebhookEntity } from './alert.entities';

export const ALERTS_ADMISSION = Symbol('ALERTS_ADMISSION');

/** The admission counters (limits, spend, time zone) on billing's Redis client. */
export const alertsAdmissionProvider: Provider = {
  provide: ALERTS_ADMISSION,
  inject: [BILLING_REDIS, BILLING_CONFIG],
  useFactory: (redis: Redis, config: BillingWorkerConfig) =>
    new AdmissionStore(redis, { prefix: config.TOLLGATE_REDIS_PREFIX }),
};

/** The scopes one booked usage row spends on. */
export interface BookedUsage {
  organisationId: string;
  tenantId: string;
  keyId: string;
  /** the public model asked for: budgets set on this model for the key or the tenant apply too */
  model?: string;
  /** ISO instant; picks the day and month windows (in the organisation's time zone) */
  occurredAt: string;
}

interface Candidate {
  scope: BudgetAlertScope;
  scopeId: string;
  window: BudgetAlertWindow;
  windowId: string;
  thresholdPercent: number;
  spentNano: bigint;
  budgetNano: bigint;
}

const DAY_SECONDS = 24 * 3600;

const BUDGETS = [
  ['day', 'dailyBudgetNano'],
  ['month', 'monthlyBudgetNano'],
  ['total', 'totalBudgetNano'],
] as const satisfies readonly (readonly [BudgetAlertWindow, keyof LimitSettings])[];

/*
 * Inserts the crossed thresholds that are new (the unique constraint decides, whichever worker is
 * first) and returns them, plus the ones already recorded but still pending delivery: their job is
 * added again under the same id, which BullMQ ignores while it exists, and which recovers an alert
 * whose enqueue was lost after its row was committed.
 */
const RECORD_ALERTS_SQL = `
WITH c AS (
  SELECT * FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[],
                       $8::bigint[], $9::bigint[])
    AS c(id, scope_kind, scope_id, window_kind, window_id, threshold_percent, spent, budget)
), ins AS (
  INSERT INTO budget_alerts (id, organisation_id, scope_kind, scope_id, window_kind, window_id,
    threshold_percent, spent_nano_usd, budget_nano_usd, delivery, delivery_attempts, created_at)
  SELECT id, $1, scope_kind, scope_id, window_kind, window_id, threshold_percent, spent, budget,
    $10, 0, $11
  FROM c
  ON CONFLICT ON CONSTRAINT uq_budget_alerts_once DO NOTHING
  RETURNING id, delivery
)
SELECT id, delivery, true AS created FROM ins
UNION ALL
SELECT b.id, b.delivery, false AS created
  FROM budget_alerts b
  JOIN c ON b.scope_kind = c.scope_kind AND b.scope_id = c.scope_id
        AND b.window_kind = c.window_kind AND b.window_id = c.window_id
        AND b.threshold_percent = c.threshold_percent
 WHERE b.organisation_id = $1 AND b.delivery = 'pending'`;

/**
 * Raises budget threshold alerts after usage is booked: reads the limits of the row's key, tenant
 * and organisation, and of its model on the key and on the tenant, from the admission projection
 * (five reads, and nothing more when none of them has a budget), then the committed spend of each
 * budgeted window, and records every threshold reached, once per scope, window and threshold.
 */
@Injectable()
export class AlertEvaluator {
  private readonly logger = new Logger(AlertEvaluator.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(ALERTS_ADMISSION) private readonly store: AdmissionStore,
    @InjectQueue(QueueName.Alerts) private readonly queue: Queue,
    @Inject(BILLING_CONFIG) private readonly config: BillingWorkerConfig,
  ) {}

  /** Returns how many alerts this call created. */
  async onUsageBooked(usage: BookedUsage): Promise<number> {
    const { organisationId: orgId, tenantId, keyId } = usage;
    try {
      assertAdmissionId('orgId', orgId);
      assertAdmissionId('tenantId', tenantId);
      assertAdmissionId('keyId', keyId);
    } catch {
      // such ids never reach admission, so no budget can exist for them
      return 0;
    }
    const scopes: AnyAdmissionScope[] = [
      { kind: 'key', orgId, keyId },
      { kind: 'tenant', orgId, tenantId },
      { kind: 'org', orgId },
    ];
    const model = usage.model;
    if (model !== undefined && isAdmissionModel(model)) {
      scopes.push(
        { kind: 'key-model', orgId, keyId, model },
        { kind: 'tenant-model', orgId, tenantId, model },
      );
    }
    const limits = await Promise.all(scopes.map((s) => this.store.readLimits(s)));
    const budgeted = scopes
      .map((scope, i) => ({ scope, limits: limits[i]! }))
      .filter(({ limits: l }) => BUDGETS.some(([, field]) => positive(l[field])));
    if (budgeted.length === 0) return 0;

    const [timeZone, settings] = await Promise.all([
      this.store.readTimeZone(orgId),
      this.db.getRepository(AlertWebhookEntity).findOneBy({ organisationId: orgId }),
    ]);
    const thresholds = settings?.thresholdsPercent ?? DEFAULT_ALERT_THRESHOLDS_PERCENT;
    if (thresholds.length === 0) return 0;
    const windows = this.windowsAt(timeZone, Date.parse(usage.occurredAt));

    const reads: Promise<Candidate[]>[] = [];
    for (const { scope, limits: l } of budgeted) {
      for (const [window, field] of BUDGETS) {
        const budget = l[field];
        if (!positive(budget)) continue;
        const spendWindow: SpendWindow =
          window === 'day'
            ? { kind: 'day', id: windows.dayId }
            : window === 'month'
              ? { kind: 'month', id: windows.monthId }
              : { kind: 'total' };
        const windowId = spendWindow.kind === 'total' ? 'total' : spendWindow.id;
        reads.push(
          this.store.readSpend(scope, spendWindow).then(({ spentNano }) =>
            thresholds
              .filter((t) => spentNano * 100n >= budget * BigInt(t))
              .map((t) => ({
                scope: scope.kind,
                scopeId: storedScopeId(scope),
                window,
                windowId,
                thresholdPercent: t,
                spentNano,
                budgetNano: budget,
              })),
          ),
        );
      }
    }
    const candidates = (await Promise.all(reads)).flat();
    if (candidates.length === 0) return 0;

    const rows = (await this.db.query(RECORD_ALERTS_SQL, [
      orgId,
      candidates.map(() => randomUUID()),
      candidates.map((c) => c.scope),
      candidates.map((c) => c.scopeId),
      candidates.map((c) => c.window),
      candidates.map((c) => c.windowId),
      candidates.map((c) => c.thresholdPercent),
      candidates.map((c) => c.spentNano.toString()),
      candidates.map((c) => c.budgetNano.toString()),
      settings?.url ? 'pending' : 'no_webhook',
      // milliseconds, as JavaScript keeps them, so the listing's cursor round-trips exactly
      new Date(),
    ])) as { id: string; delivery: string; created: boolean }[];

    for (const row of rows) {
      if (row.delivery === 'pending') await this.enqueue(row.id);
    }
    const created = rows.filter((r) => r.created).length;
    if (created > 0) this.logger.log({ msg: 'budget alerts raised', orgId, created });
    return created;
  }

  private windowsAt(timeZone: string, at: number): AdmissionWindows {
    try {
      return computeWindows(timeZone, at);
    } catch (e) {
      if (!(e instanceof InvalidTimeZoneError)) throw e;
      // accounts projects only zones it validated; should one still be unreadable, count in UTC
      // rather than lose the alert
      this.logger.warn({ msg: 'unknown time zone, alert windows in UTC', timeZone });
      return computeWindows('UTC', at);
    }
  }

  private async enqueue(alertId: string): Promise<void> {
    const data: AlertDeliveryJobData = { schemaVersion: 1, alertId };
    await this.queue.add(AlertJobName.Deliver, data, {
      jobId: alertId,
      attempts: this.config.ALERT_WEBHOOK_ATTEMPTS,
      backoff: { type: 'exponential', delay: this.config.ALERT_WEBHOOK_BACKOFF_MS },
      removeOnComplete: { age: 7 * DAY_SECONDS, count: 10_000 },
      removeOnFail: { age: 30 * DAY_SECONDS, count: 100_000 },
    });
  }
}

const positive = (v: bigint | number | null): v is bigint => typeof v === 'bigint' && v > 0n;

function storedScopeId(scope: AnyAdmissionScope): string {
  switch (scope.kind) {
    case 'org':
      return scope.orgId;
    case 'tenant':
      return scope.tenantId;
    case 'key':
      return scope.keyId;
    case 'key-model':
      return alertScopeIdentity(scope.keyId, scope.model);
    case 'tenant-model':
      return alertScopeIdentity(scope.tenantId, scope.model);
  }
}
