/**
 * OpenAI wire format (Chat Completions, Embeddings, Models), as far as Tollgate reads or writes it.
 * Fields Tollgate does not interpret are kept by the index signatures and passed through untouched.
 */

export type ChatRole = 'system' | 'developer' | 'user' | 'assistant' | 'tool' | 'function';

export const CHAT_ROLES: readonly ChatRole[] = [
  'system',
  'developer',
  'user',
  'assistant',
  'tool',
  'function',
];

export interface ChatContentPart {
  type: string;
  text?: string;
  [field: string]: unknown;
}

export interface ChatToolCall {
  id: string;
  type: 'function' | string;
  function: { name: string; arguments: string };
}

export interface ChatMessage {
  role: ChatRole;
  content?: string | ChatContentPart[] | null;
  name?: string;
  tool_calls?: ChatToolCall[];
  tool_call_id?: string;
  [field: string]: unknown;
}

export interface StreamOptions {
  include_usage?: boolean;
  [field: string]: unknown;
}

export interface ChatCompletionRequest {
  model: string;
  messages: ChatMessage[];
  stream?: boolean | null;
  stream_options?: StreamOptions | null;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  n?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  stop?: string | string[] | null;
  [field: string]: unknown;
}

export interface CompletionUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number; audio_tokens?: number } | null;
  completion_tokens_details?: {
    reasoning_tokens?: number;
    [field: string]: number | undefined;
  } | null;
}

export interface ChatCompletionChoice {
  index: number;
  message: ChatMessage;
  finish_reason: string | null;
  logprobs?: unknown;
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: ChatCompletionChoice[];
  usage?: CompletionUsage | null;
  [field: string]: unknown;
}

export interface ChatCompletionChunkChoice {
  index: number;
  delta: Partial<ChatMessage>;
  finish_reason: string | null;
  logprobs?: unknown;
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: ChatCompletionChunkChoice[];
  /** only with `stream_options.include_usage`: null on every chunk but the last, usage-only one */
  usage?: CompletionUsage | null;
  [field: string]: unknown;
}

export type EmbeddingInput = string | string[] | number[] | number[][];

/** The prompt of a legacy text completion: text(s) or token array(s). */
export type CompletionPrompt = string | string[] | number[] | number[][];

/** `POST /v1/completions` (legacy text completions); unknown fields are kept and forwarded. */
export interface CompletionRequest {
  model: string;
  prompt: CompletionPrompt;
  stream?: boolean | null;
  stream_options?: StreamOptions | null;
  max_tokens?: number | null;
  [key: string]: unknown;
}

export interface EmbeddingsRequest {
  model: string;
  input: EmbeddingInput;
  encoding_format?: 'float' | 'base64';
  dimensions?: number;
  user?: string;
  [field: string]: unknown;
}

export interface Embedding {
  object: 'embedding';
  index: number;
  /** floats, or a base64 string of little-endian float32 when `encoding_format` is `base64` */
  embedding: number[] | string;
}

export interface EmbeddingsResponse {
  object: 'list';
  data: Embedding[];
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

export interface ModelObject {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
}

export interface ModelList {
  object: 'list';
  data: ModelObject[];
}

/** Token counts of one request, in Tollgate's terms. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
}
