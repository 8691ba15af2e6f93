import type { TokenUsage } from './types';
import { usageFromOpenAI } from './usage';
import { CHARS_PER_TOKEN } from './estimate';

export class MalformedStreamError extends Error {
  constructor(readonly data: string) {
    super('the provider sent a stream event that is not valid JSON');
  }
}

export interface ChatStreamFilterOptions {
  /** the client asked for `stream_options.include_usage`: pass the usage chunk on */
  exposeUsage: boolean;
  /** the public model name to show when it differs from the upstream's; null when no rewrite is needed */
  publicModel: string | null;
}

/** JSON string fields of a delta whose text the provider produced (for estimates). */
const TEXT_KEYS = ['"content":"', '"arguments":"', '"reasoning_content":"', '"refusal":"'];

/** Characters of the JSON string starting at `from` (just after its opening quote); escapes count as one. */
function jsonStringLength(s: string, from: number): number {
  let n = 0;
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 34 /* " */) return n;
    if (c === 92 /* \ */) i += s.charCodeAt(i + 1) === 117 /* u */ ? 5 : 1;
    n++;
  }
  return n;
}

/** Text characters in the deltas of one chunk's raw JSON, without parsing it. */
export function deltaTextChars(data: string): number {
  let chars = 0;
  for (const key of TEXT_KEYS) {
    let at = data.indexOf(key);
    while (at !== -1) {
      chars += jsonStringLength(data, at + key.length);
      at = data.indexOf(key, at + key.length);
    }
  }
  return chars;
}

function textCharsOf(chunk: { choices?: unknown }): number {
  if (!Array.isArray(chunk.choices)) return 0;
  let chars = 0;
  for (const choice of chunk.choices) {
    const delta = (choice as { delta?: Record<string, unknown> } | null)?.delta;
    if (!delta) continue;
    for (const k of ['content', 'reasoning_content', 'refusal']) {
      const v = delta[k];
      if (typeof v === 'string') chars += v.length;
    }
    if (Array.isArray(delta.tool_calls)) {
      for (const call of delta.tool_calls) {
        const args = (call as { function?: { arguments?: unknown } } | null)?.function?.arguments;
        if (typeof args === 'string') chars += args.length;
      }
    }
  }
  return chars;
}

/**
 * Removes the `"usage":null` that every chunk carries once usage is asked for, so a client that did
 * not ask sees the chunks exactly as it would have. In raw JSON the key cannot occur inside a string
 * (quotes there are escaped), so a plain search is safe.
 */
function stripNullUsage(data: string): string {
  const at = data.indexOf(',"usage":null');
  return at === -1 ? data : data.slice(0, at) + data.slice(at + 13);
}

/** a chunk that may carry a non-null usage (cheap pre-check; parsed to be sure) */
const mayCarryUsage = (data: string) =>
  data.indexOf('"usage"') !== -1 && data.indexOf('"usage":null') === -1;

/**
 * Passes the `data` of an OpenAI `chat.completion.chunk` stream through, event by event, parsing
 * only what it must: the first event (to know the stream is what it claims), events that may
 * carry usage or an error, and every event when the model name has to be rewritten. It records
 * the provider's usage, hides the usage-only chunk from a client that did not ask for it, and
 * meters the text produced so far, so a stream cut short can still be estimated.
 */
export class ChatStreamFilter {
  /** usage reported by the provider, once seen */
  usage: TokenUsage | null = null;
  /** the stream's `[DONE]` was seen */
  done = false;
  /** an `error` object the provider sent inside the stream */
  upstreamError: unknown = null;
  /** JSON events seen (not counting `[DONE]`) */
  events = 0;
  /** text characters produced, and the number of chunks that carried any */
  textChars = 0;
  textChunks = 0;

  constructor(private readonly options: ChatStreamFilterOptions) {}

  /**
   * Returns the data to send on (the same string when untouched), or null to drop the event.
   * Throws MalformedStreamError for an event it had to parse and could not.
   */
  push(data: string): string | null {
    if (data === '[DONE]') {
      this.done = true;
      return data;
    }
    this.events++;
    const { publicModel, exposeUsage } = this.options;
    if (
      this.events > 1 &&
      publicModel === null &&
      !mayCarryUsage(data) &&
      data.indexOf('"error"') === -1
    ) {
      const chars = deltaTextChars(data);
      if (chars > 0) {
        this.textChars += chars;
        this.textChunks++;
      }
      return exposeUsage ? data : stripNullUsage(data);
    }
    let chunk: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(data);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new Error('not an object');
      chunk = parsed as Record<string, unknown>;
    } catch {
      throw new MalformedStreamError(data);
    }
    if (chunk.error !== undefined && chunk.error !== null && chunk.choices === undefined) {
      this.upstreamError = chunk.error;
      return null;
    }
    const chars = textCharsOf(chunk);
    if (chars > 0) {
      this.textChars += chars;
      this.textChunks++;
    }
    let changed = false;
    const usage = usageFromOpenAI(chunk.usage);
    if (usage) {
      this.usage = usage;
      if (!exposeUsage) {
        if (!Array.isArray(chunk.choices) || chunk.choices.length === 0) return null;
        delete chunk.usage;
        changed = true;
      }
    }
    if (publicModel !== null && chunk.model !== publicModel) {
      chunk.model = publicModel;
      changed = true;
    }
    if (!changed) return exposeUsage ? data : stripNullUsage(data);
    if (!exposeUsage && chunk.usage === null) delete chunk.usage;
    return JSON.stringify(chunk);
  }

  /** Output tokens produced so far, estimated from the text (a chunk is at least one token). */
  estimatedOutputTokens(): number {
    return Math.max(this.textChunks, Math.ceil(this.textChars / CHARS_PER_TOKEN));
  }
}
