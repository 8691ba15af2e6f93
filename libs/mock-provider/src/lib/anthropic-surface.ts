import { type MockExchange, truncated } from './exchange';
import { isObject, later, send, type Json } from './http';
import { reportedPromptTokens } from './settings';
import { garbledPlan, splitText, writeStream } from './stream';
import {
  mockAnswer,
  mockAnthropicPromptTokens,
  mockToolCallTokens,
  mockToolDecision,
  mockWord,
  type MockToolCall,
  type MockToolChoice,
} from './wire';

/** Anthropic's error `type` for an HTTP status. */
export function anthropicErrorType(status: number): string {
  switch (status) {
    case 400:
      return 'invalid_request_error';
    case 401:
      return 'authentication_error';
    case 402:
      return 'billing_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 504:
      return 'timeout_error';
    case 529:
      return 'overloaded_error';
    default:
      return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

/** Anthropic's error body: `{"type":"error","error":{"type":…,"message":…}}`. */
export function anthropicErrorJson(status: number, message: string): string {
  return JSON.stringify({ type: 'error', error: { type: anthropicErrorType(status), message } });
}

/** The tool call the mock makes for an Anthropic Messages request, if any. */
export function anthropicToolCall(b: Json): MockToolCall | null {
  const tools = Array.isArray(b.tools)
    ? b.tools
        .filter((t: unknown): t is Json => isObject(t) && typeof t.name === 'string')
        .map((t) => ({ name: t.name as string, schema: t.input_schema }))
    : [];
  const tc = b.tool_choice;
  let choice: MockToolChoice = 'auto';
  let named: string | null = null;
  if (isObject(tc)) {
    if (tc.type === 'none') choice = 'none';
    else if (tc.type === 'any') choice = 'forced';
    else if (tc.type === 'tool' && typeof tc.name === 'string') {
      choice = 'forced';
      named = tc.name;
    }
  }
  const messages = Array.isArray(b.messages) ? b.messages : [];
  const last: unknown = messages[messages.length - 1];
  // the user's own words: a string, or blocks none of which is a tool result
  const userText =
    isObject(last) &&
    last.role === 'user' &&
    (typeof last.content === 'string' ||
      (Array.isArray(last.content) &&
        !last.content.some((c: unknown) => isObject(c) && c.type === 'tool_result')));
  return mockToolDecision(tools, choice, named, userText);
}

/** A request the real API would refuse before generating: the message, else null. */
export function anthropicProblem(b: Json): string | null {
  if (typeof b.model !== 'string') return 'model: Field required';
  if (typeof b.max_tokens !== 'number') return 'max_tokens: Field required';
  if (!Array.isArray(b.messages)) return 'messages: Field required';
  return null;
}

const usageObject = (input: number, cached: number, output: number | null): Json => {
  const read = Math.min(cached, input);
  const u: Json = {
    input_tokens: input - read,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: read,
  };
  if (output !== null) u.output_tokens = output;
  return u;
};

const event = (data: Json): string =>
  `event: ${String(data.type)}\ndata: ${JSON.stringify(data)}\n\n`;

/** `POST /v1/messages`: an Anthropic message, JSON or the event stream. */
export function anthropicMessages(x: MockExchange): void {
  const { req, res, body: b, model, s } = x;
  const prompt = reportedPromptTokens(s, () => mockAnthropicPromptTokens(b));
  const call = s.tool_calls ? anthropicToolCall(b) : null;
  const id = x.nextId('msg');
  const toolId = x.nextId('toolu');
  const headers = { 'request-id': x.nextId('req') };
  if (!x.stream) {
    const output = call ? mockToolCallTokens(call.arguments) : s.words;
    const content = call
      ? [
          {
            type: 'tool_use',
            id: toolId,
            name: call.name,
            input: JSON.parse(call.arguments) as unknown,
          },
        ]
      : [{ type: 'text', text: mockAnswer(s.words) }];
    const msg: Json = {
      id,
      type: 'message',
      role: 'assistant',
      model,
      content,
      stop_reason: call ? 'tool_use' : 'end_turn',
      stop_sequence: null,
    };
    if (!s.omit_usage) msg.usage = usageObject(prompt, s.cached_tokens, output);
    const out = JSON.stringify(msg);
    if (s.malformed_json) x.fault();
    return later(s.latency_ms, res, () =>
      send(res, 200, s.malformed_json ? truncated(out) : out, headers),
    );
  }
  const contentType = 'text/event-stream; charset=utf-8';
  if (s.malformed_sse) {
    x.fault();
    return writeStream(
      req,
      res,
      { ...garbledPlan(contentType, 'content_block_delta'), headers },
      s,
      x.hooks,
    );
  }
  const message: Json = {
    id,
    type: 'message',
    role: 'assistant',
    model,
    content: [],
    stop_reason: null,
    stop_sequence: null,
  };
  if (!s.omit_usage) message.usage = usageObject(prompt, s.cached_tokens, 1);
  let head = event({ type: 'message_start', message });
  const content: string[] = [];
  let output: number;
  if (call) {
    head += event({
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'tool_use', id: toolId, name: call.name, input: {} },
    });
    for (const piece of splitText(call.arguments, s.chunks))
      content.push(
        event({
          type: 'content_block_delta',
          index: 0,
          delta: { type: 'input_json_delta', partial_json: piece },
        }),
      );
    output = mockToolCallTokens(call.arguments);
  } else {
    head += event({
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'text', text: '' },
    });
    for (let i = 0; i < s.chunks; i++)
      content.push(
        event({
          type: 'content_block_delta',
          index: 0,
          delta: { type: 'text_delta', text: (i === 0 ? '' : ' ') + mockWord(i) },
        }),
      );
    output = s.chunks;
  }
  head += event({ type: 'ping' });
  const delta: Json = {
    type: 'message_delta',
    delta: { stop_reason: call ? 'tool_use' : 'end_turn', stop_sequence: null },
  };
  if (!s.omit_usage) delta.usage = { output_tokens: output };
  const tail =
    event({ type: 'content_block_stop', index: 0 }) +
    event(delta) +
    event({ type: 'message_stop' });
  writeStream(req, res, { head, content, tail, contentType, headers }, s, x.hooks);
}
