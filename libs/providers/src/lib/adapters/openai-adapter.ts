import { MalformedStreamError } from '../openai/chat-stream';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  EmbeddingsRequest,
  EmbeddingsResponse,
  TokenUsage,
} from '../openai/types';
import { usageFromOpenAI } from '../openai/usage';
import type { SseEvent } from '../sse/sse-parser';
import { deltaChars, type ChunkDelta } from './chunks';
import { isObject } from './openai-request';
import type {
  ChatResponseResult,
  ChatStreamOptions,
  ChatStreamTranslator,
  EmbeddingsResponseResult,
  ProviderAdapter,
  ProviderError,
  UpstreamRequest,
  UpstreamTarget,
} from './provider-adapter';
import {
  isJsonContentType,
  isSuccess,
  joinUrl,
  malformedResponse,
  parseJsonObject,
  providerError,
  snippet,
  withExtraHeaders,
} from './provider-errors';

/**
 * Reads an OpenAI-style error body (`{error: {message, type, param, code}}`, also `{error: "..."}`
 * and the `{message}` some compatible servers send) at a given status.
 */
export function openAIStyleError(
  status: number,
  bodyText: string,
  upstreamStatus = status,
): ProviderError {
  const body = parseJsonObject(bodyText);
  const err = body?.error;
  let message: string | null = null;
  let type: string | undefined;
  let param: string | null = null;
  let code: string | null | undefined;
  if (isObject(err)) {
    if (typeof err.message === 'string') message = err.message;
    if (typeof err.type === 'string' && err.type.length > 0) type = err.type;
    if (typeof err.param === 'string') param = err.param;
    if (typeof err.code === 'string') code = err.code;
    else if (typeof err.code === 'number') code = String(err.code);
  } else if (typeof err === 'string') message = err;
  else if (typeof body?.message === 'string') message = body.message;
  if (message === null)
    message = bodyText.trim() ? snippet(bodyText) : `The provider answered HTTP ${upstreamStatus}.`;
  return providerError({ status, message, upstreamStatus, type, param, code });
}

/** Status of an error body that arrived with a 2xx (or inside a stream): its own code, else 502. */
function statusOfEmbeddedError(err: unknown): number {
  const code = isObject(err) ? err.code : undefined;
  const n = typeof code === 'number' ? code : typeof code === 'string' ? Number(code) : NaN;
  return Number.isInteger(n) && n >= 400 && n < 600 ? n : 502;
}

export interface OpenAIStreamOptions extends ChatStreamOptions {
  /** drop chunks with no choices and no usage (Azure's leading prompt-filter chunk) */
  dropEmptyChunks?: boolean;
}

/**
 * An OpenAI chat stream, parsed: the model shown is the requested one, usage is recorded and the
 * usage chunk passed on only when the client asked for it. (For OpenAI → OpenAI the proxy may
 * use the cheaper ChatStreamFilter, which avoids parsing most events; this one serves the paths
 * that need objects, such as the Anthropic surface.)
 */
export class OpenAIStreamTranslator implements ChatStreamTranslator {
  usage: TokenUsage | null = null;
  complete = false;
  error: ProviderError | null = null;
  textChars = 0;

  constructor(
    private readonly model: string,
    private readonly options: OpenAIStreamOptions,
  ) {}

  push(event: SseEvent): ChatCompletionChunk[] {
    const data = event.data;
    if (data === '[DONE]') {
      this.complete = true;
      return [];
    }
    const chunk = parseJsonObject(data);
    if (chunk === null) throw new MalformedStreamError(data);
    if (chunk.error !== undefined && chunk.error !== null && chunk.choices === undefined) {
      this.error = openAIStyleError(statusOfEmbeddedError(chunk.error), data, 200);
      return [];
    }
    const choices = Array.isArray(chunk.choices) ? (chunk.choices as unknown[]) : [];
    for (const choice of choices) {
      const delta = isObject(choice) ? choice.delta : undefined;
      if (isObject(delta)) this.textChars += deltaChars(delta as ChunkDelta);
    }
    const usage = usageFromOpenAI(chunk.usage);
    if (usage) this.usage = usage;
    if (choices.length === 0) {
      if (usage === null && this.options.dropEmptyChunks) return [];
      if (usage !== null && !this.options.includeUsage) return [];
    }
    if (!this.options.includeUsage) delete chunk.usage;
    chunk.model = this.model;
    return [chunk as unknown as ChatCompletionChunk];
  }

