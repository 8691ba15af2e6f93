import type { BudgetAlertScope } from '@tollgate/contracts';
import { Column, Entity, Index, PrimaryColumn, Unique } from 'typeorm';
import { bigintTransformer } from '../common/bigint.transformer';

/** Where an organisation wants its budget alerts POSTed, and the HMAC key that signs them. */
@Entity({ name: 'alert_webhooks' })
export class AlertWebhookEntity {
  @PrimaryColumn({
    name: 'organisation_id',
    type: 'text',
    primaryKeyConstraintName: 'pk_alert_webhooks',
  })
  organisationId!: string;

  /** null: alerts are recorded but not POSTed anywhere */
  @Column({ name: 'url', type: 'text', nullable: true })
  url!: string | null;

  /** `SecretBox.seal(secret, alertSecretAad(orgId))`; never returned after the answer that made it */
  @Column({ name: 'secret', type: 'text' })
  secret!: string;

  /** ascending, unique, 1..1000 */
  @Column({ name: 'thresholds_percent', type: 'integer', array: true })
  thresholdsPercent!: number[];

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}

/**
 * A soft budget threshold crossed in one window. The unique constraint is what makes an alert fire
 * once per scope, window and threshold, whichever worker noticed it first.
 */
/** The stored `scope_id` of an alert's scope (per-model scopes carry their model). */
export function alertScopeIdentity(scopeId: string, model: string | null): string {
  return model === null ? scopeId : `${scopeId}/${model}`;
}

/** The scope of a stored alert, as the API and the webhook show it. */
export function alertScopeOf(alert: Pick<BudgetAlertEntity, 'scopeKind' | 'scopeId'>): {
  scope: BudgetAlertScope;
  scopeId: string;
  model: string | null;
} {
  const scope = alert.scopeKind as BudgetAlertScope;
  if (scope !== 'key-model' && scope !== 'tenant-model')
    return { scope, scopeId: alert.scopeId, model: null };
  const slash = alert.scopeId.indexOf('/');
  return slash < 0
    ? { scope, scopeId: alert.scopeId, model: null }
    : { scope, scopeId: alert.scopeId.slice(0, slash), model: alert.scopeId.slice(slash + 1) };
}

@Entity({ name: 'budget_alerts' })
@Unique('uq_budget_alerts_once', [
  'organisationId',
  'scopeKind',
  'scopeId',
  'windowKind',
  'windowId',
  'thresholdPercent',
])
@Index('ix_budget_alerts_org_created', ['organisationId', 'createdAt', 'id'])
export class BudgetAlertEntity {
  @PrimaryColumn({ name: 'id', type: 'uuid', primaryKeyConstraintName: 'pk_budget_alerts' })
  id!: string;

  @Column({ name: 'organisation_id', type: 'text' })
  organisationId!: string;

  @Column({ name: 'scope_kind', type: 'text' })
  scopeKind!: string;

  /**
   * The org, tenant or key id; for a per-model scope `<key or tenant id>/<model>` (ids never hold a
   * `/`, so the first one separates them): see `alertScopeIdentity` / `alertScopeOf`.
   */
  @Column({ name: 'scope_id', type: 'text' })
  scopeId!: string;

  @Column({ name: 'window_kind', type: 'text' })
  windowKind!: string;

  @Column({ name: 'window_id', type: 'text' })
  windowId!: string;

  @Column({ name: 'threshold_percent', type: 'integer' })
  thresholdPercent!: number;

  @Column({ name: 'spent_nano_usd', type: 'bigint', transformer: bigintTransformer })
  spentNanoUsd!: bigint;

  @Column({ name: 'budget_nano_usd', type: 'bigint', transformer: bigintTransformer })
  budgetNanoUsd!: bigint;

  /** pending, delivered, failed, no_webhook */
  @Column({ name: 'delivery', type: 'text' })
  delivery!: string;

  @Column({ name: 'delivery_attempts', type: 'integer' })
  deliveryAttempts!: number;

  @Column({ name: 'delivered_at', type: 'timestamptz', nullable: true })
  deliveredAt!: Date | null;

  /** why the latest attempt failed (status or network error); null after a success */
  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
