import { chatStreamEvents } from '../openai/fixtures.spec-helper';
import type { ChatCompletion, ChatCompletionChunk } from '../openai/types';
import { SseParser } from '../sse/sse-parser';
import { AnthropicStreamEncoder } from './anthropic-stream-encoder';
import {
  anthropicErrorFromOpenAI,
  anthropicMessageFromOpenAI,
  anthropicToOpenAIRequest as sut,
} from './anthropic-surface';

const request = (over: Record<string, unknown> = {}) => ({
  model: 'claude-sonnet-4-5',
  max_tokens: 256,
  messages: [{ role: 'user', content: 'Hello' }],
  ...over,
});

const problem = (body: unknown): string => {
  const r = sut(body);
  if (r.ok) throw new Error('expected a refusal');
  expect(r.status).toBe(400);
  expect(r.body.type).toBe('error');
  expect(r.body.error.type).toBe('invalid_request_error');
  return r.body.error.message;
};

const events = (sse: string) =>
  new SseParser().feed(sse).map((e) => ({ event: e.event, ...JSON.parse(e.data) }));

describe('anthropicToOpenAIRequest', () => {
  it.each([
    [{ max_tokens: 1, messages: [] }, 'model: Field required'],
    [{ model: 'm', messages: [] }, 'max_tokens: Field required'],
    [
      { model: 'm', max_tokens: 0, messages: [] },
      'max_tokens: Input should be a valid integer greater than or equal to 1',
    ],
    [{ model: 'm', max_tokens: 1 }, 'messages: Field required'],
    [
      request({ messages: [{ role: 'system', content: 'x' }] }),
      "messages.0.role: Input should be 'user' or 'assistant'",
    ],
    [
      request({ messages: [{ role: 'user', content: [{ text: 'x' }] }] }),
      'messages.0.content.0.type: Field required',
    ],
    [request({ temperature: 1.5 }), 'temperature: Input should be between 0 and 1'],
    [request({ tools: [{ name: 't' }] }), 'tools.0.input_schema: Field required'],
    [
      request({ tool_choice: { type: 'maybe' } }),
      "tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'",
    ],
  ])('refuses %j with "%s"', (body, message) => {
    expect(problem(body)).toBe(message);
  });

  it('refuses a body that is not an object', () => {
    expect(problem('hi')).toMatch(/JSON object/);
  });

  it('translates system, images, tools, tool use and results, and streaming with usage', () => {
    const r = sut(
      request({
        system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
        stream: true,
        temperature: 0.5,
        top_k: 5,
        stop_sequences: ['END'],
        metadata: { user_id: 'u1' },
        tools: [{ name: 'get_weather', description: 'd', input_schema: { type: 'object' } }],
        tool_choice: { type: 'any', disable_parallel_tool_use: true },
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Look' },
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } },
              { type: 'image', source: { type: 'url', url: 'https://x/y.png' } },
            ],
          },
          {
            role: 'assistant',
            content: [
              { type: 'thinking', thinking: 'hmm', signature: 's' },
              { type: 'text', text: 'Checking.' },
              {
                type: 'tool_use',
                id: 'toolu_1',
                name: 'get_weather',
                input: { location: 'Paris' },
              },
            ],
          },
          {
            role: 'user',
            content: [
              {
                type: 'tool_result',
                tool_use_id: 'toolu_1',
                content: [{ type: 'text', text: '18C' }],
              },
              { type: 'text', text: 'Thanks' },
            ],
          },
        ],
      }),
    );
    if (!r.ok) throw new Error(r.body.error.message);
    expect(r.value).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 256,
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.5,
      stop: ['END'],
      user: 'u1',
      tools: [
        {
          type: 'function',
          function: { name: 'get_weather', description: 'd', parameters: { type: 'object' } },
        },
      ],
      tool_choice: 'required',
      parallel_tool_calls: false,
      messages: [
        {
          role: 'system',
          content: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
        },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Look' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
            { type: 'image_url', image_url: { url: 'https://x/y.png' } },
          ],
        },
        {
          role: 'assistant',
          content: 'Checking.',
          tool_calls: [
            {
              id: 'toolu_1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"location":"Paris"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'toolu_1', content: '18C' },
        { role: 'user', content: [{ type: 'text', text: 'Thanks' }] },
      ],
    });
  });

  it('maps a named tool choice', () => {
    const r = sut(
      request({
        tools: [{ name: 'a', input_schema: {} }],
        tool_choice: { type: 'tool', name: 'a' },
      }),
    );
    expect(r.ok && r.value.tool_choice).toEqual({ type: 'function', function: { name: 'a' } });
  });
});

