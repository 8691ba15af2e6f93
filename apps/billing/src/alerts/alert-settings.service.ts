import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  type AlertResponseDto,
  type AlertSettingsResponseDto,
  type BudgetAlertWindow,
  DEFAULT_ALERT_THRESHOLDS_PERCENT,
  DEFAULT_PAGE_LIMIT,
  type Page,
  type PageQueryDto,
  type PutAlertSettingsRequestDto,
  type AlertDeliveryState,
} from '@tollgate/contracts';
import { formatNanoAsUsd } from '@tollgate/pricing';
import type { SecretBox } from '@tollgate/server-kit';
import type { DataSource } from 'typeorm';
import { decodeCursor, encodeCursor } from '../common/cursor';
import { BillingErrorCode, BillingException } from '../common/billing.exception';
import { BILLING_CONFIG, type BillingWorkerConfig } from '../config/billing.config';
import { AlertWebhookEntity, alertScopeOf, BudgetAlertEntity } from './alert.entities';
import { ALERT_SECRET_BOX, alertSecretAad, newAlertSigningSecret } from './alert-secrets';
import { AlertsErrorCode, AlertsException } from './alerts.exception';
import { isRefusedHost } from './webhook-destination';

interface SettingsRow {
  url: string | null;
  thresholds_percent: number[];
  updated_at: Date;
  inserted: boolean;
}

const RETURNING = `RETURNING url, thresholds_percent, updated_at, (xmax = 0) AS inserted`;

/** Alert settings (webhook URL, thresholds, signing secret) and the alert history of an organisation. */
@Injectable()
export class AlertSettingsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(ALERT_SECRET_BOX) private readonly box: SecretBox | null,
    @Inject(BILLING_CONFIG) private readonly config: BillingWorkerConfig,
  ) {}

  async get(orgId: string): Promise<AlertSettingsResponseDto> {
    const row = await this.db
      .getRepository(AlertWebhookEntity)
      .findOneBy({ organisationId: orgId });
    if (!row) {
      return {
        organisationId: orgId,
        webhookUrl: null,
        thresholdsPercent: [...DEFAULT_ALERT_THRESHOLDS_PERCENT],
        configured: false,
        updatedAt: null,
      };
    }
    return toSettingsDto(orgId, {
      url: row.url,
      thresholds_percent: row.thresholdsPercent,
      updated_at: row.updatedAt,
      inserted: false,
    });
  }

  /**
   * Replaces URL and thresholds. The first PUT also creates the signing secret (one statement, so
   * two first PUTs at once still leave one secret, and only the one that created it shows it).
   */
  async put(orgId: string, body: PutAlertSettingsRequestDto): Promise<AlertSettingsResponseDto> {
    if (
      body.webhookUrl !== null &&
      this.config.ALERT_WEBHOOK_ALLOW_PRIVATE_NETWORKS !== 'true' &&
      isRefusedHost(new URL(body.webhookUrl).hostname)
    ) {
      throw new AlertsException(
        AlertsErrorCode.WebhookUrlNotAllowed,
        'webhookUrl must point to a public address (not localhost, a private or a link-local one)',
      );
    }
    const box = this.requireBox();
    const secret = newAlertSigningSecret();
    const thresholds = normaliseThresholds(body.thresholdsPercent);
    const rows = (await this.db.query(
      `INSERT INTO alert_webhooks (organisation_id, url, secret, thresholds_percent, updated_at)
       VALUES ($1, $2, $3, $4::integer[], now())
       ON CONFLICT (organisation_id) DO UPDATE
         SET url = EXCLUDED.url, thresholds_percent = EXCLUDED.thresholds_percent, updated_at = now()
       ${RETURNING}`,
      [orgId, body.webhookUrl, box.seal(secret, alertSecretAad(orgId)), thresholds],
    )) as SettingsRow[];
    const row = rows[0]!;
    return toSettingsDto(orgId, row, row.inserted ? secret : undefined);
  }

  /** A new signing secret, shown in this answer only; creates default settings if there were none. */
  async rotateSecret(orgId: string): Promise<AlertSettingsResponseDto> {
    const box = this.requireBox();
    const secret = newAlertSigningSecret();
    const rows = (await this.db.query(
      `INSERT INTO alert_webhooks (organisation_id, url, secret, thresholds_percent, updated_at)
       VALUES ($1, NULL, $2, $3::integer[], now())
       ON CONFLICT (organisation_id) DO UPDATE SET secret = EXCLUDED.secret, updated_at = now()
       ${RETURNING}`,
      [orgId, box.seal(secret, alertSecretAad(orgId)), [...DEFAULT_ALERT_THRESHOLDS_PERCENT]],
    )) as SettingsRow[];
    return toSettingsDto(orgId, rows[0]!, secret);
  }

  /** Alerts newest first, keyset-paginated on (created_at, id). */
  async list(orgId: string, query: PageQueryDto): Promise<Page<AlertResponseDto>> {
    const limit = query.limit ?? DEFAULT_PAGE_LIMIT;
    const qb = this.db
      .getRepository(BudgetAlertEntity)
      .createQueryBuilder('a')
      .where('a.organisation_id = :orgId', { orgId })
      .orderBy('a.created_at', 'DESC')
      .addOrderBy('a.id', 'DESC')
      .take(limit + 1);
    if (query.cursor) {
      const [iso, id] = decodeCursor(query.cursor, 2) as [string, string];
      if (
        Number.isNaN(Date.parse(iso)) ||
        !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)
      ) {
        throw new BillingException(
          BillingErrorCode.InvalidCursor,
          'cursor is not one this API issued',
        );
      }
      qb.andWhere('(a.created_at, a.id) < (:at, :id)', { at: iso, id });
    }
    const rows = await qb.getMany();
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items: items.map(toAlertDto),
      nextCursor:
        rows.length > limit && last ? encodeCursor([last.createdAt.toISOString(), last.id]) : null,
    };
  }

  private requireBox(): SecretBox {
    if (!this.box) {
      throw new AlertsException(
        AlertsErrorCode.EncryptionUnavailable,
        'billing has no TOLLGATE_ENCRYPTION_KEY to seal the signing secret with',
      );
    }
    return this.box;
  }
}

