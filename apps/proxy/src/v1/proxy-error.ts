import type { OpenAIErrorBody } from '@tollgate/contracts';
import { type AnthropicErrorBody, anthropicErrorFromOpenAI } from '@tollgate/providers';

/** Why the proxy refused or failed a request. Mapped to the OpenAI error body in one place below. */
export enum ProxyErrorCode {
  MissingApiKey = 'missing_api_key',
  InvalidApiKey = 'invalid_api_key',
  RevokedApiKey = 'revoked_api_key',
  ExpiredApiKey = 'expired_api_key',
  ModelNotAllowed = 'model_not_allowed',
  ModelNotFound = 'model_not_found',
  MalformedJson = 'malformed_json',
  InvalidRequest = 'invalid_request',
  BodyTooLarge = 'body_too_large',
  UnknownRoute = 'unknown_route',
  UpstreamFailed = 'upstream_failed',
  UpstreamTimeout = 'upstream_timeout',
  /** a 4xx from the provider, passed on with the provider's status */
  UpstreamRejected = 'upstream_rejected',
  ServiceUnavailable = 'service_unavailable',
  Internal = 'internal',
}

export class ProxyError {
  constructor(
    readonly code: ProxyErrorCode,
    readonly message: string,
    /** the OpenAI `param` (request field) */
    readonly param: string | null = null,
    /** the OpenAI `code` when it is more specific than the default for `code` */
    readonly openaiCode: string | null = null,
    /** status for UpstreamRejected (the provider's) */
    readonly upstreamStatus = 0,
    /** response headers to add (e.g. Retry-After) */
    readonly headers: Record<string, string> | null = null,
  ) {}
}

export interface OpenAIErrorResponse {
  status: number;
  body: OpenAIErrorBody;
}

function body(
  message: string,
  type: string,
  param: string | null,
  code: string | null,
): OpenAIErrorBody {
  return { error: { message, type, param, code } };
}

/** The one mapping from a ProxyError to the status and OpenAI error body a client gets. */
export function toOpenAIError(e: ProxyError): OpenAIErrorResponse {
  switch (e.code) {
    case ProxyErrorCode.MissingApiKey:
    case ProxyErrorCode.InvalidApiKey:
    case ProxyErrorCode.RevokedApiKey:
    case ProxyErrorCode.ExpiredApiKey:
      return {
        status: 401,
        body: body(e.message, 'invalid_request_error', null, 'invalid_api_key'),
      };
    case ProxyErrorCode.ModelNotAllowed:
      return {
        status: 403,
        body: body(e.message, 'invalid_request_error', 'model', 'model_not_allowed'),
      };
    case ProxyErrorCode.ModelNotFound:
      return {
        status: 404,
        body: body(e.message, 'invalid_request_error', e.param, 'model_not_found'),
      };
    case ProxyErrorCode.MalformedJson:
      return { status: 400, body: body(e.message, 'invalid_request_error', null, 'invalid_json') };
    case ProxyErrorCode.InvalidRequest:
      return { status: 400, body: body(e.message, 'invalid_request_error', e.param, e.openaiCode) };
    case ProxyErrorCode.BodyTooLarge:
      return {
        status: 413,
        body: body(e.message, 'invalid_request_error', null, 'request_too_large'),
      };
    case ProxyErrorCode.UnknownRoute:
      return { status: 404, body: body(e.message, 'invalid_request_error', null, 'unknown_url') };
    case ProxyErrorCode.UpstreamFailed:
      return {
        status: 502,
        body: body(e.message, 'api_error', null, e.openaiCode ?? 'upstream_error'),
      };
    case ProxyErrorCode.UpstreamTimeout:
      return { status: 504, body: body(e.message, 'api_error', null, 'upstream_timeout') };
    case ProxyErrorCode.UpstreamRejected:
      return {
        status: e.upstreamStatus,
        body: body(e.message, upstreamType(e.upstreamStatus), e.param, e.openaiCode),
      };
    case ProxyErrorCode.ServiceUnavailable:
      return { status: 503, body: body(e.message, 'api_error', null, 'service_unavailable') };
    case ProxyErrorCode.Internal:
      return { status: 500, body: body(e.message, 'api_error', null, 'internal_error') };
  }
}

function upstreamType(status: number): string {
  return status === 429 ? 'rate_limit_error' : 'invalid_request_error';
}