describe('anthropicMessageFromOpenAI', () => {
  const completion = (over: Partial<ChatCompletion['choices'][number]> = {}): ChatCompletion => ({
    id: 'chatcmpl-abc',
    object: 'chat.completion',
    created: 1,
    model: 'gpt-4o',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: 'Hi there' },
        finish_reason: 'stop',
        ...over,
      },
    ],
    usage: {
      prompt_tokens: 100,
      completion_tokens: 5,
      total_tokens: 105,
      prompt_tokens_details: { cached_tokens: 60 },
    },
  });

  it('returns an Anthropic message with cached tokens as cache reads', () => {
    expect(anthropicMessageFromOpenAI(completion(), 'claude-x')).toEqual({
      id: 'msg_abc',
      type: 'message',
      role: 'assistant',
      model: 'claude-x',
      content: [{ type: 'text', text: 'Hi there' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: {
        input_tokens: 40,
        output_tokens: 5,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 60,
      },
    });
  });

  it('turns tool calls into tool_use blocks and finish reasons into stop reasons', () => {
    const m = anthropicMessageFromOpenAI(
      completion({
        message: {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } },
          ],
        },
        finish_reason: 'tool_calls',
      }),
      'c',
    );
    expect(m.content).toEqual([{ type: 'tool_use', id: 'call_1', name: 'f', input: { a: 1 } }]);
    expect(m.stop_reason).toBe('tool_use');
    expect(
      anthropicMessageFromOpenAI(completion({ finish_reason: 'length' }), 'c').stop_reason,
    ).toBe('max_tokens');
  });
});

describe('AnthropicStreamEncoder', () => {
  const chunk = (
    delta: Record<string, unknown>,
    finish: string | null = null,
  ): ChatCompletionChunk => ({
    id: 'chatcmpl-s1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'gpt-4o',
    choices: [{ index: 0, delta, finish_reason: finish }],
  });

  it('encodes a text stream as Anthropic events with the final usage', () => {
    const enc = new AnthropicStreamEncoder('claude-x', 7);
    let sse = '';
    for (const d of chatStreamEvents().slice(0, -1))
      sse += enc.push(JSON.parse(d) as ChatCompletionChunk);
    sse += enc.finish();
    const ev = events(sse);
    expect(ev.map((e) => e.event)).toEqual([
      'message_start',
      'ping',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(ev.every((e) => e.event === e.type)).toBe(true);
    expect(ev[0].message).toMatchObject({
      id: 'msg_Aw5V1',
      model: 'claude-x',
      usage: { input_tokens: 7 },
    });
    expect(
      ev
        .slice(3, 6)
        .map((e) => e.delta.text)
        .join(''),
    ).toBe('Hello there!');
    expect(ev[7]).toMatchObject({
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { input_tokens: 5, output_tokens: 3, cache_read_input_tokens: 4 },
    });
    expect(enc.finish()).toBe('');
  });

  it('opens a tool_use block per tool call with input_json_delta', () => {
    const enc = new AnthropicStreamEncoder('c');
    const sse =
      enc.push(chunk({ role: 'assistant', content: 'Let me see.' })) +
      enc.push(
        chunk({
          tool_calls: [
            { index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '' } },
          ],
        }),
      ) +
      enc.push(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"a":' } }] })) +
      enc.push(chunk({ tool_calls: [{ index: 0, function: { arguments: '1}' } }] })) +
      enc.push(
        chunk({
          tool_calls: [
            { index: 1, id: 'call_2', type: 'function', function: { name: 'g', arguments: '{}' } },
          ],
        }),
      ) +
      enc.push(chunk({}, 'tool_calls')) +
      enc.finish();
    const ev = events(sse);
    const starts = ev.filter((e) => e.type === 'content_block_start');
    expect(starts.map((e) => [e.index, e.content_block])).toEqual([
      [0, { type: 'text', text: '' }],
      [1, { type: 'tool_use', id: 'call_1', name: 'f', input: {} }],
      [2, { type: 'tool_use', id: 'call_2', name: 'g', input: {} }],
    ]);
    const json = ev.filter((e) => e.delta?.type === 'input_json_delta');
    expect(json.map((e) => [e.index, e.delta.partial_json])).toEqual([
      [1, '{"a":'],
      [1, '1}'],
      [2, '{}'],
    ]);
    expect(ev.filter((e) => e.type === 'content_block_stop').map((e) => e.index)).toEqual([
      0, 1, 2,
    ]);
    expect(ev.find((e) => e.type === 'message_delta').delta.stop_reason).toBe('tool_use');
  });

  it('ends with an error event when the upstream fails mid-stream', () => {
    const enc = new AnthropicStreamEncoder('c');
    enc.push(chunk({ content: 'x' }));
    const ev = events(
      enc.error({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }),
    );
    expect(ev).toEqual([
      { event: 'error', type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
    ]);
    expect(enc.finish()).toBe('');
  });
});

describe('anthropicErrorFromOpenAI', () => {
  it.each([
    [400, 'invalid_request_error'],
    [401, 'authentication_error'],
    [403, 'permission_error'],
    [404, 'not_found_error'],
    [413, 'request_too_large'],
    [429, 'rate_limit_error'],
    [500, 'api_error'],
    [502, 'api_error'],
    [503, 'overloaded_error'],
    [504, 'timeout_error'],
  ])('maps %i to %s, keeping status and message', (status, type) => {
    expect(
      anthropicErrorFromOpenAI(status, {
        error: { message: 'why', type: 'x', param: null, code: null },
      }),
    ).toEqual({ status, body: { type: 'error', error: { type, message: 'why' } } });
  });

  it('reports insufficient_quota as a billing_error', () => {
    const r = anthropicErrorFromOpenAI(429, {
      error: {
        message: 'quota',
        type: 'insufficient_quota',
        param: null,
        code: 'insufficient_quota',
      },
    });
    expect(r.body.error.type).toBe('billing_error');
  });
});
