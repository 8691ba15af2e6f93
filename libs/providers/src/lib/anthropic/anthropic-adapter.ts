import { MalformedStreamError } from '../openai/chat-stream';
import type {
  ChatCompletion,
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
import { ANTHROPIC_JSON_TOOL_NAME, toAnthropicRequest } from './anthropic-request';
import { ANTHROPIC_VERSION } from './anthropic-types';

/** `https://api.anthropic.com` (or with `/v1`) → `…/v1/messages`. */
export function anthropicMessagesUrl(baseUrl: string): string {
  const base = joinUrl(baseUrl, '');
  return base.endsWith('/v1') ? `${base}/messages` : `${base}/v1/messages`;
}

/** Anthropic `stop_reason` → OpenAI `finish_reason`. */
export function finishReasonFromAnthropic(reason: unknown): string | null {
  switch (reason) {
    case 'end_turn':
    case 'stop_sequence':
    case 'pause_turn':
      return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    case null:
    case undefined:
      return null;
    default:
      return 'stop';
  }
}

const count = (v: unknown): number =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : 0;

/**
 * Anthropic `usage` → Tollgate's counts. Anthropic's `input_tokens` exclude the tokens read from
 * and written to the prompt cache; OpenAI's `prompt_tokens` include them, with the reads as
 * `cached_tokens`. Null when there is no `input_tokens`.
 */
export function usageFromAnthropic(usage: unknown): TokenUsage | null {
  if (!isObject(usage) || typeof usage.input_tokens !== 'number') return null;
  const cacheRead = count(usage.cache_read_input_tokens);
  return {
    inputTokens: count(usage.input_tokens) + cacheRead + count(usage.cache_creation_input_tokens),
    outputTokens: count(usage.output_tokens),
    cachedInputTokens: cacheRead,
  };
}

/** Anthropic error `type` → the OpenAI status, type and code of the same condition. */
function fromAnthropicType(
  type: string | undefined,
  status: number,
): { status: number; type?: string; code?: string | null; retryable?: boolean } {
  switch (type ?? '') {
    case 'overloaded_error':
      return { status: 503, code: 'overloaded', retryable: true };
    case 'rate_limit_error':
      return { status: 429 };
    case 'billing_error':
      // the channel's account has no credit: another channel may still serve the request
      return {
        status: 429,
        type: 'insufficient_quota',
        code: 'insufficient_quota',
        retryable: true,
      };
    case 'authentication_error':
      return { status: 401 };
    case 'permission_error':
      return { status: 403 };
    case 'not_found_error':
      return { status: 404 };
    case 'request_too_large':
      return { status: 413 };
    case 'timeout_error':
      return { status: 504 };
    case 'api_error':
      return { status: status >= 500 ? status : 500 };
    case 'invalid_request_error':
      return { status: status >= 400 && status < 500 ? status : 400 };
    default:
      break;
  }
  if (status === 529) return { status: 503, code: 'overloaded', retryable: true };
  if (status === 402) return { status: 429, type: 'insufficient_quota', retryable: true };
  return { status: status >= 400 ? status : 502 };
}

/** Reads an Anthropic error body (`{type: 'error', error: {type, message}}`) at a status. */
export function anthropicError(
  upstreamStatus: number,
  bodyText: string,
  inStream = false,
): ProviderError {
  const body = parseJsonObject(bodyText);
  const err = isObject(body?.error) ? body.error : null;
  const type = typeof err?.type === 'string' ? err.type : undefined;
  const m = fromAnthropicType(type, inStream ? 0 : upstreamStatus);
  const message =
    typeof err?.message === 'string'
      ? err.message
      : bodyText.trim()
        ? snippet(bodyText)
        : `The provider answered HTTP ${upstreamStatus}.`;
  return providerError({
    status: m.status,
    message,
    upstreamStatus,
    type: m.type,
    code: m.code,
    retryable: m.retryable,
  });
}

/** An Anthropic message as an OpenAI chat completion (the JSON-mode tool becomes text). */
export function chatCompletionFromAnthropic(
  msg: Record<string, unknown>,
  model: string,
): ChatCompletion {
  let text = '';
  let reasoning = '';
  const toolCalls: ChatToolCall[] = [];
  let jsonTool = false;
  for (const block of Array.isArray(msg.content) ? (msg.content as unknown[]) : []) {
    if (!isObject(block)) continue;
    if (block.type === 'text' && typeof block.text === 'string') text += block.text;
    else if (block.type === 'thinking' && typeof block.thinking === 'string')
      reasoning += block.thinking;
    else if (block.type === 'tool_use' && typeof block.name === 'string') {
      const args = JSON.stringify(isObject(block.input) ? block.input : {});
      if (block.name === ANTHROPIC_JSON_TOOL_NAME) {
        text += args;
        jsonTool = true;
      } else
        toolCalls.push({
          id: typeof block.id === 'string' ? block.id : '',
          type: 'function',
          function: { name: block.name, arguments: args },
        });
    }
  }
  const message: ChatCompletion['choices'][number]['message'] = {
    role: 'assistant',
    content: text.length > 0 || toolCalls.length === 0 ? text : null,
    refusal: null,
  };
  if (reasoning) message.reasoning_content = reasoning;
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  const finish = jsonTool ? 'stop' : finishReasonFromAnthropic(msg.stop_reason);
  const usage = usageFromAnthropic(msg.usage);
  const out: ChatCompletion = {
    id: `chatcmpl-${typeof msg.id === 'string' ? msg.id : ''}`,
    object: 'chat.completion',
    created: nowSeconds(),
    model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finish }],
  };
  if (usage) out.usage = openAIUsage(usage);
  return out;
}

