import type { ChatCompletionRequest } from '../openai/types';
import { AdapterRequestError, type UpstreamTarget } from '../adapters/provider-adapter';
import { assemble, SPLITS, translateBytes } from '../adapters/stream-kit.spec-helper';
import { anthropicAdapter as sut, finishReasonFromAnthropic } from './anthropic-adapter';
import { ANTHROPIC_JSON_TOOL_NAME } from './anthropic-request';
import {
  errorJson,
  JSON_TOOL_MESSAGE_JSON,
  MESSAGE_JSON,
  OVERLOADED_STREAM,
  TEXT_STREAM,
  TOOL_STREAM,
  TOOL_USE_MESSAGE_JSON,
} from './anthropic-fixtures.spec-helper';

const target = (over: Partial<UpstreamTarget> = {}): UpstreamTarget => ({
  baseUrl: 'https://api.anthropic.com',
  apiKey: 'sk-ant-test',
  upstreamModel: 'claude-sonnet-4-5',
  ...over,
});

const chat = (over: Partial<ChatCompletionRequest> = {}): ChatCompletionRequest => ({
  model: 'claude',
  messages: [{ role: 'user', content: 'Hi' }],
  ...over,
});

const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather of a place',
    parameters: { type: 'object', properties: { location: { type: 'string' } } },
  },
};

const body = (req: ChatCompletionRequest, t = target()) =>
  JSON.parse(sut.buildChatRequest(req, t).body) as Record<string, unknown>;

