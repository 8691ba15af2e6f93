import type { OpenAIErrorBody } from '@tollgate/contracts';
import type { AdmitResult, RateLimitSnapshot } from './admission-types';

/** Whole milliseconds as seconds, with at most three decimals and no trailing zeros: `1.25`, `6`. */
function secondsText(ms: number): string {
  const whole = Math.floor(ms / 1000);
  let frac = ms % 1000;
  if (frac === 0) return String(whole);
  let digits = 3;
  while (frac % 10 === 0) {
    frac /= 10;
    digits--;
  }
  return `${whole}.${String(frac).padStart(digits, '0')}`;
}

/** A duration the way OpenAI writes its x-ratelimit-reset-* headers: `20ms`, `1.5s`, `6m0s`. */
export function formatResetDuration(ms: number): string {
  const v = ms > 0 ? Math.ceil(ms) : 0;
  if (v < 1000) return `${v}ms`;
  if (v < 60_000) return `${secondsText(v)}s`;
  const minutes = Math.floor(v / 60_000);
  return `${minutes}m${secondsText(v % 60_000)}s`;
}

/** The x-ratelimit-* headers of a limited key (empty when neither requests nor tokens are limited). */
export function rateLimitHeaders(rateLimits: RateLimitSnapshot): Record<string, string> {
  const { requests: r, tokens: t } = rateLimits;
  return rateLimitHeaderTexts(
    r ? String(r.limit) : null,
    r ? String(r.remaining) : '',
    r ? formatResetDuration(r.resetMs) : '',
    t ? String(t.limit) : null,
    t ? String(t.remaining) : '',
    t ? formatResetDuration(t.resetMs) : '',
  );
}

/**
 * The x-ratelimit-* headers from their texts: those of requests when `requestLimit` is not null,
 * those of tokens when `tokenLimit` is not (the other texts of an absent limit are not read).
 * Callers that keep texts between responses, as admission leases do, build them here too.
 */
export function rateLimitHeaderTexts(
  requestLimit: string | null,
  requestsRemaining: string,
  requestReset: string,
  tokenLimit: string | null,
  tokensRemaining: string,
  tokenReset: string,
): Record<string, string> {
  // object literals: one shape per case, cheaper to build and to copy than properties added one by one
  if (requestLimit !== null && tokenLimit !== null)
    return {
      'x-ratelimit-limit-requests': requestLimit,
      'x-ratelimit-remaining-requests': requestsRemaining,
      'x-ratelimit-reset-requests': requestReset,
      'x-ratelimit-limit-tokens': tokenLimit,
      'x-ratelimit-remaining-tokens': tokensRemaining,
      'x-ratelimit-reset-tokens': tokenReset,
    };
  if (requestLimit !== null)
    return {
      'x-ratelimit-limit-requests': requestLimit,
      'x-ratelimit-remaining-requests': requestsRemaining,
      'x-ratelimit-reset-requests': requestReset,
    };
  if (tokenLimit !== null)
    return {
      'x-ratelimit-limit-tokens': tokenLimit,
      'x-ratelimit-remaining-tokens': tokensRemaining,
      'x-ratelimit-reset-tokens': tokenReset,
    };
  return {};
}

export interface AdmissionRejection {
  status: 429;
  /** seconds for `Retry-After`, or null (waiting does not help) */
  retryAfterSeconds: number | null;
  body: OpenAIErrorBody;
}

const SCOPE_WORDS = {
  key: 'API key',
  tenant: 'tenant',
  org: 'organisation',
  'key-model': 'API key',
  'tenant-model': 'tenant',
} as const;

/**
 * The OpenAI-format 429 of a rejected admission: `rate_limit_exceeded` for rpm, tpm and
 * concurrency, `insufficient_quota` for budgets and the prepaid balance.
 */
export function describeRejection(
  result: Extract<AdmitResult, { admitted: false }>,
): AdmissionRejection {
  const who =
    result.model === null
      ? SCOPE_WORDS[result.scope]
      : `${SCOPE_WORDS[result.scope]} on model ${JSON.stringify(result.model)}`;
  const retryAfterSeconds =
    result.retryAfterMs === null ? null : Math.max(1, Math.ceil(result.retryAfterMs / 1000));
  const rate = (type: string, what: string): AdmissionRejection => ({
    status: 429,
    retryAfterSeconds,
    body: {
      error: {
        message: `Rate limit reached for this ${who}: ${what}.${
          retryAfterSeconds === null ? '' : ` Please try again in ${retryAfterSeconds}s.`
        }`,
        type,
        param: null,
        code: 'rate_limit_exceeded',
      },
    },
  });
  const quota = (what: string): AdmissionRejection => ({
    status: 429,
    retryAfterSeconds,
    body: {
      error: {
        message: `You exceeded the ${what} of this ${who}.`,
        type: 'insufficient_quota',
        param: null,
        code: 'insufficient_quota',
      },
    },
  });
  switch (result.reason) {
    case 'rpm':
      return rate('requests', 'requests per minute');
    case 'tpm':
      return rate('tokens', 'tokens per minute');
    case 'concurrency':
      return rate('requests', 'concurrent requests');
    case 'budget_daily':
      return quota('daily budget');
    case 'budget_monthly':
      return quota('monthly budget');
    case 'budget_total':
      return quota('total budget');
    case 'balance':
      return quota('prepaid balance');
  }
}
