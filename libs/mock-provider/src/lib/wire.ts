/**
 * What the mock says, deterministically, so tests can compute the provider's token counts:
 * - prompt tokens of a chat request = the words of every text in its messages + 1 per message
 *   (Anthropic: `system` counts as one more message, and the text of `tool_result` blocks
 *   counts; Gemini: `systemInstruction` counts as one more message, each content is a message);
 * - prompt tokens of a legacy completion = the words of each prompt string (at least 1 each);
 * - prompt tokens of an embeddings request = the words of each string input (at least 1 each),
 *   or the length of each token-array input;
 * - completion tokens = the words produced (one word per streamed content chunk), or for a tool
 *   call ceil(length of its arguments JSON / 4);
 * - cached prompt tokens = the `cached_tokens` setting, at most the prompt tokens;
 * - the `prompt_tokens` setting, when 0 or more, replaces every prompt count above.
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

/** The text of a content: a string, or the `text` of its parts (and of nested `content`). */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((p: unknown) => {
      if (!p || typeof p !== 'object') return '';
      const part = p as { text?: unknown; content?: unknown };
      if (typeof part.text === 'string') return part.text;
      return part.content !== undefined ? textOf(part.content) : '';
    })
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

/** The prompt tokens the mock reports for an Anthropic Messages request. */
export function mockAnthropicPromptTokens(body: { system?: unknown; messages?: unknown }): number {
  const system =
    body.system === undefined || body.system === '' ? 0 : 1 + countWords(textOf(body.system));
  return system + mockPromptTokens(body.messages);
}

/** The prompt tokens the mock reports for a Gemini generateContent request. */
export function mockGeminiPromptTokens(body: {
  systemInstruction?: unknown;
  contents?: unknown;
}): number {
  const si = body.systemInstruction as { parts?: unknown } | undefined;
  const system = si && typeof si === 'object' ? 1 + countWords(textOf(si.parts)) : 0;
  const contents = Array.isArray(body.contents) ? body.contents : [];
  return (
    system +
    mockPromptTokens(
      contents.map((c: unknown) => ({ content: (c as { parts?: unknown } | null)?.parts })),
    )
  );
}

/** The prompt tokens the mock reports for a legacy completion's `prompt`. */
export function mockCompletionPromptTokens(prompt: unknown): number {
  if (typeof prompt === 'string') return Math.max(1, countWords(prompt));
  if (!Array.isArray(prompt)) return 0;
  let n = 0;
  for (const p of prompt) n += typeof p === 'string' ? Math.max(1, countWords(p)) : 1;
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

export function usageJson(prompt: number, completion: number, cached = 0): string {
  return (
    `{"prompt_tokens":${prompt},"completion_tokens":${completion},"total_tokens":${prompt + completion},` +
    `"prompt_tokens_details":{"cached_tokens":${Math.min(cached, prompt)},"audio_tokens":0},` +
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

/** The output tokens the mock reports for a tool call with these arguments. */
export const mockToolCallTokens = (argumentsJson: string): number =>
  Math.max(1, Math.ceil(argumentsJson.length / 4));

/**
 * Deterministic arguments for a JSON Schema: every property of an object, by type — a string is
 * its first `enum` value or "mock", a number or integer 1, a boolean true, an array [], an object
 * recursively, anything else null.
 */
export function mockToolArguments(schema: unknown, depth = 0): unknown {
  const s = (schema && typeof schema === 'object' ? schema : {}) as Record<string, unknown>;
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
  switch (typeof type === 'string' ? type.toLowerCase() : s.properties ? 'object' : '') {
    case 'string':
      return 'mock';
    case 'number':
    case 'integer':
      return 1;
    case 'boolean':
      return true;
    case 'array':
      return [];
    case 'object': {
      const out: Record<string, unknown> = {};
      const props = s.properties && typeof s.properties === 'object' ? s.properties : {};
      if (depth < 8)
        for (const [k, v] of Object.entries(props as Record<string, unknown>))
          out[k] = mockToolArguments(v, depth + 1);
      return out;
    }
    default:
      return null;
  }
}

/** A tool the mock decided to call: its name and the arguments as JSON text. */
export interface MockToolCall {
  name: string;
  arguments: string;
}

export type MockToolChoice = 'none' | 'auto' | 'forced';

/**
 * The mock's tool rule, the same on every surface: a forced choice (OpenAI `required` or a named
 * function, Anthropic `any`/`tool`, Gemini `ANY`) always calls the named tool (else the first);
 * `auto` (or no choice) calls the first tool only when the last turn is the user's own words, not
 * tool results — so an agent loop gets one call, then a text answer; `none` never calls.
 */
export function mockToolDecision(
  tools: { name: string; schema: unknown }[],
  choice: MockToolChoice,
  named: string | null,
  lastTurnIsUserText: boolean,
): MockToolCall | null {
  if (tools.length === 0 || choice === 'none') return null;
  if (choice === 'auto' && !lastTurnIsUserText) return null;
  const tool = (named !== null && tools.find((t) => t.name === named)) || tools[0];
  return { name: tool.name, arguments: JSON.stringify(mockToolArguments(tool.schema) ?? {}) };
}
