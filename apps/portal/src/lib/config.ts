/**
 * The portal's configuration, read from the environment in this one place. Values are read at request
 * time on the server (never inlined into the browser bundle: no NEXT_PUBLIC_ variables).
 */
export type CookieSecureMode = 'auto' | 'always' | 'never';

export interface PortalConfig {
  /** base URL of the accounts service, without a trailing slash and without /api/v1 */
  accountsUrl: string;
  /** base URL of the billing service */
  billingUrl: string;
  /** `auto`: Secure cookies when the request reached us over https (directly or per X-Forwarded-Proto) */
  cookieSecure: CookieSecureMode;
  /** timeout of each backend call, in milliseconds */
  backendTimeoutMs: number;
}

export class PortalConfigError extends Error {}

function baseUrl(name: string, raw: string | undefined, fallback: string): string {
  const value = raw === undefined || raw.trim() === '' ? fallback : raw.trim();
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new PortalConfigError(`${name} must be an absolute http(s) URL, got "${value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new PortalConfigError(`${name} must be an http(s) URL, got "${value}"`);
  }
  return value.replace(/\/+$/, '');
}

function cookieSecure(raw: string | undefined): CookieSecureMode {
  const value = (raw ?? '').trim().toLowerCase();
  switch (value) {
    case '':
    case 'auto':
      return 'auto';
    case 'true':
    case '1':
    case 'always':
      return 'always';
    case 'false':
    case '0':
    case 'never':
      return 'never';
    default:
      throw new PortalConfigError(`COOKIE_SECURE must be auto, true or false, got "${raw}"`);
  }
}

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) {
    throw new PortalConfigError(`${name} must be a positive integer, got "${raw}"`);
  }
  return n;
}

export function loadPortalConfig(env: Record<string, string | undefined>): PortalConfig {
  return {
    accountsUrl: baseUrl('ACCOUNTS_URL', env.ACCOUNTS_URL, 'http://127.0.0.1:3001'),
    billingUrl: baseUrl('BILLING_URL', env.BILLING_URL, 'http://127.0.0.1:3002'),
    cookieSecure: cookieSecure(env.COOKIE_SECURE),
    backendTimeoutMs: positiveInt('BACKEND_TIMEOUT_MS', env.BACKEND_TIMEOUT_MS, 10_000),
  };
}

let cached: PortalConfig | undefined;

/** The process's configuration, validated on first use. */
export function portalConfig(): PortalConfig {
  cached ??= loadPortalConfig(process.env);
  return cached;
}
