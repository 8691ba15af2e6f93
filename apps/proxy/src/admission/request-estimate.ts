import { ProxyEndpoint } from '@tollgate/contracts';
import {
  CHARS_PER_TOKEN,
  type ChatCompletionRequest,
  type EmbeddingInput,
  estimateChatPromptTokens,
  estimateEmbeddingInputTokens,
  TOKENS_PER_MESSAGE,
} from '@tollgate/providers';
import { MAX_ADMISSION_TOKENS } from '@tollgate/server-admission';

/** The most a request may consume, as admission reserves it before the provider call. */
export interface RequestEstimate {
  promptTokens: number;
  /** the output the request allows: `max_tokens` (or the configured cap) times the choices asked for */
  maxOutputTokens: number;
}

/**
 * How the prompt part of a reservation is computed (`ADMISSION_PROMPT_ESTIMATE`):
 * - `bound`: an upper bound of the prompt tokens any provider can count (see `promptTokenBound`),
 *   so a request never settles above its reservation because of its prompt;
 * - `heuristic`: the four-characters-per-token rule of `@tollgate/providers`, closer to the
 *   actual count of English text but too low for text with more tokens per character (short
 *   words, CJK) and for images, so concurrent requests can overspend a budget by the error.
 */
export type PromptEstimateMode = 'bound' | 'heuristic';
export const PROMPT_ESTIMATE_MODES: readonly PromptEstimateMode[] = ['bound', 'heuristic'];

/**
 * The upper bound's constants. Byte-level BPE tokenizers (OpenAI, Anthropic; Gemini's
 * SentencePiece falls back to bytes) never make more tokens of a text than its UTF-8 bytes, so
 * the bound is the bytes of every text the provider reads plus what it adds around them:
 */
/** per request: the reply priming and any framing the provider adds once */
export const PROMPT_BOUND_FIXED_TOKENS = 16;
/** per message (plus the bytes of its role): the turn separators of the chat templates */
export const PROMPT_BOUND_TOKENS_PER_MESSAGE = 4;
/**
 * per image part, whatever its size or `detail`: Anthropic counts about 1,600 tokens at most
 * (images are scaled to 1.15 megapixels), OpenAI's GPT-4o about 1,500 (85 + 170 per 512-pixel
 * tile) and Gemini 258 per tile. A model that counts images as far more tokens (gpt-4o-mini
 * bills an image as tens of thousands) is not bounded by it: see apps/proxy/README.md.
 */
export const PROMPT_BOUND_TOKENS_PER_IMAGE = 2_000;
/** once when the request offers tools: the tool-use system prompt Anthropic adds (~350 tokens) */
export const PROMPT_BOUND_TOOL_USE_TOKENS = 512;

const IMAGE_PARTS: ReadonlySet<string> = new Set(['image_url', 'image', 'input_image']);

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null;

const bytes = (v: unknown): number => (typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : 0);
/** the bytes of a value's JSON, an upper bound of the text in it whatever the provider renders */
const jsonBytes = (v: unknown): number =>
  v === undefined || v === null ? 0 : bytes(JSON.stringify(v));
const offersTools = (v: unknown): boolean => Array.isArray(v) && v.length > 0;

/**
 * A content part or block the bound does not know as text or image (audio, files, documents,
 * tool use, thinking, …): the bytes of its JSON (which holds any text or base64 data it carries),
 * and at least an image's bound (a file or document given by reference may be a picture).
 */
const opaque = (part: Json): number => Math.max(jsonBytes(part), PROMPT_BOUND_TOKENS_PER_IMAGE);

/** An OpenAI chat content part. */
function chatPartBound(part: unknown): number {
  if (!isObject(part)) return 0;
  if (typeof part.type === 'string' && IMAGE_PARTS.has(part.type))
    return PROMPT_BOUND_TOKENS_PER_IMAGE;
  if (typeof part.text === 'string') return bytes(part.text);
  if (typeof part.refusal === 'string') return bytes(part.refusal);
  return opaque(part);
}

