import { isObject, later, now, send, type Json } from './http';
import { reportedPromptTokens } from './settings';
import { truncated, type MockExchange } from './exchange';
import { garbledPlan, splitText, writeStream, type StreamPlan } from './stream';
import {
  errorJson,
  mockAnswer,
  mockCompletionPromptTokens,
  mockEmbedding,
  mockEmbeddingTokens,
  mockPromptTokens,
  mockToolCallTokens,
  mockToolDecision,
  mockWord,
  usageJson,
  type MockToolCall,
  type MockToolChoice,
} from './wire';

/** Azure's body for a wrong or missing `api-key`. */
export const AZURE_ACCESS_DENIED = JSON.stringify({
  error: {
    code: '401',
    message:
      'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
  },
});

/** The tool call the mock makes for an OpenAI chat request, if any (see mockToolDecision). */
export function openAIToolCall(b: Json): MockToolCall | null {
  const tools = Array.isArray(b.tools)
    ? b.tools
        .map((t: unknown) => (isObject(t) && isObject(t.function) ? t.function : null))
        .filter((f): f is Json => f !== null && typeof f.name === 'string')
        .map((f) => ({ name: f.name as string, schema: f.parameters }))
    : [];
  const tc = b.tool_choice;
  let choice: MockToolChoice = 'auto';
  let named: string | null = null;
  if (tc === 'none') choice = 'none';
  else if (tc === 'required') choice = 'forced';
  else if (isObject(tc) && isObject(tc.function) && typeof tc.function.name === 'string') {
    choice = 'forced';
    named = tc.function.name;
  }
  const messages = Array.isArray(b.messages) ? b.messages : [];
  const last: unknown = messages[messages.length - 1];
  return mockToolDecision(tools, choice, named, isObject(last) && last.role === 'user');
}

const AZURE_PROMPT_FILTER =
  '"prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},' +
  '"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}}]';

/** `POST /v1/chat/completions` (and Azure's deployment route). */
export function openAIChat(x: MockExchange, azure: boolean): void {
  const { res, body: b, model, s } = x;
  const prompt = reportedPromptTokens(s, () => mockPromptTokens(b.messages));
  const call = s.tool_calls ? openAIToolCall(b) : null;
  if (x.stream) return openAIChatStream(x, azure, prompt, call);
  const completion = call ? mockToolCallTokens(call.arguments) : s.words;
  const usage = s.omit_usage ? '' : `,"usage":${usageJson(prompt, completion, s.cached_tokens)}`;
  const message = call
    ? `{"role":"assistant","content":null,"tool_calls":[{"id":"${x.nextId('call')}","type":"function","function":{"name":${JSON.stringify(call.name)},"arguments":${JSON.stringify(call.arguments)}}}],"refusal":null,"annotations":[]}`
    : `{"role":"assistant","content":${JSON.stringify(mockAnswer(s.words))},"refusal":null,"annotations":[]}`;
  const filter = azure ? ',"content_filter_results":{}' : '';
  const out =
    `{"id":"${x.nextId('chatcmpl')}","object":"chat.completion","created":${now()},"model":${JSON.stringify(model)},` +
    `"choices":[{"index":0,"message":${message},"logprobs":null,"finish_reason":"${call ? 'tool_calls' : 'stop'}"${filter}}]${usage},` +
    (azure ? `${AZURE_PROMPT_FILTER},` : '') +
    '"service_tier":"default","system_fingerprint":"fp_mock"}';
  if (s.malformed_json) x.fault();
  later(s.latency_ms, res, () =>
    send(res, 200, s.malformed_json ? truncated(out) : out, { 'x-request-id': x.nextId('req') }),
  );
}

function openAIChatStream(
  x: MockExchange,
  azure: boolean,
  prompt: number,
  call: MockToolCall | null,
): void {
  const { req, res, body: b, model, s } = x;
  const contentType = 'text/event-stream; charset=utf-8';
  const headers = { 'x-request-id': x.nextId('req') };
  if (s.malformed_sse) {
    x.fault();
    return writeStream(req, res, { ...garbledPlan(contentType), headers }, s, x.hooks);
  }
  const so = b.stream_options;
  const includeUsage = !s.omit_usage && isObject(so) && so.include_usage === true;
  const head =
    `data: {"id":"${x.nextId('chatcmpl')}","object":"chat.completion.chunk","created":${now()},` +
    `"model":${JSON.stringify(model)},"service_tier":"default","system_fingerprint":"fp_mock","choices":[`;
  const tail = `]${includeUsage ? ',"usage":null' : ''}}\n\n`;
  const choice = (delta: string, finish: string | null) =>
    `{"index":0,"delta":${delta},"logprobs":null,"finish_reason":${finish === null ? 'null' : `"${finish}"`}}`;

  let first: string;
  let content: string[];
  let completion: number;
  if (call) {
    const pieces = splitText(call.arguments, s.chunks);
    first =
      head +
      choice(
        `{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"${x.nextId('call')}","type":"function","function":{"name":${JSON.stringify(call.name)},"arguments":""}}],"refusal":null}`,
        null,
      ) +
      tail;
    content = pieces.map(
      (p) =>
        head +
        choice(`{"tool_calls":[{"index":0,"function":{"arguments":${JSON.stringify(p)}}}]}`, null) +
        tail,
    );
    completion = mockToolCallTokens(call.arguments);
  } else {
    first = head + choice('{"role":"assistant","content":"","refusal":null}', null) + tail;
    content = [];
    for (let i = 0; i < s.chunks; i++)
      content.push(
        head +
          choice(`{"content":${JSON.stringify((i === 0 ? '' : ' ') + mockWord(i))}}`, null) +
          tail,
      );
    completion = s.chunks;
  }
  // Azure opens with a choice-less chunk carrying the prompt filter results
  const azureHead = azure
    ? `data: {"choices":[],"created":0,"id":"","model":"","object":"",${AZURE_PROMPT_FILTER}}\n\n`
    : '';
  let end = head + choice('{}', call ? 'tool_calls' : 'stop') + tail;
  if (includeUsage)
    end += `${head}],"usage":${usageJson(prompt, completion, s.cached_tokens)}}\n\n`;
  end += 'data: [DONE]\n\n';
  const plan: StreamPlan = { head: azureHead + first, content, tail: end, contentType, headers };
  writeStream(req, res, plan, s, x.hooks);
}

