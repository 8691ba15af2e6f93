import { createHmac } from 'node:crypto';
import { newAlertSigningSecret, signAlertBody, verifyAlertSignature } from './alert-secrets';

describe('alert signatures', () => {
  const secret = 'whsec_test-secret';
  const body = '{"id":"a1","type":"budget.threshold"}';

  it('signs "<t>.<body>" with HMAC-SHA256 in the documented header format', () => {
    const sut = signAlertBody(secret, body, 1_700_000_000);
    const mac = createHmac('sha256', secret).update(`1700000000.${body}`).digest('hex');
    expect(sut).toBe(`t=1700000000,v1=${mac}`);
  });

  it('verifies its own signature and refuses a changed body, another secret or an old timestamp', () => {
    const header = signAlertBody(secret, body, 1_700_000_000);
    const at = { nowSeconds: 1_700_000_010 };
    expect(verifyAlertSignature(secret, body, header, at)).toBe(true);
    expect(verifyAlertSignature(secret, `${body} `, header, at)).toBe(false);
    expect(verifyAlertSignature('whsec_other', body, header, at)).toBe(false);
    expect(verifyAlertSignature(secret, body, header, { nowSeconds: 1_700_001_000 })).toBe(false);
    expect(verifyAlertSignature(secret, body, 'v1=abc', at)).toBe(false);
  });

  it('generates a different 256-bit secret each time', () => {
    const a = newAlertSigningSecret();
    const b = newAlertSigningSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
  });
});