function chatMessageBound(m: unknown): number {
  if (!isObject(m)) return PROMPT_BOUND_TOKENS_PER_MESSAGE;
  let n = PROMPT_BOUND_TOKENS_PER_MESSAGE + bytes(m.role) + bytes(m.name) + bytes(m.refusal);
  const c = m.content;
  if (typeof c === 'string') n += bytes(c);
  else if (Array.isArray(c)) for (const part of c as unknown[]) n += chatPartBound(part);
  // tool calls of an assistant turn (name and arguments), the legacy function call, a tool
  // result's call id
  n += jsonBytes(m.tool_calls) + jsonBytes(m.function_call) + bytes(m.tool_call_id);
  return n;
}

function chatBound(b: Json): number {
  let n = PROMPT_BOUND_FIXED_TOKENS;
  if (Array.isArray(b.messages)) for (const m of b.messages as unknown[]) n += chatMessageBound(m);
  n += jsonBytes(b.tools) + jsonBytes(b.functions) + jsonBytes(b.response_format);
  if (isObject(b.tool_choice) || isObject(b.function_call))
    n += jsonBytes(b.tool_choice) + jsonBytes(b.function_call);
  if (offersTools(b.tools) || offersTools(b.functions)) n += PROMPT_BOUND_TOOL_USE_TOKENS;
  return n;
}

/** An Anthropic `system` or message `content`: a string or blocks. */
function anthropicContentBound(content: unknown): number {
  if (typeof content === 'string') return bytes(content);
  if (!Array.isArray(content)) return 0;
  let n = 0;
  for (const block of content as unknown[]) {
    if (!isObject(block)) continue;
    switch (block.type) {
      case 'text':
        n += bytes(block.text);
        break;
      case 'image':
        n += PROMPT_BOUND_TOKENS_PER_IMAGE;
        break;
      case 'tool_result':
        n += bytes(block.tool_use_id) + anthropicContentBound(block.content);
        break;
      case 'tool_use':
      case 'server_tool_use':
      case 'thinking':
      case 'redacted_thinking':
        // text only (a call's name and input, reasoning): its JSON holds all of it
        n += jsonBytes(block);
        break;
      default:
        n += opaque(block);
    }
  }
  return n;
}

function messagesBound(b: Json): number {
  let n = PROMPT_BOUND_FIXED_TOKENS + anthropicContentBound(b.system);
  if (Array.isArray(b.messages)) {
    for (const m of b.messages as unknown[]) {
      n += PROMPT_BOUND_TOKENS_PER_MESSAGE;
      if (isObject(m)) n += bytes(m.role) + anthropicContentBound(m.content);
    }
  }
  n += jsonBytes(b.tools);
  if (isObject(b.tool_choice)) n += jsonBytes(b.tool_choice);
  if (offersTools(b.tools)) n += PROMPT_BOUND_TOOL_USE_TOKENS;
  return n;
}

/** A completions prompt or embeddings input: texts by their bytes, token arrays by their length. */
function inputBound(input: unknown): number {
  if (typeof input === 'string') return bytes(input);
  if (!Array.isArray(input)) return 0;
  let n = 0;
  for (const item of input as unknown[]) {
    if (typeof item === 'string') n += bytes(item);
    else if (typeof item === 'number') n += 1;
    else if (Array.isArray(item)) n += item.length;
  }
  return n;
}

/**
 * An upper bound of the prompt tokens a provider can count for a validated request body: the
 * UTF-8 bytes of every text it reads (message texts, names, tool calls and results, tool
 * definitions, the response format's schema, Anthropic's system and blocks, a completions prompt
 * and suffix, embeddings input; token arrays by their length), plus
 * `PROMPT_BOUND_TOKENS_PER_MESSAGE` per message, `PROMPT_BOUND_TOKENS_PER_IMAGE` per image,
 * `PROMPT_BOUND_TOOL_USE_TOKENS` when tools are offered and `PROMPT_BOUND_FIXED_TOKENS`.
 */
export function promptTokenBound(endpoint: ProxyEndpoint, body: unknown): number {
  const b: Json = isObject(body) ? body : {};
  switch (endpoint) {
    case ProxyEndpoint.ChatCompletions:
      return chatBound(b);
    case ProxyEndpoint.Completions:
      return PROMPT_BOUND_FIXED_TOKENS + inputBound(b.prompt) + bytes(b.suffix);
    case ProxyEndpoint.Embeddings:
      return PROMPT_BOUND_FIXED_TOKENS + inputBound(b.input);
    case ProxyEndpoint.Messages:
      return messagesBound(b);
  }
}

