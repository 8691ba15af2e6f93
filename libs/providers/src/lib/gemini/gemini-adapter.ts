import { MalformedStreamError } from '../openai/chat-stream';
import type {
  ChatCompletion,
  ChatCompletionChoice,
  ChatCompletionChunk,
  ChatCompletionRequest,
  ChatToolCall,
  TokenUsage,
} from '../openai/types';
import type { SseEvent } from '../sse/sse-parser';
import {
  ChunkFactory,
  deltaChars,
  nowSeconds,
  openAIUsage,
  randomId,
  type ChunkDelta,
} from '../adapters/chunks';
import { isObject } from '../adapters/openai-request';
import type {
  ChatResponseResult,
  ChatStreamOptions,
  ChatStreamTranslator,
  ProviderAdapter,
  ProviderError,
  UpstreamRequest,
  UpstreamTarget,
} from '../adapters/provider-adapter';
import {
  isJsonContentType,
  isSuccess,
  joinUrl,
  malformedResponse,
  parseJsonObject,
  providerError,
  snippet,
  withExtraHeaders,
} from '../adapters/provider-errors';
import { toGeminiRequest } from './gemini-request';

/** The method URL: the base keeps a given `/v1beta` or `/v1`, else `/v1beta` is added. */
export function geminiUrl(target: UpstreamTarget, stream: boolean): string {
  let base = joinUrl(target.baseUrl, '');
  if (!/\/v1(beta\d*|alpha)?$/.test(base)) base += '/v1beta';
  const model = target.upstreamModel.replace(/^models\//, '');
  return stream
    ? `${base}/models/${encodeURIComponent(model)}:streamGenerateContent?alt=sse`
    : `${base}/models/${encodeURIComponent(model)}:generateContent`;
}

/** Gemini `finishReason` → OpenAI `finish_reason` (function calls make it `tool_calls`). */
export function finishReasonFromGemini(reason: unknown, hasToolCalls: boolean): string | null {
  if (typeof reason !== 'string' || reason === 'FINISH_REASON_UNSPECIFIED') return null;
  if (hasToolCalls && reason === 'STOP') return 'tool_calls';
  switch (reason) {
    case 'MAX_TOKENS':
      return 'length';
    case 'SAFETY':
    case 'RECITATION':
    case 'BLOCKLIST':
    case 'PROHIBITED_CONTENT':
    case 'SPII':
    case 'IMAGE_SAFETY':
      return 'content_filter';
    default:
      return 'stop';
  }
}

const count = (v: unknown): number =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : 0;

/**
 * Gemini `usageMetadata` → Tollgate's counts: thinking tokens are billed as output, and
 * `promptTokenCount` already includes the cached ones. Null without `promptTokenCount`.
 */
export function usageFromGemini(meta: unknown): TokenUsage | null {
  if (!isObject(meta) || typeof meta.promptTokenCount !== 'number') return null;
  const input = count(meta.promptTokenCount) + count(meta.toolUsePromptTokenCount);
  return {
    inputTokens: input,
    outputTokens: count(meta.candidatesTokenCount) + count(meta.thoughtsTokenCount),
    cachedInputTokens: Math.min(count(meta.cachedContentTokenCount), input),
  };
}

const reasoningOf = (meta: unknown): number =>
  isObject(meta) ? count(meta.thoughtsTokenCount) : 0;

/** Google RPC status → the OpenAI status of the same condition. */
const RPC_STATUS: Record<string, number> = {
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  OUT_OF_RANGE: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  RESOURCE_EXHAUSTED: 429,
  CANCELLED: 499,
  INTERNAL: 500,
  UNKNOWN: 500,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
};

/**
 * Reads a Google error body (`{error: {code, message, status, details}}`; also a one-element
 * array of it). Gemini answers a bad API key with 400 `API_KEY_INVALID`: that is a 401 here.
 */
export function geminiError(upstreamStatus: number, bodyText: string): ProviderError {
  let body: unknown = parseJsonObject(bodyText);
  if (body === null) {
    try {
      const arr: unknown = JSON.parse(bodyText);
      if (Array.isArray(arr)) body = arr[0];
    } catch {
      body = null;
    }
  }
  const err = isObject(body) && isObject(body.error) ? body.error : null;
  const rpc = typeof err?.status === 'string' ? err.status : '';
  const keyInvalid =
    Array.isArray(err?.details) &&
    err.details.some((d) => isObject(d) && d.reason === 'API_KEY_INVALID');
  let status = keyInvalid ? 401 : (RPC_STATUS[rpc] ?? upstreamStatus);
  if (status < 400) status = typeof err?.code === 'number' && err.code >= 400 ? err.code : 502;
  const message =
    typeof err?.message === 'string'
      ? err.message
      : bodyText.trim()
        ? snippet(bodyText)
        : `The provider answered HTTP ${upstreamStatus}.`;
  return providerError({
    status: status === 499 ? 500 : status,
    message,
    upstreamStatus,
    code: keyInvalid ? 'invalid_api_key' : undefined,
  });
}

interface CandidateParts {
  text: string;
  reasoning: string;
  toolCalls: ChatToolCall[];
}

function readParts(content: unknown): CandidateParts {
  const out: CandidateParts = { text: '', reasoning: '', toolCalls: [] };
  const parts = isObject(content) && Array.isArray(content.parts) ? content.parts : [];
  for (const p of parts) {
    if (!isObject(p)) continue;
    if (typeof p.text === 'string') {
      if (p.thought === true) out.reasoning += p.text;
      else out.text += p.text;
    } else if (isObject(p.functionCall) && typeof p.functionCall.name === 'string') {
      const fc = p.functionCall;
      out.toolCalls.push({
        // Gemini's calls have no ids (newer models may send one): make one for OpenAI clients
        id: typeof fc.id === 'string' && fc.id ? fc.id : randomId('call_'),
        type: 'function',
        function: { name: fc.name as string, arguments: JSON.stringify(fc.args ?? {}) },
      });
    }
  }
  return out;
}

/** A `GenerateContentResponse` as an OpenAI chat completion. */
export function chatCompletionFromGemini(
  body: Record<string, unknown>,
  model: string,
): ChatCompletion {
  const candidates = Array.isArray(body.candidates) ? body.candidates : [];
  const choices: ChatCompletionChoice[] = candidates.map((c: unknown, i) => {
    const cand = isObject(c) ? c : {};
    const { text, reasoning, toolCalls } = readParts(cand.content);
    const message: ChatCompletionChoice['message'] = {
      role: 'assistant',
      content: text.length > 0 || toolCalls.length === 0 ? text : null,
      refusal: null,
    };
    if (reasoning) message.reasoning_content = reasoning;
    if (toolCalls.length > 0) message.tool_calls = toolCalls;
    return {
      index: typeof cand.index === 'number' ? cand.index : i,
      message,
      logprobs: null,
      finish_reason: finishReasonFromGemini(cand.finishReason, toolCalls.length > 0) ?? 'stop',
    };
  });
  // a blocked prompt has no candidates, only promptFeedback.blockReason
  if (choices.length === 0)
    choices.push({
      index: 0,
      message: { role: 'assistant', content: null, refusal: null },
      logprobs: null,
      finish_reason: 'content_filter',
    });
  const out: ChatCompletion = {
    id: `chatcmpl-${typeof body.responseId === 'string' ? body.responseId : randomId('')}`,
    object: 'chat.completion',
    created: nowSeconds(),
    model,
    choices,
  };
  const usage = usageFromGemini(body.usageMetadata);
  if (usage) out.usage = openAIUsage(usage, reasoningOf(body.usageMetadata));
  return out;
}

/**
 * Gemini's SSE stream (each event a whole `GenerateContentResponse`; no end marker: the last one
 * carries `finishReason`) as OpenAI chunks. Function calls arrive whole and become one tool-call
 * delta each. `usageMetadata` is cumulative; the usage chunk (when asked for) comes from finish().
 */
export class GeminiStreamTranslator implements ChatStreamTranslator {
  usage: TokenUsage | null = null;
  complete = false;
  error: ProviderError | null = null;
  textChars = 0;
  private readonly chunks: ChunkFactory;
  private started = false;
  private reasoningTokens = 0;
  private readonly toolCounts = new Map<number, number>();
  private readonly finished = new Set<number>();
  private usageSent = false;

  constructor(
    model: string,
    private readonly options: ChatStreamOptions,
  ) {
    this.chunks = new ChunkFactory(randomId('chatcmpl-'), model);
  }

  push(event: SseEvent): ChatCompletionChunk[] {
    const e = parseJsonObject(event.data);
    if (e === null) throw new MalformedStreamError(event.data);
    if (isObject(e.error)) {
      this.error = geminiError(200, event.data);
      return [];
    }
    const out: ChatCompletionChunk[] = [];
    if (!this.started) {
      this.started = true;
      if (typeof e.responseId === 'string') this.chunks.id = `chatcmpl-${e.responseId}`;
      out.push(this.chunks.delta(0, { role: 'assistant', content: '' }));
    }
    const usage = usageFromGemini(e.usageMetadata);
    if (usage) {
      this.usage = usage;
      this.reasoningTokens = reasoningOf(e.usageMetadata);
    }
    const candidates = Array.isArray(e.candidates) ? e.candidates : [];
    candidates.forEach((c: unknown, i) => {
      const cand = isObject(c) ? c : {};
      const index = typeof cand.index === 'number' ? cand.index : i;
      const { text, reasoning, toolCalls } = readParts(cand.content);
      if (reasoning) out.push(this.delta(index, { reasoning_content: reasoning }));
      if (text) out.push(this.delta(index, { content: text }));
      for (const call of toolCalls) {
        const n = this.toolCounts.get(index) ?? 0;
        this.toolCounts.set(index, n + 1);
        out.push(this.delta(index, { tool_calls: [{ index: n, ...call, type: 'function' }] }));
      }
      const finish = finishReasonFromGemini(
        cand.finishReason,
        (this.toolCounts.get(index) ?? 0) > 0,
      );
      if (finish !== null) {
        this.finished.add(index);
        this.complete = true;
        out.push(this.chunks.delta(index, {}, finish));
      }
    });
    // a prompt blocked before any candidate
    if (candidates.length === 0 && isObject(e.promptFeedback) && e.promptFeedback.blockReason) {
      this.complete = true;
      out.push(this.chunks.delta(0, {}, 'content_filter'));
    }
    return out;
  }

  finish(): ChatCompletionChunk[] {
    if (!this.complete || this.usageSent || !this.options.includeUsage || this.usage === null)
      return [];
    this.usageSent = true;
    return [this.chunks.usage(openAIUsage(this.usage, this.reasoningTokens))];
  }

  private delta(index: number, d: ChunkDelta): ChatCompletionChunk {
    this.textChars += deltaChars(d);
    return this.chunks.delta(index, d);
  }
}

function geminiHeaders(target: UpstreamTarget): Record<string, string> {
  return withExtraHeaders(
    { 'content-type': 'application/json', 'x-goog-api-key': target.apiKey },
    target.extraHeaders,
  );
}

/** Google Gemini API (Google AI Studio keys). */
export const geminiAdapter: ProviderAdapter = {
  type: 'gemini',

  buildChatRequest(req: ChatCompletionRequest, target: UpstreamTarget): UpstreamRequest {
    return {
      method: 'POST',
      url: geminiUrl(target, req.stream === true),
      headers: geminiHeaders(target),
      body: JSON.stringify(toGeminiRequest(req)),
    };
  },

  parseChatResponse(status, contentType, bodyText, requestedModel): ChatResponseResult {
    if (!isSuccess(status)) return { error: geminiError(status, bodyText) };
    if (!isJsonContentType(contentType))
      return {
        error: malformedResponse(`unexpected content type ${contentType ?? 'none'}`, status),
      };
    const body = parseJsonObject(bodyText);
    if (body === null) return { error: malformedResponse('the body is not a JSON object', status) };
    if (isObject(body.error)) return { error: geminiError(status, bodyText) };
    if (!Array.isArray(body.candidates) && !isObject(body.promptFeedback))
      return { error: malformedResponse("the body has no 'candidates'", status) };
    return {
      ok: chatCompletionFromGemini(body, requestedModel),
      usage: usageFromGemini(body.usageMetadata),
    };
  },

  parseErrorResponse(status, _contentType, bodyText): ProviderError {
    return geminiError(status, bodyText);
  },

  createChatStreamTranslator(requestedModel, options): ChatStreamTranslator {
    return new GeminiStreamTranslator(requestedModel, options);
  },
};
