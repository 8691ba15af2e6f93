import type { OpenAIErrorBody } from '@tollgate/contracts';
import type { AdmitResult, RateLimitSnapshot } from './admission-types';

/** A duration the way OpenAI writes its x-ratelimit-reset-* headers: `20ms`, `1.5s`, `6m0s`. */
export function formatResetDuration(ms: number): string {
  const v = Math.max(0, Math.ceil(ms));
  if (v < 1000) return `${v}ms`;
  if (v < 60_000) return `${Number((v / 1000).toFixed(3))}s`;
  const minutes = Math.floor(v / 60_000);
  const seconds = Number(((v % 60_000) / 1000).toFixed(3));
  return `${minutes}m${seconds}s`;
}

/** The x-ratelimit-* headers of a limited key (empty when neither requests nor tokens are limited). */
export function rateLimitHeaders(rateLimits: RateLimitSnapshot): Record<string, string> {
  const h: Record<string, string> = {};
  if (rateLimits.requests) {
    h['x-ratelimit-limit-requests'] = String(rateLimits.requests.limit);
    h['x-ratelimit-remaining-requests'] = String(rateLimits.requests.remaining);
    h['x-ratelimit-reset-requests'] = formatResetDuration(rateLimits.requests.resetMs);
  }
  if (rateLimits.tokens) {
    h['x-ratelimit-limit-tokens'] = String(rateLimits.tokens.limit);
    h['x-ratelimit-remaining-tokens'] = String(rateLimits.tokens.remaining);
    h['x-ratelimit-reset-tokens'] = formatResetDuration(rateLimits.tokens.resetMs);
  }
  return h;
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