// ---- the heuristic ----------------------------------------------------------------------------

const chars = (text: string): number => Math.ceil(text.length / CHARS_PER_TOKEN);

/** Text of an Anthropic `system` or `content`: a string or blocks with `text`. */
function anthropicText(content: unknown): number {
  if (typeof content === 'string') return chars(content);
  if (!Array.isArray(content)) return 0;
  let n = 0;
  for (const block of content as unknown[]) {
    const text = (block as { text?: unknown } | null)?.text;
    if (typeof text === 'string') n += chars(text);
  }
  return n;
}

function chatPrompt(body: ChatCompletionRequest): number {
  let tokens = estimateChatPromptTokens(body);
  // tool definitions are prompt tokens too (providers render them into the prompt)
  if (Array.isArray(body.tools)) tokens += chars(JSON.stringify(body.tools));
  return tokens;
}

/** The four-characters-per-token estimate of the prompt (the same rule as the usage estimates). */
export function promptTokenHeuristic(endpoint: ProxyEndpoint, body: unknown): number {
  const b = (body ?? {}) as Record<string, unknown>;
  switch (endpoint) {
    case ProxyEndpoint.ChatCompletions: {
      const chat = b as ChatCompletionRequest;
      return Array.isArray(chat.messages) ? chatPrompt(chat) : 0;
    }
    case ProxyEndpoint.Completions:
      // a legacy prompt has the shape of an embeddings input (text, texts, token arrays)
      return b.prompt === undefined || b.prompt === null
        ? 0
        : estimateEmbeddingInputTokens(b.prompt as EmbeddingInput);
    case ProxyEndpoint.Embeddings:
      return b.input === undefined || b.input === null
        ? 0
        : estimateEmbeddingInputTokens(b.input as EmbeddingInput);
    case ProxyEndpoint.Messages: {
      let tokens = b.system === undefined ? 0 : anthropicText(b.system);
      if (Array.isArray(b.messages)) {
        for (const m of b.messages as unknown[])
          tokens += TOKENS_PER_MESSAGE + anthropicText((m as { content?: unknown })?.content);
      }
      if (Array.isArray(b.tools)) tokens += chars(JSON.stringify(b.tools));
      return tokens;
    }
  }
}

// ---- the reservation --------------------------------------------------------------------------

const positiveInt = (v: unknown): number | null =>
  typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : null;

/** `max_tokens` as given, else the cap; times the number of choices. */
function outputAllowance(max: unknown, choices: unknown, cap: number): number {
  const perChoice = positiveInt(max) ?? cap;
  return Math.min(perChoice * (positiveInt(choices) ?? 1), MAX_ADMISSION_TOKENS);
}

/**
 * The prompt estimate (by default an upper bound, see `PromptEstimateMode`) and the output
 * allowance of a validated request body. `defaultMaxOutputTokens` stands in for an absent
 * `max_tokens`.
 */
export function estimateRequest(
  endpoint: ProxyEndpoint,
  body: unknown,
  defaultMaxOutputTokens: number,
  mode: PromptEstimateMode = 'bound',
): RequestEstimate {
  const b = (body ?? {}) as Record<string, unknown>;
  let maxOutputTokens: number;
  switch (endpoint) {
    case ProxyEndpoint.ChatCompletions:
      maxOutputTokens = outputAllowance(
        b.max_completion_tokens ?? b.max_tokens,
        b.n,
        defaultMaxOutputTokens,
      );
      break;
    case ProxyEndpoint.Completions:
      maxOutputTokens = outputAllowance(
        b.max_tokens,
        Math.max(positiveInt(b.n) ?? 1, positiveInt(b.best_of) ?? 1),
        defaultMaxOutputTokens,
      );
      break;
    case ProxyEndpoint.Embeddings:
      maxOutputTokens = 0;
      break;
    case ProxyEndpoint.Messages:
      maxOutputTokens = outputAllowance(b.max_tokens, 1, defaultMaxOutputTokens);
      break;
  }
  let promptTokens: number;
  switch (mode) {
    case 'bound':
      promptTokens = promptTokenBound(endpoint, body);
      break;
    case 'heuristic':
      promptTokens = promptTokenHeuristic(endpoint, body);
      break;
  }
  return { promptTokens: Math.min(promptTokens, MAX_ADMISSION_TOKENS), maxOutputTokens };
}