/** What one Anthropic content block of a stream is, by its index. */
type BlockKind =
  { kind: 'text' } | { kind: 'tool'; index: number } | { kind: 'json' } | { kind: 'other' };

/**
 * Anthropic's stream (`message_start`, `content_block_*`, `message_delta`, `message_stop`, `ping`,
 * `error`) as OpenAI chunks: a role chunk on `message_start`, text and tool-argument deltas, the
 * finish reason on `message_delta`, the usage chunk (when asked for) on `message_stop`.
 */
export class AnthropicStreamTranslator implements ChatStreamTranslator {
  usage: TokenUsage | null = null;
  complete = false;
  error: ProviderError | null = null;
  textChars = 0;
  private readonly chunks: ChunkFactory;
  private readonly blocks = new Map<number, BlockKind>();
  private toolCount = 0;
  private usageSent = false;
  private jsonTool = false;

  constructor(
    model: string,
    private readonly options: ChatStreamOptions,
  ) {
    this.chunks = new ChunkFactory('chatcmpl-anthropic', model);
  }

  push(event: SseEvent): ChatCompletionChunk[] {
    const e = parseJsonObject(event.data);
    if (e === null) throw new MalformedStreamError(event.data);
    switch (e.type) {
      case 'message_start': {
        const msg = isObject(e.message) ? e.message : {};
        if (typeof msg.id === 'string') this.chunks.id = `chatcmpl-${msg.id}`;
        this.usage = usageFromAnthropic(msg.usage) ?? this.usage;
        return [this.delta({ role: 'assistant', content: '' })];
      }
      case 'content_block_start':
        return this.blockStart(e);
      case 'content_block_delta':
        return this.blockDelta(e);
      case 'message_delta': {
        this.mergeUsage(e.usage);
        const d = isObject(e.delta) ? e.delta : {};
        const finish = this.jsonTool ? 'stop' : finishReasonFromAnthropic(d.stop_reason);
        return finish === null ? [] : [this.chunks.delta(0, {}, finish)];
      }
      case 'message_stop':
        this.complete = true;
        return this.usageChunk();
      case 'error':
        this.error = anthropicError(200, event.data, true);
        return [];
      default:
        // ping, content_block_stop and event types added later carry nothing for OpenAI clients
        return [];
    }
  }

  finish(): ChatCompletionChunk[] {
    return this.complete ? this.usageChunk() : [];
  }

  private delta(d: ChunkDelta): ChatCompletionChunk {
    this.textChars += deltaChars(d);
    return this.chunks.delta(0, d);
  }

