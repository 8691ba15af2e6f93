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

const chars = (text: string): number => Math.ceil(text.length / CHARS_PER_TOKEN);

const positiveInt = (v: unknown): number | null =>
  typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : null;

/** `max_tokens` as given, else the cap; times the number of choices. */
function outputAllowance(max: unknown, choices: unknown, cap: number): number {
  const perChoice = positiveInt(max) ?? cap;
  return Math.min(perChoice * (positiveInt(choices) ?? 1), MAX_ADMISSION_TOKENS);
}

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

/**
 * The prompt estimate (the same four-characters-per-token rule as the usage estimates) and the
 * output allowance of a validated request body. `defaultMaxOutputTokens` stands in for an absent
 * `max_tokens`.
 */
export function estimateRequest(
  endpoint: ProxyEndpoint,
  body: unknown,
  defaultMaxOutputTokens: number,
): RequestEstimate {
  const b = (body ?? {}) as Record<string, unknown>;
  let promptTokens: number;
  let maxOutputTokens: number;
  switch (endpoint) {
    case ProxyEndpoint.ChatCompletions: {
      const chat = b as ChatCompletionRequest;
      promptTokens = Array.isArray(chat.messages) ? chatPrompt(chat) : 0;
      maxOutputTokens = outputAllowance(
        chat.max_completion_tokens ?? chat.max_tokens,
        chat.n,
        defaultMaxOutputTokens,
      );
      break;
    }
    case ProxyEndpoint.Completions:
      // a legacy prompt has the shape of an embeddings input (text, texts, token arrays)
      promptTokens =
        b.prompt === undefined || b.prompt === null
          ? 0
          : estimateEmbeddingInputTokens(b.prompt as EmbeddingInput);
      maxOutputTokens = outputAllowance(
        b.max_tokens,
        Math.max(positiveInt(b.n) ?? 1, positiveInt(b.best_of) ?? 1),
        defaultMaxOutputTokens,
      );
      break;
    case ProxyEndpoint.Embeddings:
      promptTokens =
        b.input === undefined || b.input === null
          ? 0
          : estimateEmbeddingInputTokens(b.input as EmbeddingInput);
      maxOutputTokens = 0;
      break;
    case ProxyEndpoint.Messages: {
      promptTokens = b.system === undefined ? 0 : anthropicText(b.system);
      if (Array.isArray(b.messages)) {
        for (const m of b.messages as unknown[])
          promptTokens += TOKENS_PER_MESSAGE + anthropicText((m as { content?: unknown })?.content);
      }
      if (Array.isArray(b.tools)) promptTokens += chars(JSON.stringify(b.tools));
      maxOutputTokens = outputAllowance(b.max_tokens, 1, defaultMaxOutputTokens);
      break;
    }
  }
  return { promptTokens: Math.min(promptTokens, MAX_ADMISSION_TOKENS), maxOutputTokens };
}
