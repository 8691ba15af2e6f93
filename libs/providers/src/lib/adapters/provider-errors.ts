import type { ProviderError } from './provider-adapter';

/** OpenAI error `type` and default `code` for a status, as the proxy's own errors use them. */
function openAITypeOf(status: number): { type: string; code: string | null } {
  if (status === 401) return { type: 'authentication_error', code: 'invalid_api_key' };
  if (status === 402) return { type: 'insufficient_quota', code: 'insufficient_quota' };
  if (status === 403) return { type: 'permission_error', code: null };
  if (status === 404) return { type: 'invalid_request_error', code: 'not_found' };
  if (status === 408) return { type: 'api_error', code: 'timeout' };
  if (status === 413) return { type: 'invalid_request_error', code: 'request_too_large' };
  if (status === 429) return { type: 'rate_limit_error', code: 'rate_limit_exceeded' };
  if (status === 503) return { type: 'api_error', code: 'overloaded' };
  if (status === 504) return { type: 'api_error', code: 'timeout' };
  if (status >= 500) return { type: 'api_error', code: null };
  return { type: 'invalid_request_error', code: null };
}

/** 408, 409 (conflict/lock), 429 and every 5xx may succeed on another attempt. */
export const isRetryableStatus = (status: number): boolean =>
  status === 408 || status === 409 || status === 429 || status >= 500;

export interface ProviderErrorInit {
  /** the status OpenAI would use */
  status: number;
  message: string;
  upstreamStatus: number;
  /** overrides the code derived from the status */
  code?: string | null;
  /** overrides the type derived from the status */
  type?: string;
  param?: string | null;
  /** overrides isRetryableStatus(status) */
  retryable?: boolean;
}

export function providerError(init: ProviderErrorInit): ProviderError {
  const t = openAITypeOf(init.status);
  const status = init.status;
  return {
    status,
    body: {
      error: {
        message: init.message,
        type: init.type ?? t.type,
        param: init.param ?? null,
        code: init.code === undefined ? t.code : init.code,
      },
    },
    retryable: init.retryable ?? isRetryableStatus(status),
    credentialsRejected: status === 401 || status === 403,
    upstreamStatus: init.upstreamStatus,
  };
}

/** A 2xx answer that is not what the provider's format promises (retryable: another channel may do). */
export function malformedResponse(what: string, upstreamStatus: number): ProviderError {
  return providerError({
    status: 502,
    message: `The provider sent a malformed response: ${what}.`,
    upstreamStatus,
    code: 'upstream_malformed_response',
    retryable: true,
  });
}

/** The first characters of a body that is not JSON, for an error message. */
export function snippet(text: string): string {
  const s = text.trim().replace(/\s+/g, ' ');
  return s.length > 200 ? `${s.slice(0, 197)}...` : s;
}

export function parseJsonObject(text: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

export const isJsonContentType = (ct: string | undefined): boolean =>
  ct === undefined || ct === '' || ct.toLowerCase().includes('json');

export const isSuccess = (status: number): boolean => status >= 200 && status < 300;

/** `base` without trailing slashes, then `path`. */
export function joinUrl(base: string, path: string): string {
  let end = base.length;
  while (end > 0 && base.charCodeAt(end - 1) === 47 /* / */) end--;
  return base.slice(0, end) + path;
}

/** Default headers, then the channel's extra headers (lower-cased, applied last). */
export function withExtraHeaders(
  headers: Record<string, string>,
  extra: Readonly<Record<string, string>> | undefined,
): Record<string, string> {
  if (extra) for (const k of Object.keys(extra)) headers[k.toLowerCase()] = extra[k];
  return headers;
}
