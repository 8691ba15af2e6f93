import { UsageOutcome } from '@tollgate/contracts';
import {
  mockAnthropicPromptTokens,
  mockGeminiPromptTokens,
  mockPromptTokens,
  mockToolArguments,
  mockToolCallTokens,
} from '@tollgate/mock-provider';
import OpenAI, { type APIError } from 'openai';
import { ProxyHarness, type TestKey, UPSTREAM_KEY } from '../testing/proxy-harness';

const MESSAGES: OpenAI.Chat.ChatCompletionMessageParam[] = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Tell me three short things about gateways' },
];
const WEATHER: OpenAI.Chat.ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The weather of a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, days: { type: 'integer' } },
      required: ['city'],
    },
  },
};
const WEATHER_ARGS = mockToolArguments(
  (WEATHER as { function: { parameters: unknown } }).function.parameters,
);

/** The prompt tokens the mock counts for MESSAGES in each wire format. */
const ANTHROPIC_PROMPT = mockAnthropicPromptTokens({
  system: [{ type: 'text', text: 'You are terse.' }],
  messages: [{ content: [{ type: 'text', text: 'Tell me three short things about gateways' }] }],
});
const GEMINI_PROMPT = mockGeminiPromptTokens({
  systemInstruction: { parts: [{ text: 'You are terse.' }] },
  contents: [{ parts: [{ text: 'Tell me three short things about gateways' }] }],
});

