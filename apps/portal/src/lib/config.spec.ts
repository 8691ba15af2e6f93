import { loadPortalConfig, PortalConfigError } from './config';

describe('loadPortalConfig', () => {
  it('defaults to the local accounts and billing ports and automatic cookie security', () => {
    const sut = loadPortalConfig({});
    expect(sut).toEqual({
      accountsUrl: 'http://127.0.0.1:3001',
      billingUrl: 'http://127.0.0.1:3002',
      cookieSecure: 'auto',
      backendTimeoutMs: 10_000,
    });
  });

  it('strips trailing slashes from the service URLs', () => {
    const sut = loadPortalConfig({
      ACCOUNTS_URL: 'http://accounts:3001/',
      BILLING_URL: 'https://billing.example//',
    });
    expect(sut.accountsUrl).toBe('http://accounts:3001');
    expect(sut.billingUrl).toBe('https://billing.example');
  });

  it.each([
    ['true', 'always'],
    ['1', 'always'],
    ['false', 'never'],
    ['0', 'never'],
    ['auto', 'auto'],
    ['', 'auto'],
  ])('reads COOKIE_SECURE=%p as %p', (raw, expected) => {
    expect(loadPortalConfig({ COOKIE_SECURE: raw }).cookieSecure).toBe(expected);
  });

  it.each([
    [{ ACCOUNTS_URL: 'not a url' }, /ACCOUNTS_URL/],
    [{ BILLING_URL: 'ftp://billing' }, /BILLING_URL/],
    [{ COOKIE_SECURE: 'sometimes' }, /COOKIE_SECURE/],
    [{ BACKEND_TIMEOUT_MS: '-5' }, /BACKEND_TIMEOUT_MS/],
  ])('refuses %p', (env, message) => {
    expect(() => loadPortalConfig(env)).toThrow(PortalConfigError);
    expect(() => loadPortalConfig(env)).toThrow(message);
  });
});
