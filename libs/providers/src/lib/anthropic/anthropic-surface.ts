import type { OpenAIErrorBody } from '@tollgate/contracts';
import { isObject, type Json } from '../adapters/openai-request';
import { usageFromOpenAI } from '../openai/usage';
import type {
  ChatCompletion,
  ChatCompletionRequest,
  ChatContentPart,
  ChatMessage,
  ChatToolCall,
} from '../openai/types';
import type {
  AnthropicContentBlock,
  AnthropicErrorBody,
  AnthropicErrorType,
  AnthropicMessage,
  AnthropicStopReason,
} from './anthropic-types';

/**
 * The proxy's Anthropic surface (`POST /v1/messages`): an Anthropic Messages request in, an
 * OpenAI chat request to route; the OpenAI answer back out as an Anthropic message or event
 * stream; errors in Anthropic's body. Streaming output lives in anthropic-stream-encoder.ts.
 */

export type AnthropicSurfaceRequest =
  | { ok: true; value: ChatCompletionRequest }
  | { ok: false; status: number; body: AnthropicErrorBody };

export const anthropicErrorBody = (
  type: AnthropicErrorType,
  message: string,
): AnthropicErrorBody => ({ type: 'error', error: { type, message } });

class Invalid extends Error {}

const invalid = (message: string): never => {
  throw new Invalid(message);
};

/** Anthropic's own wording: `messages.0.content.1.type: Field required`. */
const required = (path: string) => invalid(`${path}: Field required`);

function readString(v: unknown, path: string): string {
  if (typeof v !== 'string') invalid(`${path}: Input should be a valid string`);
  return v as string;
}

function dataUrl(source: unknown, path: string): string {
  if (!isObject(source)) return required(`${path}.source`);
  if (source.type === 'base64')
    return `data:${readString(source.media_type, `${path}.source.media_type`)};base64,${readString(source.data, `${path}.source.data`)}`;
  if (source.type === 'url') return readString(source.url, `${path}.source.url`);
  return invalid(`${path}.source.type: Input should be 'base64' or 'url'`);
}

/** A user-side block (text, image, document) as OpenAI content parts. */
function userPart(b: Json, path: string): ChatContentPart {
  switch (b.type) {
    case 'text': {
      const part: ChatContentPart = { type: 'text', text: readString(b.text, `${path}.text`) };
      // kept so that an Anthropic channel can send it on
      if (isObject(b.cache_control)) part.cache_control = b.cache_control;
      return part;
    }
    case 'image':
      return { type: 'image_url', image_url: { url: dataUrl(b.source, path) } };
    case 'document': {
      const s = isObject(b.source) ? b.source : {};
      if (s.type === 'text')
        return { type: 'text', text: readString(s.data, `${path}.source.data`) };
      const part: ChatContentPart = { type: 'file', file: { file_data: dataUrl(b.source, path) } };
      if (typeof b.title === 'string') (part.file as Json).filename = b.title;
      return part;
    }
    default:
      return invalid(`${path}.type: Input tag '${String(b.type)}' is not supported here`);
  }
}

function blocksOf(content: unknown, path: string): Json[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) return invalid(`${path}: Input should be a valid list`);
  return content.map((b, j) =>
    isObject(b) && typeof b.type === 'string' ? b : required(`${path}.${j}.type`),
  );
}

function toolResultContent(b: Json, path: string): { text: string; extra: ChatContentPart[] } {
  if (b.content === undefined || typeof b.content === 'string')
    return { text: (b.content as string | undefined) ?? '', extra: [] };
  let text = '';
  const extra: ChatContentPart[] = [];
  blocksOf(b.content, `${path}.content`).forEach((inner, k) => {
    const part = userPart(inner, `${path}.content.${k}`);
    if (part.type === 'text') text += (text ? '\n' : '') + String(part.text);
    else extra.push(part);
  });
  return { text, extra };
}

function userMessages(content: unknown, path: string): ChatMessage[] {
  if (typeof content === 'string') return [{ role: 'user', content }];
  const out: ChatMessage[] = [];
  const parts: ChatContentPart[] = [];
  blocksOf(content, path).forEach((b, j) => {
    const p = `${path}.${j}`;
    if (b.type === 'tool_result') {
      const { text, extra } = toolResultContent(b, p);
      out.push({
        role: 'tool',
        tool_call_id: readString(b.tool_use_id, `${p}.tool_use_id`),
        content: b.is_error === true && !text ? 'Error' : text,
      });
      // OpenAI tool messages carry text only: images of a result follow as user content
      parts.push(...extra);
    } else parts.push(userPart(b, p));
  });
  if (parts.length > 0) out.push({ role: 'user', content: parts });
  return out;
}