export const errors = {
  missingKey: () =>
    new ProxyError(
      ProxyErrorCode.MissingApiKey,
      "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
    ),
  invalidKey: (masked: string) =>
    new ProxyError(
      ProxyErrorCode.InvalidApiKey,
      `Incorrect API key provided: ${masked}. Check the key or create a new one in the Tollgate portal.`,
    ),
  revokedKey: (prefix: string) =>
    new ProxyError(ProxyErrorCode.RevokedApiKey, `The API key ${prefix}… has been revoked.`),
  expiredKey: (prefix: string, at: string) =>
    new ProxyError(ProxyErrorCode.ExpiredApiKey, `The API key ${prefix}… expired at ${at}.`),
  modelNotAllowed: (model: string) =>
    new ProxyError(
      ProxyErrorCode.ModelNotAllowed,
      `This API key is not allowed to use the model \`${model}\`.`,
    ),
  modelNotFound: (model: string, param: string | null = 'model') =>
    new ProxyError(
      ProxyErrorCode.ModelNotFound,
      `The model \`${model}\` does not exist or you do not have access to it.`,
      param,
    ),
  /** the model exists for the caller, but none of its channels has this endpoint's API */
  endpointUnsupported: (model: string, endpoint: string, channelType: string) =>
    new ProxyError(
      ProxyErrorCode.InvalidRequest,
      `The model \`${model}\` is served only by provider channels (such as \`${channelType}\`) that have no ${endpoint === 'embeddings' ? 'embeddings' : 'text completions'} API; use /v1/chat/completions for it, or a model served by an OpenAI-compatible or Azure channel.`,
      'model',
      'unsupported_endpoint',
    ),
  malformedJson: () =>
    new ProxyError(
      ProxyErrorCode.MalformedJson,
      "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The API expects a JSON payload, but what was sent was not valid JSON.)",
    ),
  bodyTooLarge: (limit: number) =>
    new ProxyError(
      ProxyErrorCode.BodyTooLarge,
      `The request body is larger than the ${limit} bytes allowed.`,
    ),
  unknownRoute: (method: string, path: string) =>
    new ProxyError(ProxyErrorCode.UnknownRoute, `Invalid URL (${method} ${path})`),
  /** every channel left for the model is cooling down after a 429 for longer than the proxy waits */
  channelsRateLimited: (model: string, retryAfterSeconds: number) =>
    new ProxyError(
      ProxyErrorCode.UpstreamRejected,
      `Every provider channel for \`${model}\` is rate limited; retry after ${retryAfterSeconds} s.`,
      null,
      'rate_limit_exceeded',
      429,
      { 'retry-after': String(retryAfterSeconds) },
    ),
  /** every channel left for the model has an open circuit */
  noHealthyChannel: (model: string, retryAfterSeconds: number) =>
    new ProxyError(
      ProxyErrorCode.ServiceUnavailable,
      `No healthy provider channel for \`${model}\` right now; retry after ${retryAfterSeconds} s.`,
      null,
      null,
      0,
      { 'retry-after': String(retryAfterSeconds) },
    ),
  /** every channel left for the model had its credentials refused by the provider */
  channelsDisabled: (model: string) =>
    new ProxyError(
      ProxyErrorCode.UpstreamFailed,
      `No provider channel for \`${model}\` is usable: the providers refused their credentials.`,
      null,
      'upstream_auth_failed',
    ),
  unavailable: (what: string) =>
    new ProxyError(
      ProxyErrorCode.ServiceUnavailable,
      `${what} is temporarily unavailable; please retry.`,
    ),
  internal: () =>
    new ProxyError(
      ProxyErrorCode.Internal,
      'The proxy had an internal error while handling your request.',
    ),
};

export function serializeOpenAIError(e: ProxyError): { status: number; json: string } {
  const r = toOpenAIError(e);
  return { status: r.status, json: JSON.stringify(r.body) };
}

/** The error body a client gets: the surface it called decides (`/v1/messages` is Anthropic's). */
export type ErrorFormat = 'openai' | 'anthropic';

export interface AnthropicErrorResponse {
  status: number;
  body: AnthropicErrorBody;
}

/**
 * A ProxyError in Anthropic's body (`{"type":"error","error":{"type","message"}}`), with the same
 * status as the OpenAI mapping; the error type follows the status as Anthropic's API does.
 */
export function toAnthropicError(e: ProxyError): AnthropicErrorResponse {
  const r = toOpenAIError(e);
  return anthropicErrorFromOpenAI(r.status, r.body);
}

/** Status and serialised body of an error in a client's format. */
export function serializeError(
  e: ProxyError,
  format: ErrorFormat,
): { status: number; json: string } {
  switch (format) {
    case 'openai':
      return serializeOpenAIError(e);
    case 'anthropic': {
      const r = toAnthropicError(e);
      return { status: r.status, json: JSON.stringify(r.body) };
    }
  }
}
