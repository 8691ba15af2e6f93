/**
 * Budget alert settings and prepaid credit as the portal's forms handle them: the checks that mirror
 * `PutAlertSettingsRequestDto` and `RedeemCodeRequestDto`, and the words for alert records. Billing
 * stays the authority (e.g. on which webhook hosts are public): what it refuses is shown as it words it.
 */
import type { AlertDeliveryState, BudgetAlertScope, BudgetAlertWindow } from '@tollgate/contracts';
import type { FormState, FormValues } from './forms';

// Restated from @tollgate/contracts (types only are imported here); a unit test pins them.
export const MAX_THRESHOLDS = 10;
export const DEFAULT_THRESHOLDS: readonly number[] = [50, 80, 100];
export const WEBHOOK_URL_MAX = 2000;
export const REDEEM_CODE_MIN = 8;
export const REDEEM_CODE_MAX = 100;

/** A form whose success may carry a signing secret, shown that once. */
export type SecretFormState =
  FormState | { status: 'secret'; values: FormValues; message: string; secret: string };

export interface AlertSettingsUpdate {
  webhookUrl: string | null;
  thresholdsPercent: number[];
}

/** "80, 50 100" → [50, 80, 100]: whole percentages from 1 to 1000, at most ten, duplicates dropped. */
export function parseThresholds(
  raw: string,
): { ok: true; value: number[] } | { ok: false; error: string } {
  const parts = raw
    .split(/[\s,;]+/)
    .map((p) => p.trim().replace(/%$/, ''))
    .filter(Boolean);
  if (!parts.length) return { ok: false, error: 'Give at least one threshold, e.g. 50, 80, 100.' };
  const bad = parts.filter((p) => !/^\d{1,4}$/.test(p) || Number(p) < 1 || Number(p) > 1000);
  if (bad.length) {
    return {
      ok: false,
      error: `Thresholds must be whole percentages from 1 to 1000; “${bad.join('”, “')}” is not.`,
    };
  }
  const value = [...new Set(parts.map(Number))].sort((a, b) => a - b);
  if (value.length > MAX_THRESHOLDS)
    return { ok: false, error: `At most ${MAX_THRESHOLDS} thresholds may be set.` };
  return { ok: true, value };
}

/** A blank URL keeps alerts as records only; otherwise an absolute http(s) URL. */
export function parseWebhookUrl(
  raw: string,
): { ok: true; value: string | null } | { ok: false; error: string } {
  const v = raw.trim();
  if (!v) return { ok: true, value: null };
  if (v.length > WEBHOOK_URL_MAX)
    return { ok: false, error: `Webhook URL must be at most ${WEBHOOK_URL_MAX} characters.` };
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return { ok: false, error: 'Webhook URL must be an absolute http or https URL.' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return { ok: false, error: 'Webhook URL must be an http or https URL.' };
  return { ok: true, value: v };
}

export function parseAlertSettings(
  values: FormValues,
): { ok: true; body: AlertSettingsUpdate } | { ok: false; errors: string[] } {
  const url = parseWebhookUrl(values.webhookUrl ?? '');
  const thresholds = parseThresholds(values.thresholdsPercent ?? '');
  const errors: string[] = [];
  if (!url.ok) errors.push(url.error);
  if (!thresholds.ok) errors.push(thresholds.error);
  if (!url.ok || !thresholds.ok) return { ok: false, errors };
  return { ok: true, body: { webhookUrl: url.value, thresholdsPercent: thresholds.value } };
}

/** Redemption codes are compared exactly (billing hashes them): only surrounding blanks go. */
export function validateRedeemCode(code: string): string[] {
  if (!code) return ['Enter the redemption code.'];
  if (code.length < REDEEM_CODE_MIN || code.length > REDEEM_CODE_MAX)
    return [`A redemption code has ${REDEEM_CODE_MIN} to ${REDEEM_CODE_MAX} characters.`];
  return [];
}

export function scopeLabel(scope: BudgetAlertScope): string {
  switch (scope) {
    case 'org':
      return 'Organisation';
    case 'tenant':
      return 'Tenant';
    case 'key':
      return 'Key';
    case 'key-model':
      return 'Key × model';
    case 'tenant-model':
      return 'Tenant × model';
  }
}

export function windowLabel(window: BudgetAlertWindow, windowId: string): string {
  switch (window) {
    case 'day':
      return `Day ${windowId}`;
    case 'month':
      return `Month ${windowId}`;
    case 'total':
      return 'Total';
  }
}

export function deliveryLabel(state: AlertDeliveryState): string {
  switch (state) {
    case 'pending':
      return 'sending';
    case 'delivered':
      return 'delivered';
    case 'failed':
      return 'failed';
    case 'no_webhook':
      return 'no webhook';
  }
}