function assistantMessage(content: unknown, path: string): ChatMessage {
  if (typeof content === 'string') return { role: 'assistant', content };
  let text = '';
  const calls: ChatToolCall[] = [];
  blocksOf(content, path).forEach((b, j) => {
    const p = `${path}.${j}`;
    if (b.type === 'text') text += readString(b.text, `${p}.text`);
    else if (b.type === 'tool_use')
      calls.push({
        id: readString(b.id, `${p}.id`),
        type: 'function',
        function: {
          name: readString(b.name, `${p}.name`),
          arguments: JSON.stringify(isObject(b.input) ? b.input : {}),
        },
      });
    // thinking blocks are the provider's own; no OpenAI-format upstream can take them back
  });
  const m: ChatMessage = { role: 'assistant', content: text || (calls.length ? null : '') };
  if (calls.length > 0) m.tool_calls = calls;
  return m;
}

function systemMessage(system: unknown): ChatMessage | null {
  if (system === undefined || system === null) return null;
  if (typeof system === 'string') return system ? { role: 'system', content: system } : null;
  const blocks = blocksOf(system, 'system');
  const parts = blocks.map((b, j) =>
    b.type === 'text'
      ? userPart(b, `system.${j}`)
      : invalid(`system.${j}.type: Input should be 'text'`),
  );
  return parts.length ? { role: 'system', content: parts } : null;
}

function number(body: Json, key: string, min: number, max: number): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v))
    invalid(`${key}: Input should be a valid number`);
  if ((v as number) < min || (v as number) > max)
    invalid(`${key}: Input should be between ${min} and ${max}`);
  return v as number;
}

function translate(body: unknown): ChatCompletionRequest {
  if (!isObject(body)) return invalid('The request body must be a JSON object.');
  if (body.model === undefined) required('model');
  const model = readString(body.model, 'model');
  if (body.max_tokens === undefined) required('max_tokens');
  const maxTokens = body.max_tokens;
  if (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 1)
    invalid('max_tokens: Input should be a valid integer greater than or equal to 1');
  if (body.messages === undefined) required('messages');
  if (!Array.isArray(body.messages)) return invalid('messages: Input should be a valid list');
  if (body.messages.length === 0) invalid('messages: at least one message is required');

  const messages: ChatMessage[] = [];
  const sys = systemMessage(body.system);
  if (sys) messages.push(sys);
  body.messages.forEach((m: unknown, i) => {
    const p = `messages.${i}`;
    if (!isObject(m)) return invalid(`${p}: Input should be a valid dictionary`);
    if (m.content === undefined) required(`${p}.content`);
    if (m.role === 'user') messages.push(...userMessages(m.content, `${p}.content`));
    else if (m.role === 'assistant') messages.push(assistantMessage(m.content, `${p}.content`));
    else invalid(`${p}.role: Input should be 'user' or 'assistant'`);
  });

  const req: ChatCompletionRequest = { model, messages, max_tokens: maxTokens as number };
  const temperature = number(body, 'temperature', 0, 1);
  if (temperature !== undefined) req.temperature = temperature;
  const topP = number(body, 'top_p', 0, 1);
  if (topP !== undefined) req.top_p = topP;
  if (body.stop_sequences !== undefined) {
    if (
      !Array.isArray(body.stop_sequences) ||
      body.stop_sequences.some((s) => typeof s !== 'string')
    )
      invalid('stop_sequences: Input should be a valid list of strings');
    if ((body.stop_sequences as string[]).length > 0) req.stop = body.stop_sequences as string[];
  }
  if (body.stream !== undefined && typeof body.stream !== 'boolean')
    invalid('stream: Input should be a valid boolean');
  if (body.stream === true) {
    req.stream = true;
    // the closing message_delta reports usage, so the upstream must send it
    req.stream_options = { include_usage: true };
  }
  if (isObject(body.metadata) && typeof body.metadata.user_id === 'string')
    req.user = body.metadata.user_id;
  if (body.tools !== undefined) {
    if (!Array.isArray(body.tools)) invalid('tools: Input should be a valid list');
    req.tools = (body.tools as unknown[]).map((t, i) => {
      const p = `tools.${i}`;
      if (!isObject(t)) return invalid(`${p}: Input should be a valid dictionary`);
      if (t.type !== undefined && t.type !== 'custom')
        invalid(`${p}.type: server tool '${String(t.type)}' is not supported by this gateway`);
      const fn: Json = { name: readString(t.name, `${p}.name`) };
      if (typeof t.description === 'string') fn.description = t.description;
      if (!isObject(t.input_schema)) required(`${p}.input_schema`);
      fn.parameters = t.input_schema;
      return { type: 'function', function: fn };
    });
  }
  const tc = body.tool_choice;
  if (tc !== undefined) {
    if (!isObject(tc)) return invalid('tool_choice: Input should be a valid dictionary');
    if (tc.type === 'auto') req.tool_choice = 'auto';
    else if (tc.type === 'any') req.tool_choice = 'required';
    else if (tc.type === 'none') req.tool_choice = 'none';
    else if (tc.type === 'tool')
      req.tool_choice = {
        type: 'function',
        function: { name: readString(tc.name, 'tool_choice.name') },
      };
    else invalid("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'");
    if (tc.disable_parallel_tool_use === true && Array.isArray(req.tools))
      req.parallel_tool_calls = false;
  }
  return req;
}

