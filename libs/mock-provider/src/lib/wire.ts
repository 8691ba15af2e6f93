/**
 * What the mock says, deterministically, so tests can compute the provider's token counts:
 * - prompt tokens of a chat request = the words of every text in its messages + 1 per message;
 * - prompt tokens of an embeddings request = the words of each string input (at least 1 each),
 *   or the length of each token-array input;
 * - completion tokens = the words produced (one word per streamed content chunk).
 */

const VOCABULARY = (
  'tollgate mock provider answers every request with plain words so that gateways can count ' +
  'tokens exactly and compare them with what they forwarded to the upstream model today'
).split(' ');

export function countWords(text: string): number {
  let n = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const space = c === 32 || c === 9 || c === 10 || c === 13;
    if (!space && !inWord) n++;
    inWord = !space;
  }
  return n;
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((p) =>
      p && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string'
        ? (p as { text: string }).text
        : '',
    )
    .join(' ');
}

/** The prompt tokens the mock reports for a chat request's `messages`. */
export function mockPromptTokens(messages: unknown): number {
  if (!Array.isArray(messages)) return 0;
  let n = 0;
  for (const m of messages)
    n += 1 + countWords(textOf((m as { content?: unknown } | null)?.content));
  return n;
}

/** The prompt tokens the mock reports for an embeddings request's `input`. */
export function mockEmbeddingTokens(input: unknown): number {
  if (typeof input === 'string') return Math.max(1, countWords(input));
  if (!Array.isArray(input)) return 0;
  if (input.length > 0 && typeof input[0] === 'number') return input.length;
  let n = 0;
  for (const item of input) {
    if (typeof item === 'string') n += Math.max(1, countWords(item));
    else if (Array.isArray(item)) n += item.length;
  }
  return n;
}

export function mockWord(i: number): string {
  return VOCABULARY[i % VOCABULARY.length];
}

/** The text of a non-streamed answer of `words` words. */
export function mockAnswer(words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(mockWord(i));
  return out.join(' ');
}

/** A deterministic unit-ish vector for `text`, `dim` floats. */
export function mockEmbedding(text: string, dim: number): Float32Array {
  let seed = 2166136261;
  for (let i = 0; i < text.length; i++) seed = Math.imul(seed ^ text.charCodeAt(i), 16777619) >>> 0;
  const v = new Float32Array(dim);
  for (let i = 0; i < dim; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    v[i] = (seed / 0xffffffff) * 2 - 1;
  }
  return v;
}

export function usageJson(prompt: number, completion: number): string {
  return (
    `{"prompt_tokens":${prompt},"completion_tokens":${completion},"total_tokens":${prompt + completion},` +
    '"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},' +
    '"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}'
  );
}

export function errorJson(
  message: string,
  type: string,
  code: string | null,
  param: string | null = null,
): string {
  return JSON.stringify({ error: { message, type, param, code } });
}
