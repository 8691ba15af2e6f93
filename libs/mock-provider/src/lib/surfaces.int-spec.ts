import Anthropic from '@anthropic-ai/sdk';
import { AzureOpenAI } from 'openai';
import { request } from 'undici';
import { startMockProvider, type RunningMockProvider } from './mock-provider';
import { mockAnthropicPromptTokens, mockGeminiPromptTokens } from './wire';

const TOOL = {
  name: 'get_weather',
  description: 'Weather of a city',
  input_schema: {
    type: 'object' as const,
    properties: { city: { type: 'string' }, days: { type: 'integer' } },
    required: ['city'],
  },
};

async function post(
  mock: RunningMockProvider,
  path: string,
  body: unknown,
  headers: Record<string, string>,
) {
  const res = await request(`${mock.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

const GEMINI_HEADERS = { 'x-goog-api-key': 'sk-mock' };
const GEMINI_BODY = {
  systemInstruction: { parts: [{ text: 'You are terse.' }] },
  contents: [{ role: 'user', parts: [{ text: 'Say something nice' }] }],
};

describe('mock provider surfaces', () => {
  let sut: RunningMockProvider;
  let anthropic: Anthropic;

  beforeAll(async () => {
    sut = await startMockProvider({ apiKey: 'sk-mock' });
    anthropic = new Anthropic({
      baseURL: sut.url,
      apiKey: 'sk-mock',
      maxRetries: 0,
      timeout: 5000,
    });
  });
  afterAll(() => sut.stop());
  beforeEach(() => {
    sut.resetStats();
    sut.configure({ reset: true });
  });

  describe('Anthropic Messages', () => {
    const params = {
      model: 'claude-mock',
      max_tokens: 100,
      system: 'You are terse.',
      messages: [{ role: 'user' as const, content: 'Say something nice' }],
    };

    it('answers a message with usage, cache reads counted apart from input', async () => {
      sut.configure({ words: 5, cached_tokens: 2 });
      const msg = await anthropic.messages.create(params);
      const prompt = mockAnthropicPromptTokens(params);
      expect(msg.type).toBe('message');
      expect(msg.stop_reason).toBe('end_turn');
      expect(msg.content[0]).toMatchObject({ type: 'text' });
      expect((msg.content[0] as { text: string }).text.split(' ')).toHaveLength(5);
      expect(msg.usage).toMatchObject({
        input_tokens: prompt - 2,
        cache_read_input_tokens: 2,
        output_tokens: 5,
      });
      expect(sut.stats().byModel['claude-mock'].lastHeaders['anthropic-version']).toBeDefined();
    });

    it('streams the real event sequence, which the SDK assembles', async () => {
      sut.configure({ chunks: 4 });
      const stream = anthropic.messages.stream(params);
      const types: string[] = [];
      stream.on('streamEvent', (e) => types.push(e.type));
      const msg = await stream.finalMessage();
      expect(types[0]).toBe('message_start');
      expect(types.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
      expect((msg.content[0] as { text: string }).text.split(' ')).toHaveLength(4);
      expect(msg.usage.output_tokens).toBe(4);
      expect(msg.usage.input_tokens).toBe(mockAnthropicPromptTokens(params));
    });

    it('calls a tool for the user turn, then answers the tool result with text', async () => {
      const first = await anthropic.messages.create({ ...params, tools: [TOOL] });
      expect(first.stop_reason).toBe('tool_use');
      const use = first.content[0];
      expect(use).toMatchObject({
        type: 'tool_use',
        name: 'get_weather',
        input: { city: 'mock', days: 1 },
      });
      const streamed = await anthropic.messages.stream({ ...params, tools: [TOOL] }).finalMessage();
      expect(streamed.content[0]).toMatchObject({
        type: 'tool_use',
        input: { city: 'mock', days: 1 },
      });
      const second = await anthropic.messages.create({
        ...params,
        tools: [TOOL],
        messages: [
          ...params.messages,
          { role: 'assistant', content: first.content },
          {
            role: 'user',
            content: [
              { type: 'tool_result', tool_use_id: (use as { id: string }).id, content: 'sunny' },
            ],
          },
        ],
      });
      expect(second.stop_reason).toBe('end_turn');
    });

    it('answers text when tool_calls is off', async () => {
      sut.configure({ tool_calls: false });
      const msg = await anthropic.messages.create({ ...params, tools: [TOOL] });
      expect(msg.stop_reason).toBe('end_turn');
    });

    it('fails in Anthropic format, 429 with retry-after; refuses a wrong x-api-key', async () => {
      const res = await post(
        sut,
        '/v1/messages',
        { ...params, mock: { fail_status: 429, retry_after: 3 } },
        {
          'x-api-key': 'sk-mock',
          'anthropic-version': '2023-06-01',
        },
      );
      expect(res.status).toBe(429);
      expect(res.headers['retry-after']).toBe('3');
      expect(JSON.parse(res.text)).toEqual({
        type: 'error',
        error: { type: 'rate_limit_error', message: expect.any(String) },
      });
      const bad = new Anthropic({ baseURL: sut.url, apiKey: 'wrong', maxRetries: 0 });
      await expect(bad.messages.create(params)).rejects.toBeInstanceOf(
        Anthropic.AuthenticationError,
      );
      const overloaded = await post(sut, '/v1/messages', params, {
        'x-api-key': 'sk-mock',
        'anthropic-version': '2023-06-01',
        'x-mock-fail-status': '529',
      });
      expect(JSON.parse(overloaded.text).error.type).toBe('overloaded_error');
    });
  });

  describe('Gemini', () => {
    it('answers generateContent with usageMetadata', async () => {
      const res = await post(
        sut,
        '/v1beta/models/gemini-mock:generateContent',
        { ...GEMINI_BODY, mock: { words: 3 } },
        GEMINI_HEADERS,
      );
      expect(res.status).toBe(200);
      const body = JSON.parse(res.text);
      expect(body.candidates[0].content.parts[0].text.split(' ')).toHaveLength(3);
      expect(body.candidates[0].finishReason).toBe('STOP');
      expect(body.usageMetadata).toMatchObject({
        promptTokenCount: mockGeminiPromptTokens(GEMINI_BODY),
        candidatesTokenCount: 3,
      });
    });

    it('streams with alt=sse, the last event finishing with the whole usage', async () => {
      const res = await post(
        sut,
        '/v1beta/models/gemini-mock:streamGenerateContent?alt=sse',
        { ...GEMINI_BODY, mock: { chunks: 3 } },
        GEMINI_HEADERS,
      );
      expect(res.headers['content-type']).toContain('text/event-stream');
      const events = res.text
        .split('\r\n\r\n')
        .filter(Boolean)
        .map((e) => JSON.parse(e.slice(6)));
      expect(events).toHaveLength(3);
      const last = events[2];
      expect(last.candidates[0].finishReason).toBe('STOP');
      expect(last.usageMetadata.candidatesTokenCount).toBe(3);
      expect(
        events
          .map((e) => e.candidates[0].content.parts[0].text)
          .join('')
          .split(' '),
      ).toHaveLength(3);
    });

    it('answers a functionCall part when given function declarations', async () => {
      const res = await post(
        sut,
        '/v1beta/models/gemini-mock:generateContent',
        {
          ...GEMINI_BODY,
          tools: [
            { functionDeclarations: [{ name: 'get_weather', parameters: TOOL.input_schema }] },
          ],
        },
        GEMINI_HEADERS,
      );
      const body = JSON.parse(res.text);
      expect(body.candidates[0].content.parts[0].functionCall).toEqual({
        name: 'get_weather',
        args: { city: 'mock', days: 1 },
      });
    });

    it('answers errors in Google format: a wrong key is 400 API_KEY_INVALID', async () => {
      const res = await post(sut, '/v1beta/models/gemini-mock:generateContent', GEMINI_BODY, {
        'x-goog-api-key': 'nope',
      });
      expect(res.status).toBe(400);
      expect(JSON.parse(res.text).error.details[0].reason).toBe('API_KEY_INVALID');
      const busy = await post(sut, '/v1beta/models/gemini-mock:generateContent', GEMINI_BODY, {
        ...GEMINI_HEADERS,
        'x-mock-fail-status': '429',
      });
      expect(busy.status).toBe(429);
      expect(JSON.parse(busy.text).error).toMatchObject({
        code: 429,
        status: 'RESOURCE_EXHAUSTED',
      });
    });
  });

  describe('Azure OpenAI', () => {
    it('serves a deployment with api-version and api-key, and refuses a wrong key', async () => {
      const client = new AzureOpenAI({
        endpoint: sut.url,
        apiKey: 'sk-mock',
        apiVersion: '2024-10-21',
        deployment: 'my-deployment',
        maxRetries: 0,
      });
      const res = await client.chat.completions.create({
        model: 'ignored',
        messages: [{ role: 'user', content: 'hi there' }],
      });
      expect(res.choices[0].finish_reason).toBe('stop');
      expect(sut.stats().byModel['my-deployment'].lastPath).toBe(
        '/openai/deployments/my-deployment/chat/completions?api-version=2024-10-21',
      );
      const bad = await post(
        sut,
        '/openai/deployments/d/chat/completions?api-version=2024-10-21',
        {},
        { 'api-key': 'x' },
      );
      expect(bad.status).toBe(401);
      const noVersion = await post(
        sut,
        '/openai/deployments/d/chat/completions',
        {},
        { 'api-key': 'sk-mock' },
      );
      expect(noVersion.status).toBe(404);
    });
  });

  describe('legacy completions', () => {
    it('answers text completions, JSON and streamed', async () => {
      const headers = { authorization: 'Bearer sk-mock' };
      const json = await post(
        sut,
        '/v1/completions',
        { model: 'inst', prompt: 'Say hi', mock: { words: 4 } },
        headers,
      );
      const body = JSON.parse(json.text);
      expect(body.object).toBe('text_completion');
      expect(body.choices[0].text.split(' ')).toHaveLength(4);
      expect(body.usage).toMatchObject({ prompt_tokens: 2, completion_tokens: 4 });
      const sse = await post(
        sut,
        '/v1/completions',
        {
          model: 'inst',
          prompt: 'Say hi',
          stream: true,
          stream_options: { include_usage: true },
          mock: { chunks: 3 },
        },
        headers,
      );
      const events = sse.text
        .split('\n\n')
        .filter(Boolean)
        .map((e) => e.slice(6));
      expect(events.at(-1)).toBe('[DONE]');
      expect(JSON.parse(events.at(-2) as string).usage.completion_tokens).toBe(3);
      expect(sut.stats().completions).toBe(2);
    });
  });

  describe('the prompt_tokens setting', () => {
    const openai = { authorization: 'Bearer sk-mock' };
    const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'a a a a' }] };
    const usageOf = (text: string) => (JSON.parse(text) as { usage: Record<string, number> }).usage;

    it('reports exactly that many prompt tokens on every surface, by header, body or model', async () => {
      const byHeader = await post(sut, '/v1/chat/completions', chat, {
        ...openai,
        'x-mock-prompt-tokens': '823',
        'x-mock-words': '3',
      });
      expect(usageOf(byHeader.text)).toMatchObject({
        prompt_tokens: 823,
        completion_tokens: 3,
        total_tokens: 826,
      });

      const streamed = await post(
        sut,
        '/v1/chat/completions',
        { ...chat, stream: true, stream_options: { include_usage: true } },
        { ...openai, 'x-mock-prompt-tokens': '77', 'x-mock-chunks': '2' },
      );
      const events = streamed.text.split('\n\n').filter(Boolean);
      expect(JSON.parse((events.at(-2) as string).slice(6)).usage).toMatchObject({
        prompt_tokens: 77,
        completion_tokens: 2,
      });

      const completion = await post(
        sut,
        '/v1/completions',
        { model: 'inst', prompt: 'Say hi', mock: { prompt_tokens: 40 } },
        openai,
      );
      expect(usageOf(completion.text).prompt_tokens).toBe(40);

      const embedding = await post(
        sut,
        '/v1/embeddings',
        { model: 'text-embedding-3-small', input: ['one two', 'three'] },
        { ...openai, 'x-mock-prompt-tokens': '0' },
      );
      expect(usageOf(embedding.text)).toEqual({ prompt_tokens: 0, total_tokens: 0 });

      // per model, as POST /__config sets it
      sut.configure({ models: { 'claude-mock': { prompt_tokens: 500 } } });
      const msg = await anthropic.messages.create({
        model: 'claude-mock',
        max_tokens: 10,
        messages: [{ role: 'user', content: 'a a a a' }],
      });
      expect(msg.usage.input_tokens).toBe(500);
      const other = await anthropic.messages.create({
        model: 'claude-other',
        max_tokens: 10,
        messages: [{ role: 'user', content: 'a a a a' }],
      });
      expect(other.usage.input_tokens).toBe(5);

      const gemini = await post(sut, '/v1beta/models/gemini-mock:generateContent', GEMINI_BODY, {
        ...GEMINI_HEADERS,
        'x-mock-prompt-tokens': '64',
      });
      expect(
        (JSON.parse(gemini.text) as { usageMetadata: { promptTokenCount: number } }).usageMetadata
          .promptTokenCount,
      ).toBe(64);
    });

    it('counts the prompt as usual at -1, the default', async () => {
      const counted = await post(sut, '/v1/chat/completions', chat, {
        ...openai,
        'x-mock-prompt-tokens': '-1',
      });
      expect(usageOf(counted.text).prompt_tokens).toBe(5);
      expect(
        usageOf((await post(sut, '/v1/chat/completions', chat, openai)).text).prompt_tokens,
      ).toBe(5);
    });
  });
});