/** Legacy `POST /v1/completions` (text completions), JSON and SSE. */
export function openAICompletions(x: MockExchange): void {
  const { req, res, body: b, model, s } = x;
  const prompt = reportedPromptTokens(s, () => mockCompletionPromptTokens(b.prompt));
  const id = x.nextId('cmpl');
  const head = `{"id":"${id}","object":"text_completion","created":${now()},"model":${JSON.stringify(model)},"choices":[`;
  const choice = (text: string, finish: string | null) =>
    `{"text":${JSON.stringify(text)},"index":0,"logprobs":null,"finish_reason":${finish === null ? 'null' : `"${finish}"`}}`;
  if (!x.stream) {
    const usage = s.omit_usage ? '' : `,"usage":${usageJson(prompt, s.words, s.cached_tokens)}`;
    const out = `${head}${choice(mockAnswer(s.words), 'stop')}]${usage},"system_fingerprint":"fp_mock"}`;
    if (s.malformed_json) x.fault();
    return later(s.latency_ms, res, () => send(res, 200, s.malformed_json ? truncated(out) : out));
  }
  const contentType = 'text/event-stream; charset=utf-8';
  if (s.malformed_sse) {
    x.fault();
    return writeStream(req, res, garbledPlan(contentType), s, x.hooks);
  }
  const so = b.stream_options;
  const includeUsage = !s.omit_usage && isObject(so) && so.include_usage === true;
  const ev = (c: string) => `data: ${head}${c}]${includeUsage ? ',"usage":null' : ''}}\n\n`;
  const content: string[] = [];
  for (let i = 0; i < s.chunks; i++)
    content.push(ev(choice((i === 0 ? '' : ' ') + mockWord(i), null)));
  let tail = ev(choice('', 'stop'));
  if (includeUsage)
    tail += `data: ${head}],"usage":${usageJson(prompt, s.chunks, s.cached_tokens)}}\n\n`;
  writeStream(
    req,
    res,
    { head: '', content, tail: tail + 'data: [DONE]\n\n', contentType },
    s,
    x.hooks,
  );
}

/** `POST /v1/embeddings` (and Azure's deployment route). */
export function openAIEmbeddings(x: MockExchange): void {
  const { res, body: b, model, s } = x;
  const input = b.input;
  const items: unknown[] =
    Array.isArray(input) && input.length > 0 && typeof input[0] !== 'number' ? input : [input];
  const dims =
    typeof b.dimensions === 'number' && Number.isInteger(b.dimensions)
      ? Math.min(8192, Math.max(1, b.dimensions))
      : s.embed_dim;
  const base64 = b.encoding_format === 'base64';
  const data = items.map((item, index) => {
    const v = mockEmbedding(JSON.stringify(item ?? ''), dims);
    const embedding = base64
      ? JSON.stringify(Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64'))
      : `[${Array.from(v).join(',')}]`;
    return `{"object":"embedding","index":${index},"embedding":${embedding}}`;
  });
  const tokens = reportedPromptTokens(s, () => mockEmbeddingTokens(input));
  const usage = s.omit_usage ? '' : `,"usage":{"prompt_tokens":${tokens},"total_tokens":${tokens}}`;
  const out = `{"object":"list","data":[${data.join(',')}],"model":${JSON.stringify(model)}${usage}}`;
  if (s.malformed_json) x.fault();
  later(s.latency_ms, res, () => send(res, 200, s.malformed_json ? truncated(out) : out));
}

/** OpenAI's error body for an injected status. */
export function openAIFault(status: number): string {
  const type =
    status === 429 ? 'rate_limit_error' : status >= 500 ? 'server_error' : 'invalid_request_error';
  const code = status === 429 ? 'rate_limit_exceeded' : status === 401 ? 'invalid_api_key' : null;
  return errorJson(`Injected failure (mock fail_status=${status})`, type, code);
}
