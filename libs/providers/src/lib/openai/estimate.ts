import type { ChatCompletionRequest, ChatMessage, CompletionPrompt, EmbeddingInput } from './types';

/**
 * Token estimates for when a provider reports no usage (or a stream is cut before its usage
 * chunk). Deliberately simple and stable: about four characters per token, as OpenAI documents
 * for English text. Events built on these carry `tokensEstimated: true`.
 */
export const CHARS_PER_TOKEN = 4;
/** per-message overhead OpenAI's chat format adds (role, separators) */
export const TOKENS_PER_MESSAGE = 3;

export function estimateTextTokens(text: string): number {
  return text.length === 0 ? 0 : Math.ceil(text.length / CHARS_PER_TOKEN);
}

function messageChars(m: ChatMessage): number {
  let n = 0;
  const c = m.content;
  if (typeof c === 'string') n += c.length;
  else if (Array.isArray(c)) {
    for (const part of c) if (typeof part.text === 'string') n += part.text.length;
  }
  if (typeof m.name === 'string') n += m.name.length;
  if (Array.isArray(m.tool_calls)) {
    for (const call of m.tool_calls) n += call?.function?.arguments?.length ?? 0;
  }
  return n;
}

export function estimateChatPromptTokens(request: Pick<ChatCompletionRequest, 'messages'>): number {
  let tokens = 0;
  for (const m of request.messages)
    tokens += TOKENS_PER_MESSAGE + Math.ceil(messageChars(m) / CHARS_PER_TOKEN);
  return tokens;
}

export function estimateEmbeddingInputTokens(input: EmbeddingInput): number {
  if (typeof input === 'string') return estimateTextTokens(input);
  let tokens = 0;
  for (const item of input as unknown[]) {
    if (typeof item === 'string') tokens += estimateTextTokens(item);
    else if (typeof item === 'number') tokens += 1;
    else if (Array.isArray(item)) tokens += item.length;
  }
  return tokens;
}

/** Output estimate of a non-streamed chat completion body (message text and tool-call arguments). */
export function estimateCompletionTokens(body: unknown): number {
  const choices = (body as { choices?: unknown } | null)?.choices;
  if (!Array.isArray(choices)) return 0;
  let chars = 0;
  for (const choice of choices) {
    const m = (choice as { message?: ChatMessage } | null)?.message;
    if (m) chars += messageChars(m);
  }
  return Math.ceil(chars / CHARS_PER_TOKEN);
}

/** Prompt estimate of a legacy text completion (the same counting as embeddings input). */
export const estimateCompletionPromptTokens = (prompt: CompletionPrompt): number =>
  estimateEmbeddingInputTokens(prompt);

/** Output estimate of a non-streamed legacy completion body (the choices' text). */
export function estimateTextCompletionTokens(body: unknown): number {
  const choices = (body as { choices?: unknown } | null)?.choices;
  if (!Array.isArray(choices)) return 0;
  let chars = 0;
  for (const choice of choices) {
    const text = (choice as { text?: unknown } | null)?.text;
    if (typeof text === 'string') chars += text.length;
  }
  return Math.ceil(chars / CHARS_PER_TOKEN);
}
