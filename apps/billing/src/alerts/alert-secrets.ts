import type { Provider } from '@nestjs/common';
import { SecretBox } from '@tollgate/server-kit';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { BILLING_CONFIG, type BillingWorkerConfig } from '../config/billing.config';

/** The box that seals alert signing secrets, or null when billing has no encryption key. */
export const ALERT_SECRET_BOX = Symbol('ALERT_SECRET_BOX');

export const alertSecretBoxProvider: Provider = {
  provide: ALERT_SECRET_BOX,
  inject: [BILLING_CONFIG],
  useFactory: (config: BillingWorkerConfig): SecretBox | null =>
    config.TOLLGATE_ENCRYPTION_KEY ? new SecretBox(config.TOLLGATE_ENCRYPTION_KEY) : null,
};

/** Binds a sealed secret to its organisation: an envelope copied to another row does not open. */
export const alertSecretAad = (orgId: string): string => `billing.alert-webhook:${orgId}`;

/** `whsec_` and 32 random bytes (base64url); the HMAC key is the whole string's UTF-8 bytes. */
export const newAlertSigningSecret = (): string => `whsec_${randomBytes(32).toString('base64url')}`;

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, the value of `x-tollgate-signature`. */
export function signAlertBody(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`, 'utf8').digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/**
 * What a receiver does: recompute the HMAC over `<t>.<raw body>`, compare in constant time, and
 * refuse timestamps further than `toleranceSeconds` from now (replays).
 */
export function verifyAlertSignature(
  secret: string,
  body: string,
  header: string,
  options: { nowSeconds?: number; toleranceSeconds?: number } = {},
): boolean {
  const parts = new Map<string, string>();
  for (const piece of header.split(',')) {
    const eq = piece.indexOf('=');
    if (eq > 0) parts.set(piece.slice(0, eq).trim(), piece.slice(eq + 1).trim());
  }
  const t = parts.get('t');
  const v1 = parts.get('v1');
  if (!t || !/^\d{1,12}$/.test(t) || !v1 || !/^[0-9a-f]{64}$/.test(v1)) return false;
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - Number(t)) > (options.toleranceSeconds ?? 300)) return false;
  const expected = signAlertBody(secret, body, Number(t)).slice(`t=${t},v1=`.length);
  return timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(v1, 'hex'));
}