describe('anthropicAdapter', () => {
  describe('buildChatRequest', () => {
    it('posts to /v1/messages with x-api-key and anthropic-version, extra headers last', () => {
      const r = sut.buildChatRequest(
        chat(),
        target({
          baseUrl: 'https://api.anthropic.com/v1/',
          extraHeaders: { 'Anthropic-Beta': 'x' },
        }),
      );
      expect(r.url).toBe('https://api.anthropic.com/v1/messages');
      expect(r.headers).toEqual({
        'content-type': 'application/json',
        'x-api-key': 'sk-ant-test',
        'anthropic-version': '2023-06-01',
        'anthropic-beta': 'x',
      });
    });

    it('moves system messages out, keeps user/assistant turns and sets the default max_tokens', () => {
      const b = body(
        chat({
          messages: [
            { role: 'system', content: 'Be brief.' },
            { role: 'developer', content: 'Use metric.' },
            { role: 'user', content: 'Hi' },
            { role: 'assistant', content: 'Hello' },
            { role: 'user', content: 'Weather?' },
          ],
          temperature: 1.7,
          top_p: 0.9,
          stop: ['END'],
          stream: true,
        }),
      );
      expect(b).toEqual({
        model: 'claude-sonnet-4-5',
        max_tokens: 4096,
        system: 'Be brief.\n\nUse metric.',
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
          { role: 'assistant', content: [{ type: 'text', text: 'Hello' }] },
          { role: 'user', content: [{ type: 'text', text: 'Weather?' }] },
        ],
        stop_sequences: ['END'],
        temperature: 1,
        top_p: 0.9,
        stream: true,
      });
    });

    it('sends data-URL images as base64 and http images as url sources', () => {
      const b = body(
        chat({
          max_completion_tokens: 50,
          messages: [
            {
              role: 'user',
              content: [
                { type: 'text', text: 'Compare' },
                { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
                { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
              ],
            },
          ],
        }),
      );
      expect(b.max_tokens).toBe(50);
      expect((b.messages as { content: unknown[] }[])[0].content).toEqual([
        { type: 'text', text: 'Compare' },
        {
          type: 'image',
          source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' },
        },
        { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
      ]);
    });

    it('translates tools, a named tool_choice, tool calls and their results', () => {
      const b = body(
        chat({
          tools: [weatherTool],
          tool_choice: { type: 'function', function: { name: 'get_weather' } },
          parallel_tool_calls: false,
          messages: [
            { role: 'user', content: 'Weather in Paris and Rome?' },
            {
              role: 'assistant',
              content: null,
              tool_calls: [
                {
                  id: 'call_1',
                  type: 'function',
                  function: { name: 'get_weather', arguments: '{"location":"Paris"}' },
                },
                {
                  id: 'call.2',
                  type: 'function',
                  function: { name: 'get_weather', arguments: '{"location":"Rome"}' },
                },
              ],
            },
            { role: 'tool', tool_call_id: 'call_1', content: '18C' },
            { role: 'tool', tool_call_id: 'call.2', content: '24C' },
          ],
        }),
      );
      expect(b.tools).toEqual([
        {
          name: 'get_weather',
          description: 'Weather of a place',
          input_schema: { type: 'object', properties: { location: { type: 'string' } } },
        },
      ]);
      expect(b.tool_choice).toEqual({
        type: 'tool',
        name: 'get_weather',
        disable_parallel_tool_use: true,
      });
      expect(b.messages).toEqual([
        { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Rome?' }] },
        {
          role: 'assistant',
          content: [
            { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { location: 'Paris' } },
            { type: 'tool_use', id: 'call_2', name: 'get_weather', input: { location: 'Rome' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'call_1', content: '18C' },
            { type: 'tool_result', tool_use_id: 'call_2', content: '24C' },
          ],
        },
      ]);
    });

    it.each([
      ['auto', { type: 'auto' }],
      ['none', { type: 'none' }],
      ['required', { type: 'any' }],
    ])('maps tool_choice %s', (choice, expected) => {
      expect(body(chat({ tools: [weatherTool], tool_choice: choice })).tool_choice).toEqual(
        expected,
      );
    });

    it('asks for JSON through a forced tool when the request has no tools of its own', () => {
      const b = body(
        chat({
          response_format: {
            type: 'json_schema',
            json_schema: {
              name: 'a',
              schema: { type: 'object', properties: { answer: { type: 'number' } } },
            },
          },
        }),
      );
      expect(b.tool_choice).toEqual({ type: 'tool', name: ANTHROPIC_JSON_TOOL_NAME });
      expect((b.tools as { input_schema: unknown }[])[0].input_schema).toEqual({
        type: 'object',
        properties: { answer: { type: 'number' } },
      });
    });

    it('asks for JSON in the system prompt when the request has tools', () => {
      const b = body(chat({ tools: [weatherTool], response_format: { type: 'json_object' } }));
      expect(b.system).toMatch(/valid JSON object/);
      expect(b.tool_choice).toBeUndefined();
    });

    it('refuses what Anthropic cannot do, naming the parameter', () => {
      expect(() => sut.buildChatRequest(chat({ n: 2 }), target())).toThrow(AdapterRequestError);
      try {
        sut.buildChatRequest(
          chat({
            messages: [
              {
                role: 'user',
                content: [{ type: 'image_url', image_url: { url: 'data:image/bmp;base64,AA' } }],
              },
            ],
          }),
          target(),
        );
        throw new Error('expected a refusal');
      } catch (e) {
        expect(e).toBeInstanceOf(AdapterRequestError);
        expect((e as AdapterRequestError).param).toBe('messages[0].content[0].image_url.url');
      }
    });
  });

  describe('parseChatResponse', () => {
    it('reads text and usage, counting cache reads into prompt tokens as cached', () => {
      const r = sut.parseChatResponse(200, 'application/json', MESSAGE_JSON, 'my-claude');
      if (!('ok' in r)) throw new Error('expected ok');
      expect(r.ok.model).toBe('my-claude');
      expect(r.ok.choices[0]).toMatchObject({
        message: { role: 'assistant', content: 'Hello! How can I help you today? 😀' },
        finish_reason: 'stop',
      });
      expect(r.usage).toEqual({ inputTokens: 2060, outputTokens: 14, cachedInputTokens: 2048 });
      expect(r.ok.usage).toMatchObject({
        prompt_tokens: 2060,
        completion_tokens: 14,
        total_tokens: 2074,
        prompt_tokens_details: { cached_tokens: 2048 },
      });
    });

    it('reads tool_use blocks as tool calls with JSON arguments', () => {
      const r = sut.parseChatResponse(200, 'application/json', TOOL_USE_MESSAGE_JSON, 'm');
      if (!('ok' in r)) throw new Error('expected ok');
      expect(r.ok.choices[0].finish_reason).toBe('tool_calls');
      expect(r.ok.choices[0].message.tool_calls).toEqual([
        {
          id: 'toolu_01A09q90qw90lq917835lq9',
          type: 'function',
          function: {
            name: 'get_weather',
            arguments: '{"location":"San Francisco, CA","unit":"celsius"}',
          },
        },
      ]);
      expect(r.usage).toEqual({ inputTokens: 572, outputTokens: 89, cachedInputTokens: 0 });
    });

    it('hands the JSON-mode tool input back as the message text', () => {
      const r = sut.parseChatResponse(200, 'application/json', JSON_TOOL_MESSAGE_JSON, 'm');
      if (!('ok' in r)) throw new Error('expected ok');
      expect(r.ok.choices[0].message.content).toBe('{"answer":42}');
      expect(r.ok.choices[0].message.tool_calls).toBeUndefined();
      expect(r.ok.choices[0].finish_reason).toBe('stop');
    });

    it('treats an HTML 200 as a retryable malformed answer', () => {
      const r = sut.parseChatResponse(200, 'text/html', '<html></html>', 'm');
      expect('error' in r && r.error).toMatchObject({
        status: 502,
        retryable: true,
        upstreamStatus: 200,
      });
    });
  });

  describe('parseErrorResponse', () => {
    it.each([
      [401, 'authentication_error', 401, false, true],
      [403, 'permission_error', 403, false, true],
      [400, 'invalid_request_error', 400, false, false],
      [404, 'not_found_error', 404, false, false],
      [429, 'rate_limit_error', 429, true, false],
      [500, 'api_error', 500, true, false],
      [529, 'overloaded_error', 503, true, false],
    ])(
      'maps %i %s to %i (retryable %s, credentials rejected %s)',
      (status, type, mapped, retryable, creds) => {
        const e = sut.parseErrorResponse(status, 'application/json', errorJson(type, 'nope'));
        expect(e).toMatchObject({
          status: mapped,
          retryable,
          credentialsRejected: creds,
          upstreamStatus: status,
        });
        expect(e.body.error.message).toBe('nope');
      },
    );

    it('keeps a non-JSON error body as the message', () => {
      const e = sut.parseErrorResponse(502, 'text/html', '<html>Bad Gateway</html>');
      expect(e).toMatchObject({
        status: 502,
        retryable: true,
        body: { error: { message: '<html>Bad Gateway</html>' } },
      });
    });
  });

  describe('stream translator', () => {
    it.each(SPLITS)('turns a text stream split every %i bytes into OpenAI chunks', (step) => {
      const t = sut.createChatStreamTranslator('my-claude', { includeUsage: true });
      const a = assemble(translateBytes(t, TEXT_STREAM, step));
      expect(a).toMatchObject({ role: 'assistant', content: 'Hello, wörld! ☕', finish: 'stop' });
      expect([...a.models]).toEqual(['my-claude']);
      expect(a.usage).toMatchObject({
        prompt_tokens: 125,
        completion_tokens: 15,
        prompt_tokens_details: { cached_tokens: 100 },
      });
      expect(t.usage).toEqual({ inputTokens: 125, outputTokens: 15, cachedInputTokens: 100 });
      expect(t.complete).toBe(true);
      expect(t.textChars).toBe('Hello, wörld! ☕'.length);
    });

    it.each(SPLITS)('assembles streamed tool calls split every %i bytes', (step) => {
      const t = sut.createChatStreamTranslator('m', { includeUsage: false });
      const chunks = translateBytes(t, TOOL_STREAM, step);
      const a = assemble(chunks);
      expect(a.content).toBe('Okay, let me check.');
      expect(a.toolCalls).toEqual([
        {
          id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6',
          name: 'get_weather',
          arguments: '{"location": "San Francisco, CA"}',
        },
        { id: 'toolu_02', name: 'get_time', arguments: '{"tz":"PST"}' },
      ]);
      expect(a.finish).toBe('tool_calls');
      expect(a.usage).toBeUndefined();
      expect(chunks.some((c) => c.choices.length === 0)).toBe(false);
      expect(t.usage).toEqual({ inputTokens: 472, outputTokens: 89, cachedInputTokens: 0 });
    });

    it('records an error event as a retryable 503 and is not complete', () => {
      const t = sut.createChatStreamTranslator('m', { includeUsage: true });
      const chunks = translateBytes(t, OVERLOADED_STREAM, 5);
      expect(t.error).toMatchObject({ status: 503, retryable: true, upstreamStatus: 200 });
      expect(t.complete).toBe(false);
      expect(chunks.some((c) => c.usage)).toBe(false);
    });

    it('throws MalformedStreamError for an event that is not JSON', () => {
      const t = sut.createChatStreamTranslator('m', { includeUsage: false });
      expect(() => t.push({ event: 'message_start', data: '{"type":"mess' })).toThrow(
        /not valid JSON/,
      );
    });
  });

  it.each([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['max_tokens', 'length'],
    ['tool_use', 'tool_calls'],
    ['refusal', 'content_filter'],
    ['model_context_window_exceeded', 'length'],
    [null, null],
  ])('maps stop_reason %s to finish_reason %s', (reason, finish) => {
    expect(finishReasonFromAnthropic(reason)).toBe(finish);
  });

  it('has no embeddings', () => {
    expect(sut.buildEmbeddingsRequest).toBeUndefined();
  });
});