/**
 * Validates an Anthropic Messages request and translates it to an OpenAI chat request: `system`
 * becomes a system message, `tool_result` blocks become `tool` messages (ahead of the rest of
 * their user turn), `tool_use` blocks tool calls, `tool_choice` any/tool `required`/named,
 * `stop_sequences` `stop`, `metadata.user_id` `user`. `top_k` and `thinking` have no OpenAI
 * counterpart and are dropped. Problems come back as Anthropic 400 bodies.
 */
export function anthropicToOpenAIRequest(body: unknown): AnthropicSurfaceRequest {
  try {
    return { ok: true, value: translate(body) };
  } catch (e) {
    if (!(e instanceof Invalid)) throw e;
    return { ok: false, status: 400, body: anthropicErrorBody('invalid_request_error', e.message) };
  }
}

/** OpenAI `finish_reason` → Anthropic `stop_reason`. */
export function stopReasonFromOpenAI(reason: string | null | undefined): AnthropicStopReason {
  switch (reason ?? '') {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return 'end_turn';
  }
}

/** Anthropic's usage for OpenAI's: the cached prompt tokens are reported as cache reads. */
export function anthropicUsageFromOpenAI(usage: unknown): AnthropicMessage['usage'] {
  const u = usageFromOpenAI(usage) ?? { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0 };
  return {
    input_tokens: u.inputTokens - u.cachedInputTokens,
    output_tokens: u.outputTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: u.cachedInputTokens,
  };
}

export function parseToolInput(args: unknown): Record<string, unknown> {
  if (typeof args !== 'string' || args === '') return {};
  try {
    const v: unknown = JSON.parse(args);
    return isObject(v) ? v : { value: v };
  } catch {
    return {};
  }
}

/** Anthropic message ids look like `msg_…`; an OpenAI id is kept after the prefix. */
export const anthropicMessageId = (openAIId: string): string =>
  `msg_${openAIId.replace(/^chatcmpl-/, '').replace(/[^a-zA-Z0-9_-]/g, '') || 'tollgate'}`;

/** An OpenAI chat completion (first choice) as an Anthropic message. */
export function anthropicMessageFromOpenAI(
  completion: ChatCompletion,
  model: string,
): AnthropicMessage {
  const choice = completion.choices[0];
  const content: AnthropicContentBlock[] = [];
  const m = choice?.message;
  const text = typeof m?.content === 'string' ? m.content : '';
  if (text) content.push({ type: 'text', text });
  for (const call of m?.tool_calls ?? [])
    content.push({
      type: 'tool_use',
      id: call.id,
      name: call.function.name,
      input: parseToolInput(call.function.arguments),
    });
  return {
    id: anthropicMessageId(completion.id),
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: stopReasonFromOpenAI(choice?.finish_reason),
    stop_sequence: null,
    usage: anthropicUsageFromOpenAI(completion.usage),
  };
}

/** The Anthropic error type of an HTTP status. */
export function anthropicErrorTypeOf(status: number): AnthropicErrorType {
  if (status === 401) return 'authentication_error';
  if (status === 402) return 'billing_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 413) return 'request_too_large';
  if (status === 429) return 'rate_limit_error';
  if (status === 503 || status === 529) return 'overloaded_error';
  if (status === 504) return 'timeout_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
}

/**
 * An OpenAI error (status and body, as the proxy produces them) in Anthropic's body. The status
 * stays; an `insufficient_quota` 429 becomes a `billing_error`, as Anthropic reports that case.
 */
export function anthropicErrorFromOpenAI(
  status: number,
  body: OpenAIErrorBody | unknown,
): { status: number; body: AnthropicErrorBody } {
  const err = isObject(body) && isObject(body.error) ? body.error : {};
  const message =
    typeof err.message === 'string' ? err.message : `The request failed with HTTP ${status}.`;
  const type =
    err.code === 'insufficient_quota' || err.type === 'insufficient_quota'
      ? 'billing_error'
      : anthropicErrorTypeOf(status);
  return { status, body: anthropicErrorBody(type, message) };
}
