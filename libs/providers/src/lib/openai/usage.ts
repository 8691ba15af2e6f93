import type { TokenUsage } from './types';

const count = (v: unknown): number | null =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : null;

/**
 * Reads an OpenAI `usage` object (chat or embeddings) into Tollgate's terms; null when it is absent
 * or does not carry valid counts. Embeddings report only `prompt_tokens`.
 */
export function usageFromOpenAI(usage: unknown): TokenUsage | null {
  if (typeof usage !== 'object' || usage === null) return null;
  const u = usage as Record<string, unknown>;
  const input = count(u.prompt_tokens);
  if (input === null) return null;
  const output = u.completion_tokens === undefined ? 0 : count(u.completion_tokens);
  if (output === null) return null;
  const details = u.prompt_tokens_details as Record<string, unknown> | null | undefined;
  const cached = (details && count(details.cached_tokens)) ?? 0;
  return { inputTokens: input, outputTokens: output, cachedInputTokens: Math.min(cached, input) };
}

/** The usage of a parsed response body (`{..., usage: {...}}`), or null. */
export function usageOfResponse(body: unknown): TokenUsage | null {
  if (typeof body !== 'object' || body === null) return null;
  return usageFromOpenAI((body as { usage?: unknown }).usage);
}
