import type { ChatCompletionRequest } from '../openai/types';
import { AdapterRequestError, type UpstreamTarget } from '../adapters/provider-adapter';
import { assemble, SPLITS, translateBytes } from '../adapters/stream-kit.spec-helper';
import { finishReasonFromGemini, geminiAdapter as sut } from './gemini-adapter';
import { geminiSchema } from './gemini-request';
import {
  API_KEY_INVALID_JSON,
  BLOCKED_JSON,
  errorJson,
  FUNCTION_CALL_JSON,
  GENERATE_JSON,
  MAX_TOKENS_STREAM,
  TEXT_STREAM,
  TOOL_STREAM,
} from './gemini-fixtures.spec-helper';

const target = (over: Partial<UpstreamTarget> = {}): UpstreamTarget => ({
  baseUrl: 'https://generativelanguage.googleapis.com',
  apiKey: 'AIza-test',
  upstreamModel: 'gemini-2.5-flash',
  ...over,
});

const chat = (over: Partial<ChatCompletionRequest> = {}): ChatCompletionRequest => ({
  model: 'gemini',
  messages: [{ role: 'user', content: 'Hi' }],
  ...over,
});

const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather of a place',
    parameters: {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      additionalProperties: false,
      properties: {
        location: { type: 'string' },
        unit: { type: ['string', 'null'], enum: ['c', 'f'] },
      },
      required: ['location'],
    },
  },
};

const body = (req: ChatCompletionRequest, t = target()) =>
  JSON.parse(sut.buildChatRequest(req, t).body) as Record<string, unknown>;