/** Ascending and unique; the defaults when omitted. */
export function normaliseThresholds(thresholds: readonly number[] | undefined): number[] {
  return [...new Set(thresholds ?? DEFAULT_ALERT_THRESHOLDS_PERCENT)].sort((a, b) => a - b);
}

function toSettingsDto(
  orgId: string,
  row: SettingsRow,
  signingSecret?: string,
): AlertSettingsResponseDto {
  const dto: AlertSettingsResponseDto = {
    organisationId: orgId,
    webhookUrl: row.url,
    thresholdsPercent: [...row.thresholds_percent],
    configured: true,
    updatedAt: row.updated_at.toISOString(),
  };
  if (signingSecret !== undefined) dto.signingSecret = signingSecret;
  return dto;
}

export function toAlertDto(a: BudgetAlertEntity): AlertResponseDto {
  return {
    id: a.id,
    organisationId: a.organisationId,
    ...alertScopeOf(a),
    window: a.windowKind as BudgetAlertWindow,
    windowId: a.windowId,
    thresholdPercent: a.thresholdPercent,
    budgetUsd: formatNanoAsUsd(a.budgetNanoUsd),
    spentUsd: formatNanoAsUsd(a.spentNanoUsd),
    createdAt: a.createdAt.toISOString(),
    delivery: a.delivery as AlertDeliveryState,
    deliveryAttempts: a.deliveryAttempts,
    deliveredAt: a.deliveredAt?.toISOString() ?? null,
    lastError: a.lastError,
  };
}
