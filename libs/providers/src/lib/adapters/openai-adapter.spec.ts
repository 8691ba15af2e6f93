import {
  CHAT_COMPLETION_JSON,
  chatStreamText,
  EMBEDDINGS_JSON,
} from '../openai/fixtures.spec-helper';
import type { ChatCompletionRequest } from '../openai/types';
import { azureAdapter, azureUrl } from '../azure/azure-adapter';
import { openAIAdapter as sut } from './openai-adapter';
import type { UpstreamTarget } from './provider-adapter';
import { getAdapter, isProviderType } from './registry';
import { assemble, SPLITS, translateBytes } from './stream-kit.spec-helper';

const target = (over: Partial<UpstreamTarget> = {}): UpstreamTarget => ({
  baseUrl: 'https://api.deepseek.com/v1/',
  apiKey: 'sk-test',
  upstreamModel: 'deepseek-chat',
  ...over,
});

const chat = (over: Partial<ChatCompletionRequest> = {}): ChatCompletionRequest => ({
  model: 'public-name',
  messages: [{ role: 'user', content: 'Hi' }],
  ...over,
});

const TOOL_STREAM = [
  '{"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]}',
  '{"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\\"loc"}}]},"finish_reason":null}]}',
  '{"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"ation\\":\\"Paris\\"}"}}]},"finish_reason":null}]}',
  '{"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"get_time","arguments":"{}"}}]},"finish_reason":null}]}',
  '{"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}',
  '[DONE]',
]
  .map((d) => `data: ${d}\n\n`)
  .join('');

describe('openAIAdapter', () => {
  describe('buildChatRequest', () => {
    it('posts to {base}/chat/completions with a bearer key and the upstream model', () => {
      const r = sut.buildChatRequest(chat({ temperature: 0.3, mock: { words: 2 } }), target());
      expect(r.url).toBe('https://api.deepseek.com/v1/chat/completions');
      expect(r.headers).toEqual({
        'content-type': 'application/json',
        authorization: 'Bearer sk-test',
      });
      expect(JSON.parse(r.body)).toEqual({
        model: 'deepseek-chat',
        messages: [{ role: 'user', content: 'Hi' }],
        temperature: 0.3,
        mock: { words: 2 },
      });
    });

    it('always asks a stream for usage, keeping the other stream options', () => {
      const r = sut.buildChatRequest(
        chat({ stream: true, stream_options: { include_obfuscation: false } }),
        target(),
      );
      expect(JSON.parse(r.body).stream_options).toEqual({
        include_obfuscation: false,
        include_usage: true,
      });
    });

    it('drops stream_options from a request that does not stream', () => {
      const r = sut.buildChatRequest(chat({ stream_options: { include_usage: true } }), target());
      expect(JSON.parse(r.body)).not.toHaveProperty('stream_options');
    });

    it('sends no Authorization to a keyless local server, and lets extra headers override', () => {
      const r = sut.buildChatRequest(
        chat(),
        target({
          baseUrl: 'http://127.0.0.1:11434/v1',
          apiKey: '',
          extraHeaders: { 'X-Org': 'o1', 'Content-Type': 'application/json; charset=utf-8' },
        }),
      );
      expect(r.headers).toEqual({
        'content-type': 'application/json; charset=utf-8',
        'x-org': 'o1',
      });
    });
  });

  describe('parseChatResponse', () => {
    it('shows the requested model and reads usage', () => {
      const r = sut.parseChatResponse(200, 'application/json', CHAT_COMPLETION_JSON, 'public-name');
      if (!('ok' in r)) throw new Error('expected ok');
      expect(r.ok.model).toBe('public-name');
      expect(r.usage).toEqual({ inputTokens: 19, outputTokens: 10, cachedInputTokens: 0 });
    });

    it('treats a 200 without choices but with an error as that error', () => {
      const r = sut.parseChatResponse(
        200,
        'application/json',
        '{"error":{"message":"busy","code":503}}',
        'm',
      );
      expect('error' in r && r.error).toMatchObject({
        status: 503,
        retryable: true,
        upstreamStatus: 200,
      });
    });

    it('treats a cut-off body as a retryable malformed answer', () => {
      const r = sut.parseChatResponse(
        200,
        'application/json',
        CHAT_COMPLETION_JSON.slice(0, 50),
        'm',
      );
      expect('error' in r && r.error).toMatchObject({
        status: 502,
        retryable: true,
        body: { error: { code: 'upstream_malformed_response' } },
      });
    });
  });

  describe('parseErrorResponse', () => {
    it.each([
      [401, false, true],
      [403, false, true],
      [400, false, false],
      [404, false, false],
      [429, true, false],
      [500, true, false],
      [502, true, false],
      [503, true, false],
    ])('maps %i: retryable %s, credentials rejected %s', (status, retryable, creds) => {
      const e = sut.parseErrorResponse(
        status,
        'application/json',
        '{"error":{"message":"m","type":"t","param":"p","code":"c"}}',
      );
      expect(e).toEqual({
        status,
        retryable,
        credentialsRejected: creds,
        upstreamStatus: status,
        body: { error: { message: 'm', type: 't', param: 'p', code: 'c' } },
      });
    });

    it('reads the plain {message} and {error: "..."} bodies of compatible servers', () => {
      expect(
        sut.parseErrorResponse(400, undefined, '{"message":"bad model"}').body.error.message,
      ).toBe('bad model');
      expect(sut.parseErrorResponse(400, undefined, '{"error":"bad"}').body.error.message).toBe(
        'bad',
      );
    });
  });

  describe('stream translator', () => {
    it.each(SPLITS)(
      'passes a stream split every %i bytes through with usage when asked',
      (step) => {
        const t = sut.createChatStreamTranslator('public-name', { includeUsage: true });
        const chunks = translateBytes(t, chatStreamText(), step);
        const a = assemble(chunks);
        expect(a).toMatchObject({ content: 'Hello there!', finish: 'stop' });
        expect([...a.models]).toEqual(['public-name']);
        expect(a.usage).toMatchObject({
          prompt_tokens: 9,
          prompt_tokens_details: { cached_tokens: 4 },
        });
        expect(t.usage).toEqual({ inputTokens: 9, outputTokens: 3, cachedInputTokens: 4 });
        expect(t.complete).toBe(true);
      },
    );

    it('records usage but hides it from a client that did not ask', () => {
      const t = sut.createChatStreamTranslator('m', { includeUsage: false });
      const chunks = translateBytes(t, chatStreamText(), 13);
      expect(chunks.some((c) => 'usage' in c)).toBe(false);
      expect(t.usage?.inputTokens).toBe(9);
    });

    it('assembles streamed tool calls', () => {
      const t = sut.createChatStreamTranslator('m', { includeUsage: false });
      const a = assemble(translateBytes(t, TOOL_STREAM, 5));
      expect(a.toolCalls).toEqual([
        { id: 'call_a', name: 'get_weather', arguments: '{"location":"Paris"}' },
        { id: 'call_b', name: 'get_time', arguments: '{}' },
      ]);
      expect(a.finish).toBe('tool_calls');
      expect(t.textChars).toBe('{"location":"Paris"}'.length + 2);
    });

    it('records an error object sent inside the stream', () => {
      const t = sut.createChatStreamTranslator('m', { includeUsage: false });
      expect(
        t.push({ data: '{"error":{"message":"overloaded","type":"server_error","code":null}}' }),
      ).toEqual([]);
      expect(t.error).toMatchObject({ status: 502, retryable: true, upstreamStatus: 200 });
    });

    it('is incomplete without [DONE] or usage', () => {
      const t = sut.createChatStreamTranslator('m', { includeUsage: false });
      translateBytes(t, chatStreamText(false).replace('data: [DONE]\n\n', ''), 64);
      expect(t.complete).toBe(false);
    });
  });

  describe('embeddings', () => {
    it('posts to {base}/embeddings and shows the requested model', () => {
      const req = { model: 'emb', input: 'hello' };
      const r = sut.buildEmbeddingsRequest!(
        req,
        target({ upstreamModel: 'text-embedding-3-small' }),
      );
      expect(r.url).toBe('https://api.deepseek.com/v1/embeddings');
      expect(JSON.parse(r.body).model).toBe('text-embedding-3-small');
      const parsed = sut.parseEmbeddingsResponse!(200, 'application/json', EMBEDDINGS_JSON, req);
      expect('ok' in parsed && parsed.ok.model).toBe('emb');
      expect('ok' in parsed && parsed.usage).toEqual({
        inputTokens: 5,
        outputTokens: 0,
        cachedInputTokens: 0,
      });
    });
  });
});