describe('provider wire formats (OpenAI clients through Azure, Anthropic and Gemini channels)', () => {
  let h: ProxyHarness;
  let key: TestKey;
  let client: OpenAI;

  beforeAll(async () => {
    h = await ProxyHarness.create('formats');
    await h.addChannel({
      name: 'azure',
      type: 'azure',
      baseUrl: h.mock.url,
      apiVersion: '2024-10-21',
      models: ['azure-chat', 'azure-embed'],
      modelMapping: { 'azure-chat': 'chat-deployment', 'azure-embed': 'embed-deployment' },
    });
    await h.addChannel({
      name: 'anthropic',
      type: 'anthropic',
      baseUrl: h.mock.url,
      models: ['claude-mock', 'claude-embed'],
    });
    await h.addChannel({
      name: 'anthropic, wrong key',
      type: 'anthropic',
      baseUrl: h.mock.url,
      models: ['claude-badkey'],
      apiKey: 'sk-wrong',
    });
    await h.addChannel({
      name: 'anthropic, preferred for mixed-model',
      type: 'anthropic',
      baseUrl: h.mock.url,
      models: ['mixed-model'],
      modelMapping: { 'mixed-model': 'claude-failing' },
      priority: 10,
    });
    await h.addChannel({
      name: 'openai, fallback for mixed-model',
      models: ['mixed-model'],
      modelMapping: { 'mixed-model': 'gpt-4o-mini' },
    });
    await h.addChannel({
      name: 'gemini',
      type: 'gemini',
      baseUrl: h.mock.url,
      models: ['gemini-mock'],
    });
    await h.start();
    key = await h.addKey();
    client = h.client(key.secret);
  });
  afterAll(() => h.close());

  describe('Azure OpenAI', () => {
    it('calls the deployment URL with api-version and the api-key header', async () => {
      const { data, response } = await client.chat.completions
        .create({ model: 'azure-chat', messages: MESSAGES }, { headers: { 'x-mock-words': '6' } })
        .withResponse();
      expect(data.model).toBe('azure-chat');
      expect(data.choices[0].message.content?.split(' ')).toHaveLength(6);
      const seen = h.mock.stats().byModel['chat-deployment'];
      expect(seen.lastPath).toBe(
        '/openai/deployments/chat-deployment/chat/completions?api-version=2024-10-21',
      );
      expect(seen.lastHeaders['api-key']).toBe(UPSTREAM_KEY);
      expect(seen.lastHeaders.authorization).toBeUndefined();
      expect(await h.usage(response.headers.get('x-request-id'))).toMatchObject({
        provider: 'azure',
        model: 'azure-chat',
        upstreamModel: 'chat-deployment',
        outcome: UsageOutcome.Ok,
        inputTokens: mockPromptTokens(MESSAGES),
        outputTokens: 6,
      });
    });

    it('streams without the prompt-filter chunk and with usage when asked', async () => {
      const stream = await client.chat.completions.create(
        {
          model: 'azure-chat',
          messages: MESSAGES,
          stream: true,
          stream_options: { include_usage: true },
        },
        { headers: { 'x-mock-chunks': '3' } },
      );
      const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
      for await (const c of stream) chunks.push(c);
      expect(chunks[0].choices).toHaveLength(1);
      expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe(
        'tollgate mock provider',
      );
      expect(chunks[chunks.length - 1].usage?.completion_tokens).toBe(3);
    });

    it('serves embeddings from an embeddings deployment', async () => {
      const res = await client.embeddings.create({ model: 'azure-embed', input: 'hello world' });
      expect(res.data[0].embedding.length).toBeGreaterThan(0);
      expect(res.model).toBe('azure-embed');
      expect(h.mock.stats().byModel['embed-deployment'].lastPath).toContain(
        '/openai/deployments/embed-deployment/embeddings?api-version=',
      );
    });
  });

  describe('Anthropic Messages', () => {
    it('translates the request and the JSON answer, with usage in the usage event', async () => {
      const { data, response } = await client.chat.completions
        .create(
          { model: 'claude-mock', messages: MESSAGES, max_tokens: 50 },
          { headers: { 'x-mock-words': '5', 'x-mock-cached-tokens': '2' } },
        )
        .withResponse();
      expect(data.object).toBe('chat.completion');
      expect(data.model).toBe('claude-mock');
      expect(data.choices[0].message.content?.split(' ')).toHaveLength(5);
      expect(data.choices[0].finish_reason).toBe('stop');
      expect(data.usage).toMatchObject({
        prompt_tokens: ANTHROPIC_PROMPT,
        completion_tokens: 5,
        prompt_tokens_details: { cached_tokens: 2 },
      });
      const seen = h.mock.stats().byModel['claude-mock'];
      expect(seen.lastPath).toBe('/v1/messages');
      expect(seen.lastHeaders['x-api-key']).toBe(UPSTREAM_KEY);
      expect(seen.lastHeaders['anthropic-version']).toBe('2023-06-01');
      expect(seen.lastBody).toMatchObject({ max_tokens: 50, system: expect.anything() });
      expect(await h.usage(response.headers.get('x-request-id'))).toMatchObject({
        provider: 'anthropic',
        endpoint: 'chat.completions',
        outcome: UsageOutcome.Ok,
        inputTokens: ANTHROPIC_PROMPT,
        outputTokens: 5,
        cachedInputTokens: 2,
        tokensEstimated: false,
      });
    });

    it('translates the event stream chunk by chunk, usage included', async () => {
      const { data: stream, response } = await client.chat.completions
        .create(
          {
            model: 'claude-mock',
            messages: MESSAGES,
            stream: true,
            stream_options: { include_usage: true },
          },
          { headers: { 'x-mock-chunks': '4' } },
        )
        .withResponse();
      const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
      for await (const c of stream) chunks.push(c);
      expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe(
        'tollgate mock provider answers',
      );
      expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason).toBe(
        'stop',
      );
      expect(chunks[chunks.length - 1].usage).toMatchObject({
        prompt_tokens: ANTHROPIC_PROMPT,
        completion_tokens: 4,
      });
      expect(await h.usage(response.headers.get('x-request-id'))).toMatchObject({
        stream: true,
        outcome: UsageOutcome.Ok,
        inputTokens: ANTHROPIC_PROMPT,
        outputTokens: 4,
      });
    });

    it('round-trips a tool call, JSON and streamed', async () => {
      const first = await client.chat.completions.create({
        model: 'claude-mock',
        messages: MESSAGES,
        tools: [WEATHER],
      });
      const call = first.choices[0].message
        .tool_calls?.[0] as OpenAI.Chat.ChatCompletionMessageFunctionToolCall;
      expect(first.choices[0].finish_reason).toBe('tool_calls');
      expect(call.function.name).toBe('get_weather');
      expect(JSON.parse(call.function.arguments)).toEqual(WEATHER_ARGS);

      const stream = client.chat.completions.stream({
        model: 'claude-mock',
        messages: MESSAGES,
        tools: [WEATHER],
      });
      const streamed = await stream.finalChatCompletion();
      const streamedCall = streamed.choices[0].message
        .tool_calls?.[0] as OpenAI.Chat.ChatCompletionMessageFunctionToolCall;
      expect(JSON.parse(streamedCall.function.arguments)).toEqual(WEATHER_ARGS);
      expect(streamed.choices[0].finish_reason).toBe('tool_calls');

      const second = await client.chat.completions.create({
        model: 'claude-mock',
        tools: [WEATHER],
        messages: [
          ...MESSAGES,
          first.choices[0].message,
          { role: 'tool', tool_call_id: call.id, content: 'sunny' },
        ],
      });
      expect(second.choices[0].finish_reason).toBe('stop');
      const sent = h.mock.stats().byModel['claude-mock'].lastBody as {
        messages: { role: string; content: { type: string }[] }[];
      };
      expect(sent.messages[sent.messages.length - 1].content[0].type).toBe('tool_result');
    });

    it('passes a provider 429 on with Retry-After (after no other channel is left)', async () => {
      const err = await client.chat.completions
        .create(
          { model: 'claude-mock', messages: MESSAGES },
          { headers: { 'x-mock-fail-status': '429', 'x-mock-retry-after': '0' } },
        )
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.RateLimitError);
      expect((err as APIError).headers?.get('retry-after')).toBe('0');
    });

    it('answers 502 for a channel whose credentials the provider refuses', async () => {
      const { response } = await client.chat.completions
        .create({ model: 'claude-badkey', messages: MESSAGES })
        .withResponse()
        .catch((e: APIError) => ({ response: e }));
      expect((response as APIError).status).toBe(502);
      expect((response as APIError).code).toBe('upstream_auth_failed');
    });

    it('refuses a request the channel format cannot express, metered as rejected', async () => {
      const before = h.mock.stats().byModel['claude-mock']?.requests ?? 0;
      const err = (await client.chat.completions
        .create({ model: 'claude-mock', messages: MESSAGES, n: 2 })
        .catch((e: unknown) => e)) as APIError;
      expect(err.status).toBe(400);
      expect(err.param).toBe('n');
      expect(h.mock.stats().byModel['claude-mock']?.requests ?? 0).toBe(before);
      expect(await h.usage(err.headers?.get('x-request-id') ?? null)).toMatchObject({
        outcome: UsageOutcome.Rejected,
        httpStatus: 400,
      });
    });

    it('refuses embeddings for a model an Anthropic channel serves, saying why', async () => {
      const err = (await client.embeddings
        .create({ model: 'claude-embed', input: 'hi' })
        .catch((e: unknown) => e)) as APIError;
      expect(err.status).toBe(400);
      expect(err.message).toContain('no embeddings API');
    });
  });

  describe('fallback across channel types', () => {
    it('moves from a failing Anthropic channel to an OpenAI one before the first byte', async () => {
      h.mock.configure({ models: { 'claude-failing': { fail_status: 503 } } });
      const { data, response } = await client.chat.completions
        .create({ model: 'mixed-model', messages: MESSAGES })
        .withResponse();
      expect(data.model).toBe('mixed-model');
      expect(h.mock.stats().byModel['claude-failing'].faults).toBeGreaterThanOrEqual(1);
      expect(await h.usage(response.headers.get('x-request-id'))).toMatchObject({
        provider: 'openai',
        outcome: UsageOutcome.Ok,
        attempts: 2,
      });
    });
  });

  describe('endpoints only some channel types have', () => {
    it('routes embeddings past a higher-priority Anthropic channel to one that has the API', async () => {
      const { data, response } = await client.embeddings
        .create({ model: 'mixed-model', input: 'hello' })
        .withResponse();
      expect(data.data).toHaveLength(1);
      expect(await h.usage(response.headers.get('x-request-id'))).toMatchObject({
        provider: 'openai',
        outcome: UsageOutcome.Ok,
        attempts: 1,
      });
    });

    it('routes text completions the same way', async () => {
      const { response } = await client.completions
        .create({ model: 'mixed-model', prompt: 'Say hi' })
        .withResponse();
      expect(await h.usage(response.headers.get('x-request-id'))).toMatchObject({
        provider: 'openai',
        outcome: UsageOutcome.Ok,
        attempts: 1,
      });
    });

    it('refuses text completions for a model only a Gemini channel serves, with the reason', async () => {
      const err = (await client.completions
        .create({ model: 'gemini-mock', prompt: 'Say hi' })
        .catch((e: unknown) => e)) as APIError;
      expect(err.status).toBe(400);
      expect(err.code).toBe('unsupported_endpoint');
      expect(err.message).toContain('no text completions API');
    });
  });

  describe('Gemini', () => {
    it('translates generateContent, usage included', async () => {
      const { data, response } = await client.chat.completions
        .create({ model: 'gemini-mock', messages: MESSAGES }, { headers: { 'x-mock-words': '4' } })
        .withResponse();
      expect(data.choices[0].message.content?.split(' ')).toHaveLength(4);
      expect(data.model).toBe('gemini-mock');
      const seen = h.mock.stats().byModel['gemini-mock'];
      expect(seen.lastPath).toBe('/v1beta/models/gemini-mock:generateContent');
      expect(seen.lastHeaders['x-goog-api-key']).toBe(UPSTREAM_KEY);
      expect(await h.usage(response.headers.get('x-request-id'))).toMatchObject({
        provider: 'gemini',
        outcome: UsageOutcome.Ok,
        inputTokens: GEMINI_PROMPT,
        outputTokens: 4,
        tokensEstimated: false,
      });
    });

    it('translates streamGenerateContent chunk by chunk', async () => {
      const { data: stream, response } = await client.chat.completions
        .create(
          { model: 'gemini-mock', messages: MESSAGES, stream: true },
          { headers: { 'x-mock-chunks': '3' } },
        )
        .withResponse();
      const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
      for await (const c of stream) chunks.push(c);
      expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe(
        'tollgate mock provider',
      );
      for (const c of chunks) expect(c).not.toHaveProperty('usage');
      expect(h.mock.stats().byModel['gemini-mock'].lastPath).toBe(
        '/v1beta/models/gemini-mock:streamGenerateContent?alt=sse',
      );
      expect(await h.usage(response.headers.get('x-request-id'))).toMatchObject({
        stream: true,
        inputTokens: GEMINI_PROMPT,
        outputTokens: 3,
        tokensEstimated: false,
      });
    });

    it('round-trips a function call', async () => {
      const { data: first, response: firstResponse } = await client.chat.completions
        .create({ model: 'gemini-mock', messages: MESSAGES, tools: [WEATHER] })
        .withResponse();
      expect(await h.usage(firstResponse.headers.get('x-request-id'))).toMatchObject({
        outputTokens: mockToolCallTokens(JSON.stringify(WEATHER_ARGS)),
        tokensEstimated: false,
      });
      const call = first.choices[0].message
        .tool_calls?.[0] as OpenAI.Chat.ChatCompletionMessageFunctionToolCall;
      expect(first.choices[0].finish_reason).toBe('tool_calls');
      expect(JSON.parse(call.function.arguments)).toEqual(WEATHER_ARGS);
      const { data, response } = await client.chat.completions
        .create({
          model: 'gemini-mock',
          tools: [WEATHER],
          messages: [
            ...MESSAGES,
            first.choices[0].message,
            { role: 'tool', tool_call_id: call.id, content: 'sunny' },
          ],
        })
        .withResponse();
      expect(data.choices[0].finish_reason).toBe('stop');
      expect((await h.usage(response.headers.get('x-request-id'))).outcome).toBe('ok');
    });

    it('answers 502 for a malformed stream (recorded as upstream_error) and for the wrong content type', async () => {
      const malformed = await fetch(`${h.url}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${key.secret}`,
          'x-mock-malformed-sse': 'true',
        },
        body: JSON.stringify({ model: 'gemini-mock', messages: MESSAGES, stream: true }),
      });
      expect(malformed.status).toBe(502);
      expect(await malformed.json()).toMatchObject({
        error: { code: 'upstream_malformed_response' },
      });
      expect(await h.usage(malformed.headers.get('x-request-id'))).toMatchObject({
        outcome: UsageOutcome.UpstreamError,
        httpStatus: 502,
      });
      const html = await client.chat.completions
        .create(
          { model: 'gemini-mock', messages: MESSAGES },
          { headers: { 'x-mock-wrong-content-type': 'true' } },
        )
        .catch((e: APIError) => e);
      expect((html as APIError).status).toBe(502);
      expect((html as APIError).code).toBe('upstream_malformed_response');
    });

    it('maps a Google error status to the OpenAI one', async () => {
      const { response } = await client.chat.completions
        .create(
          { model: 'gemini-mock', messages: MESSAGES },
          { headers: { 'x-mock-fail-status': '400' } },
        )
        .withResponse()
        .catch((e: APIError) => ({ response: e }));
      expect((response as APIError).status).toBe(400);
      expect((response as APIError).message).toContain('Injected failure');
    });
  });
});
