import { ConfigValidationError, loadConfig } from '@tollgate/server-kit';
import { BillingWorkerConfig, describeBillingConfig } from '../config/billing.config';

describe('alert settings of the billing config', () => {
  const key = 'ab'.repeat(32);

  it('has bounded retry defaults and no encryption key unless given', () => {
    const sut = loadConfig(BillingWorkerConfig, {});
    expect(sut).toMatchObject({
      ALERT_WEBHOOK_ATTEMPTS: 8,
      ALERT_WEBHOOK_BACKOFF_MS: 5_000,
      ALERT_WEBHOOK_TIMEOUT_MS: 10_000,
    });
    expect(sut.TOLLGATE_ENCRYPTION_KEY).toBeUndefined();
  });

  it('accepts a 32-byte key as hex or base64 and refuses anything else', () => {
    expect(
      loadConfig(BillingWorkerConfig, { TOLLGATE_ENCRYPTION_KEY: key }).TOLLGATE_ENCRYPTION_KEY,
    ).toBe(key);
    const b64 = Buffer.alloc(32, 9).toString('base64');
    expect(() => loadConfig(BillingWorkerConfig, { TOLLGATE_ENCRYPTION_KEY: b64 })).not.toThrow();
    expect(() => loadConfig(BillingWorkerConfig, { TOLLGATE_ENCRYPTION_KEY: 'abcd' })).toThrow(
      ConfigValidationError,
    );
    expect(() => loadConfig(BillingWorkerConfig, { ALERT_WEBHOOK_ATTEMPTS: '0' })).toThrow(
      ConfigValidationError,
    );
  });

  it('never describes the encryption key', () => {
    const described = describeBillingConfig(
      loadConfig(BillingWorkerConfig, { TOLLGATE_ENCRYPTION_KEY: key }),
    );
    expect(JSON.stringify(described)).not.toContain(key);
    expect(described['ALERT_WEBHOOK_TIMEOUT_MS']).toBe(10_000);
  });
});
