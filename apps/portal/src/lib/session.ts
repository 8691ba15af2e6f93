/**
 * The browser session: the accounts token pair, kept in one httpOnly, SameSite=Lax cookie that page
 * scripts cannot read. These helpers are pure so the proxy, server actions and tests share them.
 */
import type { CookieSecureMode } from './config';

export const SESSION_COOKIE = 'tg_session';
/** the organisation the user last picked (not a secret) */
export const ORG_COOKIE = 'tg_org';
/** The cookie outlives the access token; the refresh token decides how long a session really lasts. */
export const SESSION_MAX_AGE_SECONDS = 30 * 24 * 60 * 60;
/** Refresh this long before the access token's `exp`, so a backend call never races the expiry. */
export const REFRESH_SKEW_MS = 30_000;

export interface SessionTokens {
  accessToken: string;
  refreshToken: string;
}

interface StoredSession {
  v: 1;
  a: string;
  r: string;
}

export function encodeSession(tokens: SessionTokens): string {
  const stored: StoredSession = { v: 1, a: tokens.accessToken, r: tokens.refreshToken };
  return Buffer.from(JSON.stringify(stored), 'utf8').toString('base64url');
}

/** The tokens in a cookie value, or null for anything missing, foreign or tampered into nonsense. */
export function decodeSession(raw: string | undefined | null): SessionTokens | null {
  if (!raw || raw.length > 8192 || !/^[A-Za-z0-9_-]+$/.test(raw)) return null;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    if (parsed === null || typeof parsed !== 'object') return null;
    const s = parsed as Partial<StoredSession>;
    if (s.v !== 1 || typeof s.a !== 'string' || typeof s.r !== 'string' || !s.a || !s.r)
      return null;
    return { accessToken: s.a, refreshToken: s.r };
  } catch {
    return null;
  }
}

/**
 * When the access token expires (ms since the epoch), read from its `exp` claim without verifying the
 * signature: the portal only uses it to decide when to refresh; the backends verify every token.
 */
export function accessTokenExpiresAt(token: string): number | null {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return null;
  try {
    const payload: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    if (payload === null || typeof payload !== 'object') return null;
    const exp = (payload as { exp?: unknown }).exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : null;
  } catch {
    return null;
  }
}

export function needsRefresh(
  accessToken: string,
  nowMs: number,
  skewMs = REFRESH_SKEW_MS,
): boolean {
  const expiresAt = accessTokenExpiresAt(accessToken);
  return expiresAt === null || expiresAt - skewMs <= nowMs;
}

export interface CookieOptions {
  httpOnly: true;
  sameSite: 'lax';
  secure: boolean;
  path: '/';
  maxAge: number;
}

export function sessionCookieOptions(secure: boolean): CookieOptions {
  return { httpOnly: true, sameSite: 'lax', secure, path: '/', maxAge: SESSION_MAX_AGE_SECONDS };
}

/**
 * Whether cookies should carry `Secure`: forced by COOKIE_SECURE, or (auto) when the request came over
 * https, directly or through a TLS-terminating proxy that says so in X-Forwarded-Proto.
 */
export function isSecureRequest(
  mode: CookieSecureMode,
  forwardedProto: string | null | undefined,
  protocol: string | null | undefined,
): boolean {
  switch (mode) {
    case 'always':
      return true;
    case 'never':
      return false;
    case 'auto': {
      const first = (forwardedProto ?? '').split(',')[0]?.trim().toLowerCase();
      if (first) return first === 'https';
      return protocol === 'https:' || protocol === 'https';
    }
  }
}

const AUTH_PAGES = new Set(['/login', '/signup']);

/** Where to go after logging in: only a local path, never another origin and never back to a login page. */
export function safeNextPath(raw: string | null | undefined): string {
  if (!raw || raw.length > 1024) return '/';
  if (!raw.startsWith('/') || raw.startsWith('//') || raw.includes('\\')) return '/';
  // control characters (e.g. a tab in "/\t/evil.com") are dropped by URL parsers: refuse them
  if (/[\u0000-\u001f\u007f]/.test(raw)) return '/';
  const pathOnly = raw.split(/[?#]/)[0] ?? '/';
  if (AUTH_PAGES.has(pathOnly)) return '/';
  return raw;
}

/** The login page URL that brings the user back to `returnTo` afterwards. */
export function loginPath(returnTo?: string, reason?: 'expired'): string {
  const params = new URLSearchParams();
  const next = safeNextPath(returnTo);
  if (next !== '/') params.set('next', next);
  if (reason) params.set('reason', reason);
  const qs = params.toString();
  return qs ? `/login?${qs}` : '/login';
}