describe('geminiAdapter', () => {
  describe('buildChatRequest', () => {
    it('posts generateContent with x-goog-api-key, or streamGenerateContent with alt=sse', () => {
      const plain = sut.buildChatRequest(chat(), target());
      expect(plain.url).toBe(
        'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent',
      );
      expect(plain.headers).toEqual({
        'content-type': 'application/json',
        'x-goog-api-key': 'AIza-test',
      });
      const streamed = sut.buildChatRequest(
        chat({ stream: true }),
        target({ baseUrl: 'https://gw.example/v1/', upstreamModel: 'models/gemini-2.0-flash' }),
      );
      expect(streamed.url).toBe(
        'https://gw.example/v1/models/gemini-2.0-flash:streamGenerateContent?alt=sse',
      );
    });

    it('translates system, turns, images, sampling, stop and JSON mode', () => {
      const b = body(
        chat({
          messages: [
            { role: 'system', content: 'Be brief.' },
            {
              role: 'user',
              content: [
                { type: 'text', text: 'What is this?' },
                { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
                { type: 'image_url', image_url: { url: 'https://example.com/a/cat.webp?x=1' } },
              ],
            },
            { role: 'assistant', content: 'A cat.' },
            { role: 'user', content: 'Sure?' },
          ],
          temperature: 0.2,
          top_p: 0.8,
          max_tokens: 99,
          stop: 'END',
          n: 2,
          response_format: { type: 'json_object' },
        }),
      );
      expect(b).toEqual({
        systemInstruction: { parts: [{ text: 'Be brief.' }] },
        contents: [
          {
            role: 'user',
            parts: [
              { text: 'What is this?' },
              { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
              {
                fileData: { mimeType: 'image/webp', fileUri: 'https://example.com/a/cat.webp?x=1' },
              },
            ],
          },
          { role: 'model', parts: [{ text: 'A cat.' }] },
          { role: 'user', parts: [{ text: 'Sure?' }] },
        ],
        generationConfig: {
          temperature: 0.2,
          topP: 0.8,
          maxOutputTokens: 99,
          stopSequences: ['END'],
          candidateCount: 2,
          responseMimeType: 'application/json',
        },
      });
    });

    it('translates tools with a Gemini-safe schema, a forced tool, calls and named results', () => {
      const b = body(
        chat({
          tools: [weatherTool],
          tool_choice: { type: 'function', function: { name: 'get_weather' } },
          messages: [
            { role: 'user', content: 'Weather?' },
            {
              role: 'assistant',
              content: '',
              tool_calls: [
                {
                  id: 'c1',
                  type: 'function',
                  function: { name: 'get_weather', arguments: '{"location":"Paris"}' },
                },
              ],
            },
            { role: 'tool', tool_call_id: 'c1', content: '{"temp":18}' },
            { role: 'tool', tool_call_id: 'c1', content: 'plain text' },
          ],
        }),
      );
      expect(b.tools).toEqual([
        {
          functionDeclarations: [
            {
              name: 'get_weather',
              description: 'Weather of a place',
              parameters: {
                type: 'object',
                properties: {
                  location: { type: 'string' },
                  unit: { type: 'string', nullable: true, enum: ['c', 'f'] },
                },
                required: ['location'],
              },
            },
          ],
        },
      ]);
      expect(b.toolConfig).toEqual({
        functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] },
      });
      expect(b.contents).toEqual([
        { role: 'user', parts: [{ text: 'Weather?' }] },
        {
          role: 'model',
          parts: [{ functionCall: { name: 'get_weather', args: { location: 'Paris' } } }],
        },
        {
          role: 'user',
          parts: [
            { functionResponse: { name: 'get_weather', response: { temp: 18 } } },
            { functionResponse: { name: 'get_weather', response: { result: 'plain text' } } },
          ],
        },
      ]);
    });

    it.each([
      ['auto', 'AUTO'],
      ['none', 'NONE'],
      ['required', 'ANY'],
    ])('maps tool_choice %s to mode %s', (choice, mode) => {
      expect(body(chat({ tools: [weatherTool], tool_choice: choice })).toolConfig).toEqual({
        functionCallingConfig: { mode },
      });
    });

    it('sends a json_schema response format as responseSchema', () => {
      const gc = body(
        chat({
          response_format: {
            type: 'json_schema',
            json_schema: {
              name: 'x',
              strict: true,
              schema: {
                type: 'object',
                additionalProperties: false,
                properties: { a: { type: 'integer' } },
              },
            },
          },
        }),
      ).generationConfig;
      expect(gc).toEqual({
        responseMimeType: 'application/json',
        responseSchema: { type: 'object', properties: { a: { type: 'integer' } } },
      });
    });

    it('refuses a tool result that answers no known call', () => {
      expect(() =>
        sut.buildChatRequest(
          chat({
            messages: [
              { role: 'user', content: 'x' },
              { role: 'tool', tool_call_id: 'nope', content: '1' },
            ],
          }),
          target(),
        ),
      ).toThrow(AdapterRequestError);
    });

    it('keeps nested schemas valid', () => {
      expect(
        geminiSchema({
          type: 'array',
          items: { type: 'object', title: 't', additionalProperties: {} },
        }),
      ).toEqual({
        type: 'array',
        items: { type: 'object', title: 't' },
      });
    });
  });

  describe('parseChatResponse', () => {
    it('reads text and usage with cached and thinking tokens', () => {
      const r = sut.parseChatResponse(
        200,
        'application/json; charset=UTF-8',
        GENERATE_JSON,
        'my-gemini',
      );
      if (!('ok' in r)) throw new Error('expected ok');
      expect(r.ok.model).toBe('my-gemini');
      expect(r.ok.id).toBe('chatcmpl-mAitaLmkHPPlz7IPvtfUqQ4');
      expect(r.ok.choices[0]).toMatchObject({
        index: 0,
        message: { role: 'assistant', content: 'Hello! How can I help you today? 😀' },
        finish_reason: 'stop',
      });
      expect(r.usage).toEqual({ inputTokens: 1030, outputTokens: 31, cachedInputTokens: 1024 });
      expect(r.ok.usage).toMatchObject({
        prompt_tokens: 1030,
        completion_tokens: 31,
        prompt_tokens_details: { cached_tokens: 1024 },
        completion_tokens_details: { reasoning_tokens: 20 },
      });
    });

    it('reads function calls as tool calls with generated ids and finish tool_calls', () => {
      const r = sut.parseChatResponse(200, 'application/json', FUNCTION_CALL_JSON, 'm');
      if (!('ok' in r)) throw new Error('expected ok');
      const msg = r.ok.choices[0].message;
      expect(r.ok.choices[0].finish_reason).toBe('tool_calls');
      expect(msg.content).toBeNull();
      expect(
        msg.tool_calls?.map((c) => [c.function.name, JSON.parse(c.function.arguments)]),
      ).toEqual([
        ['get_weather', { location: 'Paris', unit: 'celsius' }],
        ['get_time', { tz: 'CET' }],
      ]);
      expect(new Set(msg.tool_calls?.map((c) => c.id)).size).toBe(2);
      expect(msg.tool_calls?.[0].id).toMatch(/^call_/);
    });

    it('answers a blocked prompt with finish_reason content_filter', () => {
      const r = sut.parseChatResponse(200, 'application/json', BLOCKED_JSON, 'm');
      if (!('ok' in r)) throw new Error('expected ok');
      expect(r.ok.choices[0].finish_reason).toBe('content_filter');
      expect(r.usage).toEqual({ inputTokens: 9, outputTokens: 0, cachedInputTokens: 0 });
    });
  });

  describe('parseErrorResponse', () => {
    it('treats a 400 API_KEY_INVALID as rejected credentials', () => {
      expect(sut.parseErrorResponse(400, 'application/json', API_KEY_INVALID_JSON)).toMatchObject({
        status: 401,
        credentialsRejected: true,
        retryable: false,
        upstreamStatus: 400,
        body: {
          error: {
            code: 'invalid_api_key',
            message: 'API key not valid. Please pass a valid API key.',
          },
        },
      });
    });

    it.each([
      [400, 'INVALID_ARGUMENT', 400, false, false],
      [403, 'PERMISSION_DENIED', 403, false, true],
      [404, 'NOT_FOUND', 404, false, false],
      [429, 'RESOURCE_EXHAUSTED', 429, true, false],
      [500, 'INTERNAL', 500, true, false],
      [503, 'UNAVAILABLE', 503, true, false],
      [504, 'DEADLINE_EXCEEDED', 504, true, false],
    ])(
      'maps %i %s to %i (retryable %s, credentials rejected %s)',
      (status, rpc, mapped, retryable, creds) => {
        const e = sut.parseErrorResponse(status, 'application/json', errorJson(status, rpc, 'bad'));
        expect(e).toMatchObject({
          status: mapped,
          retryable,
          credentialsRejected: creds,
          body: { error: { message: 'bad' } },
        });
      },
    );
  });

  describe('stream translator', () => {
    it.each(SPLITS)('turns a CRLF event stream split every %i bytes into OpenAI chunks', (step) => {
      const t = sut.createChatStreamTranslator('my-gemini', { includeUsage: true });
      const chunks = translateBytes(t, TEXT_STREAM, step);
      const a = assemble(chunks);
      expect(a).toMatchObject({
        role: 'assistant',
        content: 'Hello, wörld! ☕ and more.',
        finish: 'stop',
      });
      expect([...a.models]).toEqual(['my-gemini']);
      expect(new Set(chunks.map((c) => c.id))).toEqual(new Set(['chatcmpl-resp1']));
      expect(a.usage).toMatchObject({
        prompt_tokens: 8,
        completion_tokens: 8,
        prompt_tokens_details: { cached_tokens: 4 },
      });
      expect(chunks[chunks.length - 1].choices).toEqual([]);
      expect(t.complete).toBe(true);
    });

    it('streams a function call as one whole tool-call delta', () => {
      const t = sut.createChatStreamTranslator('m', { includeUsage: false });
      const a = assemble(translateBytes(t, TOOL_STREAM, 11));
      expect(a.toolCalls).toHaveLength(1);
      expect(a.toolCalls[0]).toMatchObject({
        name: 'get_weather',
        arguments: '{"location":"Paris"}',
      });
      expect(a.finish).toBe('tool_calls');
      expect(a.usage).toBeUndefined();
      expect(t.usage).toEqual({ inputTokens: 70, outputTokens: 5, cachedInputTokens: 0 });
    });

    it('maps MAX_TOKENS to length', () => {
      const t = sut.createChatStreamTranslator('m', { includeUsage: false });
      expect(assemble(translateBytes(t, MAX_TOKENS_STREAM, 4)).finish).toBe('length');
    });

    it('is not complete when the stream stops without a finishReason, and sends no usage', () => {
      const t = sut.createChatStreamTranslator('m', { includeUsage: true });
      const cut = TEXT_STREAM.slice(0, TEXT_STREAM.lastIndexOf('data:'));
      const a = assemble(translateBytes(t, cut, 9));
      expect(t.complete).toBe(false);
      expect(a.usage).toBeUndefined();
      expect(t.usage?.outputTokens).toBe(6);
    });

    it('records an error sent inside the stream', () => {
      const t = sut.createChatStreamTranslator('m', { includeUsage: false });
      t.push({ data: errorJson(503, 'UNAVAILABLE', 'The model is overloaded.') });
      expect(t.error).toMatchObject({ status: 503, retryable: true, upstreamStatus: 200 });
    });
  });

  it.each([
    ['STOP', false, 'stop'],
    ['STOP', true, 'tool_calls'],
    ['MAX_TOKENS', false, 'length'],
    ['SAFETY', false, 'content_filter'],
    ['RECITATION', false, 'content_filter'],
    ['MALFORMED_FUNCTION_CALL', false, 'stop'],
    ['FINISH_REASON_UNSPECIFIED', false, null],
    [undefined, false, null],
  ])('maps finishReason %s (tool calls %s) to %s', (reason, tools, finish) => {
    expect(finishReasonFromGemini(reason, tools)).toBe(finish);
  });
});
