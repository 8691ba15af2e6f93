import type { IncomingHttpHeaders } from 'node:http';

/**
 * How the mock answers one request. Each field can be set, from strongest to weakest:
 * a request header `x-mock-<name with dashes>`, the request body's `mock: {...}` field, the
 * per-model runtime config (`POST /__config {"models": {...}}`), the runtime defaults, the
 * defaults given at start, and the built-in values below.
 */
export interface MockSettings {
  /** delay before the response starts (before the status line), ms */
  latency_ms: number;
  /** content chunks of a streamed answer (one word each) */
  chunks: number;
  /** delay between streamed chunks, ms */
  chunk_delay_ms: number;
  /** words of a non-streamed answer */
  words: number;
  /** embedding dimension (a request's `dimensions` wins) */
  embed_dim: number;
  /** answer with this HTTP status and an OpenAI error body instead of serving (0 = off) */
  fail_status: number;
  /** `Retry-After` seconds sent with a 429 */
  retry_after: number;
  /** reset the connection after this many content chunks (-1 = off); a non-streamed request is reset before answering */
  reset_after_chunks: number;
  /** a 200 whose JSON body is cut off */
  malformed_json: boolean;
  /** a 200 event stream whose events are not JSON and that never ends with [DONE] */
  malformed_sse: boolean;
  /** a 200 with `text/html` instead of JSON / an event stream */
  wrong_content_type: boolean;
  /** leave `usage` out (and ignore `stream_options.include_usage`) */
  omit_usage: boolean;
  /** prompt tokens reported as read from the provider's prompt cache (at most the prompt) */
  cached_tokens: number;
  /**
   * report exactly this many prompt tokens on every surface, whatever the request says (-1 = count
   * them as wire.ts describes); lets a test make the provider's count equal a gateway's estimate
   */
  prompt_tokens: number;
  /**
   * answer a request that offers tools with a call of one of them (see mockToolDecision): false
   * makes the mock answer with text whatever the tools and tool choice say
   */
  tool_calls: boolean;
}

export type MockSettingName = keyof MockSettings;

export const BUILT_IN_SETTINGS: Readonly<MockSettings> = {
  latency_ms: 0,
  chunks: 10,
  chunk_delay_ms: 0,
  words: 10,
  embed_dim: 16,
  fail_status: 0,
  retry_after: 1,
  reset_after_chunks: -1,
  malformed_json: false,
  malformed_sse: false,
  wrong_content_type: false,
  omit_usage: false,
  cached_tokens: 0,
  prompt_tokens: -1,
  tool_calls: true,
};

const LIMITS: Record<MockSettingName, [number, number] | 'bool'> = {
  latency_ms: [0, 120_000],
  chunks: [0, 10_000],
  chunk_delay_ms: [0, 60_000],
  words: [1, 100_000],
  embed_dim: [1, 8192],
  fail_status: [0, 599],
  retry_after: [0, 3600],
  reset_after_chunks: [-1, 10_000],
  malformed_json: 'bool',
  malformed_sse: 'bool',
  wrong_content_type: 'bool',
  omit_usage: 'bool',
  cached_tokens: [0, 1_000_000_000],
  prompt_tokens: [-1, 1_000_000_000],
  tool_calls: 'bool',
};

export const SETTING_NAMES = Object.keys(BUILT_IN_SETTINGS) as MockSettingName[];

const headerName = (k: MockSettingName) => `x-mock-${k.replace(/_/g, '-')}`;
const HEADER_NAMES: Record<MockSettingName, string> = Object.fromEntries(
  SETTING_NAMES.map((k) => [k, headerName(k)]),
) as Record<MockSettingName, string>;

/** Coerces one raw value (header text, JSON value) to a valid setting value, or undefined to ignore it. */
function coerce(k: MockSettingName, raw: unknown): number | boolean | undefined {
  const limit = LIMITS[k];
  if (limit === 'bool') {
    if (typeof raw === 'boolean') return raw;
    if (raw === 'true' || raw === '1' || raw === 1) return true;
    if (raw === 'false' || raw === '0' || raw === 0) return false;
    return undefined;
  }
  const n =
    typeof raw === 'number'
      ? raw
      : typeof raw === 'string' && raw.trim() !== ''
        ? Number(raw)
        : NaN;
  if (!Number.isFinite(n)) return undefined;
  return Math.min(limit[1], Math.max(limit[0], Math.floor(n)));
}

/** Keeps only known, valid settings of an untrusted object. */
export function pickSettings(o: unknown): Partial<MockSettings> {
  const out: Partial<Record<MockSettingName, number | boolean>> = {};
  if (typeof o !== 'object' || o === null) return out as Partial<MockSettings>;
  for (const k of SETTING_NAMES) {
    const v = coerce(k, (o as Record<string, unknown>)[k]);
    if (v !== undefined) out[k] = v;
  }
  return out as Partial<MockSettings>;
}

export interface RuntimeConfig {
  defaults: Partial<MockSettings>;
  models: Record<string, Partial<MockSettings>>;
}

export function resolveSettings(
  base: MockSettings,
  runtime: RuntimeConfig,
  model: string | undefined,
  bodyMock: unknown,
  headers: IncomingHttpHeaders,
): MockSettings {
  const s: MockSettings = { ...base, ...runtime.defaults };
  if (model !== undefined && Object.prototype.hasOwnProperty.call(runtime.models, model)) {
    Object.assign(s, runtime.models[model]);
  }
  Object.assign(s, pickSettings(bodyMock));
  const fromHeaders: Record<string, unknown> = {};
  for (const k of SETTING_NAMES) {
    const h = headers[HEADER_NAMES[k]];
    if (typeof h === 'string') fromHeaders[k] = h;
  }
  return Object.assign(s, pickSettings(fromHeaders));
}

/** The prompt tokens to report: the `prompt_tokens` setting when set, else the mock's own count. */
export const reportedPromptTokens = (s: MockSettings, count: () => number): number =>
  s.prompt_tokens >= 0 ? s.prompt_tokens : count();
