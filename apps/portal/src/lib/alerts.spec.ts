import { DEFAULT_ALERT_THRESHOLDS_PERCENT, MAX_ALERT_THRESHOLDS } from '@tollgate/contracts';
import {
  DEFAULT_THRESHOLDS,
  deliveryLabel,
  MAX_THRESHOLDS,
  parseAlertSettings,
  parseThresholds,
  parseWebhookUrl,
  scopeLabel,
  validateRedeemCode,
  windowLabel,
} from './alerts';

describe('alert helpers', () => {
  it('mirror the contracts rules they restate', () => {
    expect(MAX_THRESHOLDS).toBe(MAX_ALERT_THRESHOLDS);
    expect(DEFAULT_THRESHOLDS).toEqual(DEFAULT_ALERT_THRESHOLDS_PERCENT);
  });
});

describe('parseThresholds', () => {
  it('reads percentages in any order and separator, sorted and unique', () => {
    expect(parseThresholds('100, 50 80;50%')).toEqual({ ok: true, value: [50, 80, 100] });
    expect(parseThresholds('1000')).toEqual({ ok: true, value: [1000] });
  });

  it('refuses an empty list, fractions, zero and values above 1000', () => {
    expect(parseThresholds(' ')).toEqual({
      ok: false,
      error: 'Give at least one threshold, e.g. 50, 80, 100.',
    });
    expect(parseThresholds('50, 0, 1001, 7.5')).toEqual({
      ok: false,
      error: 'Thresholds must be whole percentages from 1 to 1000; “0”, “1001”, “7.5” is not.',
    });
  });

  it('refuses more than ten distinct thresholds', () => {
    expect(parseThresholds('1 2 3 4 5 6 7 8 9 10').ok).toBe(true);
    expect(parseThresholds('1 2 3 4 5 6 7 8 9 10 11')).toEqual({
      ok: false,
      error: 'At most 10 thresholds may be set.',
    });
  });
});

describe('parseWebhookUrl', () => {
  it('takes blank as no webhook and keeps an http(s) URL as typed', () => {
    expect(parseWebhookUrl('  ')).toEqual({ ok: true, value: null });
    expect(parseWebhookUrl(' https://hooks.example.com/x?y=1 ')).toEqual({
      ok: true,
      value: 'https://hooks.example.com/x?y=1',
    });
  });

  it('refuses relative, non-http and overlong URLs', () => {
    expect(parseWebhookUrl('hooks.example.com').ok).toBe(false);
    expect(parseWebhookUrl('ftp://hooks.example.com/')).toEqual({
      ok: false,
      error: 'Webhook URL must be an http or https URL.',
    });
    expect(parseWebhookUrl(`https://e.com/${'a'.repeat(2000)}`).ok).toBe(false);
  });

  it('leaves the public-address rule to billing, which words the refusal', () => {
    expect(parseWebhookUrl('http://127.0.0.1:9/hook').ok).toBe(true);
  });
});

describe('parseAlertSettings', () => {
  it('builds the PUT body', () => {
    expect(
      parseAlertSettings({ webhookUrl: 'https://h.example.com/', thresholdsPercent: '80,50' }),
    ).toEqual({
      ok: true,
      body: { webhookUrl: 'https://h.example.com/', thresholdsPercent: [50, 80] },
    });
  });

  it('lists both problems at once', () => {
    const sut = parseAlertSettings({ webhookUrl: 'nope', thresholdsPercent: '' });
    expect(sut.ok ? [] : sut.errors).toHaveLength(2);
  });
});

describe('validateRedeemCode', () => {
  it('requires 8 to 100 characters', () => {
    expect(validateRedeemCode('')).toEqual(['Enter the redemption code.']);
    expect(validateRedeemCode('short')).toEqual(['A redemption code has 8 to 100 characters.']);
    expect(validateRedeemCode('TG-ABCD-EFGH')).toEqual([]);
    expect(validateRedeemCode('x'.repeat(101))).toHaveLength(1);
  });
});

describe('alert words', () => {
  it('name scopes, windows and delivery states', () => {
    expect(scopeLabel('tenant')).toBe('Tenant');
    expect(scopeLabel('key-model')).toBe('Key × model');
    expect(windowLabel('month', '2026-11')).toBe('Month 2026-11');
    expect(windowLabel('total', 'total')).toBe('Total');
    expect(deliveryLabel('no_webhook')).toBe('no webhook');
    expect(deliveryLabel('pending')).toBe('sending');
  });
});