describe('azureAdapter', () => {
  const az = (over: Partial<UpstreamTarget> = {}) =>
    target({
      baseUrl: 'https://my-res.openai.azure.com/',
      upstreamModel: 'gpt4o deploy',
      apiKey: 'az-key',
      ...over,
    });

  it('addresses the deployment with the api-version query and the api-key header, model-less body', () => {
    const r = azureAdapter.buildChatRequest(chat({ stream: true }), az());
    expect(r.url).toBe(
      'https://my-res.openai.azure.com/openai/deployments/gpt4o%20deploy/chat/completions?api-version=2024-10-21',
    );
    expect(r.headers).toEqual({ 'content-type': 'application/json', 'api-key': 'az-key' });
    const b = JSON.parse(r.body);
    expect(b).not.toHaveProperty('model');
    expect(b.stream_options).toEqual({ include_usage: true });
  });

  it('uses the v1 API with the deployment as model when asked', () => {
    const t = az({
      baseUrl: 'https://my-res.openai.azure.com/openai/v1',
      apiVersion: 'v1',
      upstreamModel: 'dep',
    });
    const r = azureAdapter.buildChatRequest(chat(), t);
    expect(r.url).toBe('https://my-res.openai.azure.com/openai/v1/chat/completions');
    expect(JSON.parse(r.body).model).toBe('dep');
    expect(
      azureUrl(az({ apiVersion: '2025-01-01-preview', upstreamModel: 'e' }), 'embeddings'),
    ).toBe(
      'https://my-res.openai.azure.com/openai/deployments/e/embeddings?api-version=2025-01-01-preview',
    );
  });

  it('drops the leading prompt-filter chunk of an Azure stream', () => {
    const filter =
      'data: {"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}}}]}\n\n';
    const t = azureAdapter.createChatStreamTranslator('m', { includeUsage: true });
    const chunks = translateBytes(t, filter + chatStreamText(), 17);
    expect(chunks[0].choices).toHaveLength(1);
    expect(assemble(chunks).content).toBe('Hello there!');
  });

  it('maps a 401 to rejected credentials', () => {
    const e = azureAdapter.parseErrorResponse(
      401,
      'application/json',
      '{"error":{"code":"401","message":"Access denied due to invalid subscription key or wrong API endpoint."}}',
    );
    expect(e).toMatchObject({
      status: 401,
      credentialsRejected: true,
      body: { error: { code: '401' } },
    });
  });
});

describe('getAdapter', () => {
  it.each(['openai', 'azure', 'anthropic', 'gemini'] as const)('returns the %s adapter', (type) => {
    expect(getAdapter(type).type).toBe(type);
    expect(isProviderType(type)).toBe(true);
  });

  it('knows no other type', () => {
    expect(isProviderType('cohere')).toBe(false);
    expect(isProviderType('toString')).toBe(false);
  });
});