  finish(): ChatCompletionChunk[] {
    // a server that forgets `[DONE]` after its usage chunk still ended properly
    if (!this.complete && this.usage !== null) this.complete = true;
    return [];
  }
}

/** Reads a non-streamed OpenAI chat completion; shared by the OpenAI and Azure adapters. */
export function parseOpenAIChatResponse(
  status: number,
  contentType: string | undefined,
  bodyText: string,
  requestedModel: string,
): ChatResponseResult {
  if (!isSuccess(status)) return { error: openAIStyleError(status, bodyText) };
  if (!isJsonContentType(contentType))
    return { error: malformedResponse(`unexpected content type ${contentType ?? 'none'}`, status) };
  const body = parseJsonObject(bodyText);
  if (body === null) return { error: malformedResponse('the body is not a JSON object', status) };
  if (!Array.isArray(body.choices)) {
    if (body.error !== undefined && body.error !== null)
      return { error: openAIStyleError(statusOfEmbeddedError(body.error), bodyText, status) };
    return { error: malformedResponse("the body has no 'choices'", status) };
  }
  body.model = requestedModel;
  return { ok: body as unknown as ChatCompletion, usage: usageFromOpenAI(body.usage) };
}

export function parseOpenAIEmbeddingsResponse(
  status: number,
  contentType: string | undefined,
  bodyText: string,
  req: EmbeddingsRequest,
): EmbeddingsResponseResult {
  if (!isSuccess(status)) return { error: openAIStyleError(status, bodyText) };
  if (!isJsonContentType(contentType))
    return { error: malformedResponse(`unexpected content type ${contentType ?? 'none'}`, status) };
  const body = parseJsonObject(bodyText);
  if (body === null || !Array.isArray(body.data))
    return { error: malformedResponse("the body has no 'data' list", status) };
  body.model = req.model;
  return { ok: body as unknown as EmbeddingsResponse, usage: usageFromOpenAI(body.usage) };
}

/** The request body with the upstream model, and usage always asked for on streams (metering). */
export function openAIChatBody(req: ChatCompletionRequest, model: string | undefined): string {
  const body: Record<string, unknown> = { ...req };
  if (model === undefined) delete body.model;
  else body.model = model;
  if (req.stream === true)
    body.stream_options = { ...(req.stream_options ?? {}), include_usage: true };
  // OpenAI refuses stream_options on a request that does not stream
  else delete body.stream_options;
  return JSON.stringify(body);
}

function bearerHeaders(target: UpstreamTarget): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  // keyless local servers (Ollama, vLLM) get no Authorization header
  if (target.apiKey) headers.authorization = `Bearer ${target.apiKey}`;
  if (target.extraHeaders) withExtraHeaders(headers, target.extraHeaders);
  return headers;
}

/** OpenAI and every OpenAI-compatible server: mostly identity. */
export const openAIAdapter: ProviderAdapter = {
  type: 'openai',

  buildChatRequest(req: ChatCompletionRequest, target: UpstreamTarget): UpstreamRequest {
    return {
      method: 'POST',
      url: joinUrl(target.baseUrl, '/chat/completions'),
      headers: bearerHeaders(target),
      body: openAIChatBody(req, target.upstreamModel),
    };
  },

  parseChatResponse: parseOpenAIChatResponse,

  parseErrorResponse(
    status: number,
    _contentType: string | undefined,
    bodyText: string,
  ): ProviderError {
    return openAIStyleError(status, bodyText);
  },

  createChatStreamTranslator(
    requestedModel: string,
    options: ChatStreamOptions,
  ): ChatStreamTranslator {
    return new OpenAIStreamTranslator(requestedModel, options);
  },

  buildEmbeddingsRequest(req: EmbeddingsRequest, target: UpstreamTarget): UpstreamRequest {
    return {
      method: 'POST',
      url: joinUrl(target.baseUrl, '/embeddings'),
      headers: bearerHeaders(target),
      body: JSON.stringify({ ...req, model: target.upstreamModel }),
    };
  },

  parseEmbeddingsResponse: parseOpenAIEmbeddingsResponse,
};
