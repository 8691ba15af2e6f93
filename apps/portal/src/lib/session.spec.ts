import {
  accessTokenExpiresAt,
  decodeSession,
  encodeSession,
  isSecureRequest,
  loginPath,
  needsRefresh,
  safeNextPath,
  sessionCookieOptions,
} from './session';

function jwt(payload: Record<string, unknown>): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}.c2lnbmF0dXJl`;
}

describe('session cookie value', () => {
  it('round-trips the token pair', () => {
    const tokens = {
      accessToken: jwt({ sub: 'u1', exp: 2_000_000_000 }),
      refreshToken: 'r'.repeat(64),
    };
    const sut = encodeSession(tokens);
    expect(sut).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeSession(sut)).toEqual(tokens);
  });

  it.each([
    ['undefined', undefined],
    ['empty', ''],
    ['not base64url', 'a b c'],
    ['base64 of non-JSON', Buffer.from('hello').toString('base64url')],
    ['wrong version', Buffer.from(JSON.stringify({ v: 2, a: 'x', r: 'y' })).toString('base64url')],
    ['missing refresh token', Buffer.from(JSON.stringify({ v: 1, a: 'x' })).toString('base64url')],
    [
      'empty access token',
      Buffer.from(JSON.stringify({ v: 1, a: '', r: 'y' })).toString('base64url'),
    ],
    ['JSON null', Buffer.from('null').toString('base64url')],
    ['oversized', 'A'.repeat(9000)],
  ])('reads a %s cookie as no session', (_label, raw) => {
    expect(decodeSession(raw)).toBeNull();
  });

  it('is httpOnly, SameSite=Lax, site-wide, and Secure only when asked', () => {
    expect(sessionCookieOptions(false)).toEqual(
      expect.objectContaining({ httpOnly: true, sameSite: 'lax', path: '/', secure: false }),
    );
    expect(sessionCookieOptions(true).secure).toBe(true);
    expect(sessionCookieOptions(true).maxAge).toBeGreaterThan(0);
  });
});

describe('access token expiry', () => {
  const now = Date.UTC(2026, 10, 23, 12, 0, 0);

  it('reads exp (seconds) as milliseconds', () => {
    expect(accessTokenExpiresAt(jwt({ exp: 1_800_000_000 }))).toBe(1_800_000_000_000);
  });

  it.each([['not-a-jwt'], ['a.b'], [jwt({ sub: 'no exp' })], [jwt({ exp: 'soon' })], ['x.!!!.y']])(
    'has no expiry for %p',
    (token) => {
      expect(accessTokenExpiresAt(token)).toBeNull();
    },
  );

  it('refreshes a token that expires within the skew, and not one with minutes left', () => {
    expect(needsRefresh(jwt({ exp: now / 1000 + 10 }), now)).toBe(true);
    expect(needsRefresh(jwt({ exp: now / 1000 - 1 }), now)).toBe(true);
    expect(needsRefresh(jwt({ exp: now / 1000 + 600 }), now)).toBe(false);
  });

  it('refreshes a token whose expiry cannot be read', () => {
    expect(needsRefresh('opaque', now)).toBe(true);
  });
});

describe('isSecureRequest', () => {
  it('follows COOKIE_SECURE when forced', () => {
    expect(isSecureRequest('always', 'http', 'http:')).toBe(true);
    expect(isSecureRequest('never', 'https', 'https:')).toBe(false);
  });

  it('in auto mode trusts the first X-Forwarded-Proto, then the request protocol', () => {
    expect(isSecureRequest('auto', 'https, http', 'http:')).toBe(true);
    expect(isSecureRequest('auto', 'http', 'https:')).toBe(false);
    expect(isSecureRequest('auto', null, 'https:')).toBe(true);
    expect(isSecureRequest('auto', undefined, 'http:')).toBe(false);
  });
});

describe('safeNextPath', () => {
  it.each([
    ['/tenants/abc', '/tenants/abc'],
    ['/usage?month=2026-11', '/usage?month=2026-11'],
    [undefined, '/'],
    ['', '/'],
    ['https://evil.example/', '/'],
    ['//evil.example/x', '/'],
    ['/\\evil.example', '/'],
    ['/\t/evil.example', '/'],
    ['javascript:alert(1)', '/'],
    ['/login', '/'],
    ['/signup?x=1', '/'],
  ])('%p → %p', (raw, expected) => {
    expect(safeNextPath(raw)).toBe(expected);
  });

  it('builds the login URL with where to return and why', () => {
    expect(loginPath('/usage?month=2026-11', 'expired')).toBe(
      '/login?next=%2Fusage%3Fmonth%3D2026-11&reason=expired',
    );
    expect(loginPath('/')).toBe('/login');
    expect(loginPath('https://evil.example')).toBe('/login');
  });
});
