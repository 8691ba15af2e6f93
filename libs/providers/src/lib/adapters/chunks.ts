import { randomUUID } from 'node:crypto';
import type {
  ChatCompletionChunk,
  ChatCompletionChunkChoice,
  ChatMessage,
  CompletionUsage,
  TokenUsage,
} from '../openai/types';

/** OpenAI's `usage` object for Tollgate's counts (`prompt_tokens` include the cached ones). */
export function openAIUsage(u: TokenUsage, reasoningTokens = 0): CompletionUsage {
  const usage: CompletionUsage = {
    prompt_tokens: u.inputTokens,
    completion_tokens: u.outputTokens,
    total_tokens: u.inputTokens + u.outputTokens,
    prompt_tokens_details: { cached_tokens: u.cachedInputTokens },
  };
  if (reasoningTokens > 0) usage.completion_tokens_details = { reasoning_tokens: reasoningTokens };
  return usage;
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** A random id with a prefix, e.g. `call_3f1c…` (24 hex characters). */
export const randomId = (prefix: string): string =>
  `${prefix}${randomUUID().replace(/-/g, '').slice(0, 24)}`;

/** One tool call's piece in a chunk: the first carries id, type and name; later ones add arguments. */
export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function?: { name?: string; arguments?: string };
}

/** What a chunk's `delta` may carry. */
export interface ChunkDelta {
  role?: 'assistant';
  content?: string | null;
  reasoning_content?: string;
  refusal?: string | null;
  tool_calls?: ToolCallDelta[];
}

/** Builds the chunks of one stream: same id, created and model on each. */
export class ChunkFactory {
  constructor(
    public id: string,
    readonly model: string,
    readonly created: number = nowSeconds(),
  ) {}

  delta(index: number, delta: ChunkDelta, finishReason: string | null = null): ChatCompletionChunk {
    const choice: ChatCompletionChunkChoice = {
      index,
      // the shared ChatMessage type describes whole tool calls; a delta carries pieces of them
      delta: delta as unknown as Partial<ChatMessage>,
      logprobs: null,
      finish_reason: finishReason,
    };
    return {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices: [choice],
    };
  }

  usage(usage: CompletionUsage): ChatCompletionChunk {
    return {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices: [],
      usage,
    };
  }
}

/** Serialises chunks as OpenAI sends them (`data: {...}` and a blank line each). */
export function formatChatChunks(chunks: readonly ChatCompletionChunk[]): string {
  let out = '';
  for (const c of chunks) out += `data: ${JSON.stringify(c)}\n\n`;
  return out;
}

/** The last event of an OpenAI stream. */
export const OPENAI_DONE_EVENT = 'data: [DONE]\n\n';

/** Characters of text a delta carries (content, reasoning, tool arguments), for estimates. */
export function deltaChars(delta: ChunkDelta): number {
  let n = 0;
  if (typeof delta.content === 'string') n += delta.content.length;
  if (typeof delta.reasoning_content === 'string') n += delta.reasoning_content.length;
  if (Array.isArray(delta.tool_calls))
    for (const c of delta.tool_calls) n += c.function?.arguments?.length ?? 0;
  return n;
}