  private blockStart(e: Record<string, unknown>): ChatCompletionChunk[] {
    const index = typeof e.index === 'number' ? e.index : -1;
    const block = isObject(e.content_block) ? e.content_block : {};
    if (block.type === 'text') {
      this.blocks.set(index, { kind: 'text' });
      return typeof block.text === 'string' && block.text
        ? [this.delta({ content: block.text })]
        : [];
    }
    if (block.type === 'tool_use' && typeof block.name === 'string') {
      if (block.name === ANTHROPIC_JSON_TOOL_NAME) {
        this.jsonTool = true;
        this.blocks.set(index, { kind: 'json' });
        return [];
      }
      const toolIndex = this.toolCount++;
      this.blocks.set(index, { kind: 'tool', index: toolIndex });
      return [
        this.delta({
          tool_calls: [
            {
              index: toolIndex,
              id: typeof block.id === 'string' ? block.id : '',
              type: 'function',
              function: { name: block.name, arguments: '' },
            },
          ],
        }),
      ];
    }
    this.blocks.set(index, { kind: block.type === 'thinking' ? 'text' : 'other' });
    return [];
  }

  private blockDelta(e: Record<string, unknown>): ChatCompletionChunk[] {
    const d = isObject(e.delta) ? e.delta : {};
    const kind = this.blocks.get(typeof e.index === 'number' ? e.index : -1);
    switch (d.type) {
      case 'text_delta':
        return typeof d.text === 'string' ? [this.delta({ content: d.text })] : [];
      case 'thinking_delta':
        return typeof d.thinking === 'string'
          ? [this.delta({ reasoning_content: d.thinking })]
          : [];
      case 'input_json_delta': {
        if (typeof d.partial_json !== 'string' || d.partial_json === '') return [];
        if (kind?.kind === 'json') return [this.delta({ content: d.partial_json })];
        if (kind?.kind !== 'tool') return [];
        return [
          this.delta({
            tool_calls: [{ index: kind.index, function: { arguments: d.partial_json } }],
          }),
        ];
      }
      default:
        return [];
    }
  }

  /** `message_delta` usage is cumulative; newer API versions repeat the input counts there. */
  private mergeUsage(u: unknown): void {
    if (!isObject(u)) return;
    const full = usageFromAnthropic(u);
    if (full) {
      this.usage = full;
      return;
    }
    const base = this.usage ?? { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0 };
    if (typeof u.output_tokens === 'number')
      this.usage = { ...base, outputTokens: count(u.output_tokens) };
  }

  private usageChunk(): ChatCompletionChunk[] {
    if (this.usageSent || !this.options.includeUsage || this.usage === null) return [];
    this.usageSent = true;
    return [this.chunks.usage(openAIUsage(this.usage))];
  }
}

function anthropicHeaders(target: UpstreamTarget): Record<string, string> {
  return withExtraHeaders(
    {
      'content-type': 'application/json',
      'x-api-key': target.apiKey,
      'anthropic-version': ANTHROPIC_VERSION,
    },
    target.extraHeaders,
  );
}

/** Anthropic Messages API. No embeddings. */
export const anthropicAdapter: ProviderAdapter = {
  type: 'anthropic',

  buildChatRequest(req: ChatCompletionRequest, target: UpstreamTarget): UpstreamRequest {
    return {
      method: 'POST',
      url: anthropicMessagesUrl(target.baseUrl),
      headers: anthropicHeaders(target),
      body: JSON.stringify(toAnthropicRequest(req, target.upstreamModel)),
    };
  },

  parseChatResponse(status, contentType, bodyText, requestedModel): ChatResponseResult {
    if (!isSuccess(status)) return { error: anthropicError(status, bodyText) };
    if (!isJsonContentType(contentType))
      return {
        error: malformedResponse(`unexpected content type ${contentType ?? 'none'}`, status),
      };
    const body = parseJsonObject(bodyText);
    if (body === null) return { error: malformedResponse('the body is not a JSON object', status) };
    if (body.type === 'error') return { error: anthropicError(status, bodyText, true) };
    if (!Array.isArray(body.content))
      return { error: malformedResponse("the body has no 'content'", status) };
    return {
      ok: chatCompletionFromAnthropic(body, requestedModel),
      usage: usageFromAnthropic(body.usage),
    };
  },

  parseErrorResponse(status, _contentType, bodyText): ProviderError {
    return anthropicError(status, bodyText);
  },

  createChatStreamTranslator(requestedModel, options): ChatStreamTranslator {
    return new AnthropicStreamTranslator(requestedModel, options);
  },
};
