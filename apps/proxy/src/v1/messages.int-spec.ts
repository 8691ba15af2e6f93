import Anthropic from '@anthropic-ai/sdk';
import { UsageOutcome } from '@tollgate/contracts';
import {
  mockAnthropicPromptTokens,
  mockPromptTokens,
  mockToolArguments,
} from '@tollgate/mock-provider';
import { request } from 'undici';
import { ProxyHarness, type TestKey } from '../testing/proxy-harness';

const SYSTEM = 'You are terse.';
const USER = 'Tell me three short things about gateways';
const PARAMS = {
  max_tokens: 100,
  system: SYSTEM,
  messages: [{ role: 'user' as const, content: USER }],
};
const TOOL: Anthropic.Tool = {
  name: 'get_weather',
  description: 'The weather of a city',
  input_schema: {
    type: 'object',
    properties: { city: { type: 'string' }, days: { type: 'integer' } },
    required: ['city'],
  },
};
const TOOL_INPUT = mockToolArguments(TOOL.input_schema);

/** What the mock counts for PARAMS once translated to OpenAI's format (system as a message). */
const OPENAI_PROMPT = mockPromptTokens([
  { role: 'system', content: [{ type: 'text', text: SYSTEM }] },
  { role: 'user', content: USER },
]);
const ANTHROPIC_PROMPT = mockAnthropicPromptTokens({
  system: [{ type: 'text', text: SYSTEM }],
  messages: [{ content: [{ type: 'text', text: USER }] }],
});

describe('POST /v1/messages (Anthropic-compatible)', () => {
  let h: ProxyHarness;
  let key: TestKey;
  let client: Anthropic;

  const post = async (body: unknown, headers: Record<string, string>) => {
    const res = await request(`${h.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.statusCode, headers: res.headers, body: (await res.body.json()) as never };
  };

  beforeAll(async () => {
    h = await ProxyHarness.create('messages');
    await h.addChannel({ models: ['gpt-4o-mini'] });
    await h.addChannel({
      name: 'anthropic',
      type: 'anthropic',
      baseUrl: h.mock.url,
      models: ['claude-mock'],
    });
    await h.addChannel({
      name: 'gemini',
      type: 'gemini',
      baseUrl: h.mock.url,
      models: ['gemini-mock'],
    });
    await h.start();
    key = await h.addKey({ models: ['gpt-4o-mini', 'claude-mock', 'gemini-mock', 'nowhere'] });
    client = new Anthropic({ baseURL: h.url, apiKey: key.secret, maxRetries: 0, timeout: 10_000 });
  });
  afterAll(() => h.close());

  describe('with the official Anthropic SDK', () => {
    it('answers a message from an OpenAI channel, metered as `messages`', async () => {
      const { data, response } = await client.messages
        .create({ model: 'gpt-4o-mini', ...PARAMS }, { headers: { 'x-mock-words': '6' } })
        .withResponse();
      expect(data.type).toBe('message');
      expect(data.role).toBe('assistant');
      expect(data.model).toBe('gpt-4o-mini');
      expect(data.stop_reason).toBe('end_turn');
      expect((data.content[0] as Anthropic.TextBlock).text.split(' ')).toHaveLength(6);
      expect(data.usage).toMatchObject({ input_tokens: OPENAI_PROMPT, output_tokens: 6 });
      const seen = h.mock.stats().byModel['gpt-4o-mini'];
      expect(seen.lastBody).toMatchObject({
        max_tokens: 100,
        messages: [{ role: 'system' }, { role: 'user', content: USER }],
      });
      // the SDK's own request id header
      expect(response.headers.get('request-id')).toBe(response.headers.get('x-request-id'));
      expect(await h.usage(response.headers.get('x-request-id'))).toMatchObject({
        endpoint: 'messages',
        provider: 'openai',
        model: 'gpt-4o-mini',
        stream: false,
        outcome: UsageOutcome.Ok,
        inputTokens: OPENAI_PROMPT,
        outputTokens: 6,
        tokensEstimated: false,
      });
    });

    it('streams from an Anthropic channel in the real event sequence', async () => {
      const stream = client.messages.stream(
        { model: 'claude-mock', ...PARAMS },
        { headers: { 'x-mock-chunks': '4', 'x-mock-cached-tokens': '2' } },
      );
      const types: string[] = [];
      stream.on('streamEvent', (e) => types.push(e.type));
      const msg = await stream.finalMessage();
      expect(types[0]).toBe('message_start');
      expect(types.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
      expect((msg.content[0] as Anthropic.TextBlock).text).toBe('tollgate mock provider answers');
      expect(msg.stop_reason).toBe('end_turn');
      expect(msg.usage).toMatchObject({
        input_tokens: ANTHROPIC_PROMPT - 2,
        cache_read_input_tokens: 2,
        output_tokens: 4,
      });
      const requestId = (await stream.withResponse()).response.headers.get('x-request-id');
      expect(await h.usage(requestId)).toMatchObject({
        endpoint: 'messages',
        provider: 'anthropic',
        stream: true,
        inputTokens: ANTHROPIC_PROMPT,
        cachedInputTokens: 2,
        outputTokens: 4,
      });
    });

    it('round-trips a tool call through a Gemini channel, streamed and not', async () => {
      const first = await client.messages.create({
        model: 'gemini-mock',
        ...PARAMS,
        tools: [TOOL],
      });
      expect(first.stop_reason).toBe('tool_use');
      const use = first.content.find((b) => b.type === 'tool_use') as Anthropic.ToolUseBlock;
      expect(use).toMatchObject({ name: 'get_weather', input: TOOL_INPUT });

      const streamed = await client.messages
        .stream({ model: 'gemini-mock', ...PARAMS, tools: [TOOL] })
        .finalMessage();
      expect(streamed.stop_reason).toBe('tool_use');
      expect(streamed.content.find((b) => b.type === 'tool_use')).toMatchObject({
        name: 'get_weather',
        input: TOOL_INPUT,
      });

      const second = await client.messages.create({
        model: 'gemini-mock',
        ...PARAMS,
        tools: [TOOL],
        messages: [
          ...PARAMS.messages,
          { role: 'assistant', content: first.content },
          {
            role: 'user',
            content: [{ type: 'tool_result', tool_use_id: use.id, content: 'sunny' }],
          },
        ],
      });
      expect(second.stop_reason).toBe('end_turn');
      const sent = h.mock.stats().byModel['gemini-mock'].lastBody as {
        contents: { parts: Record<string, unknown>[] }[];
      };
      expect(sent.contents[sent.contents.length - 1].parts[0]).toHaveProperty('functionResponse');
    });

    it('round-trips a tool call through an Anthropic channel, streamed', async () => {
      const streamed = await client.messages
        .stream({ model: 'claude-mock', ...PARAMS, tools: [TOOL], tool_choice: { type: 'any' } })
        .finalMessage();
      expect(streamed.content).toEqual([
        { type: 'tool_use', id: expect.any(String), name: 'get_weather', input: TOOL_INPUT },
      ]);
      expect(h.mock.stats().byModel['claude-mock'].lastBody).toMatchObject({
        tool_choice: { type: 'any' },
        tools: [{ name: 'get_weather' }],
      });
    });

    it("raises the SDK's own error classes for the proxy's refusals", async () => {
      const bad = new Anthropic({ baseURL: h.url, apiKey: 'tg-nope', maxRetries: 0 });
      await expect(bad.messages.create({ model: 'gpt-4o-mini', ...PARAMS })).rejects.toBeInstanceOf(
        Anthropic.AuthenticationError,
      );
      await expect(client.messages.create({ model: 'nowhere', ...PARAMS })).rejects.toBeInstanceOf(
        Anthropic.NotFoundError,
      );
      await expect(
        client.messages.create(
          { model: 'gpt-4o-mini', ...PARAMS },
          { headers: { 'x-mock-fail-status': '429', 'x-mock-retry-after': '0' } },
        ),
      ).rejects.toBeInstanceOf(Anthropic.RateLimitError);
    });
  });

  describe('errors in Anthropic format', () => {
    it('refuses a body without max_tokens with invalid_request_error, metered as rejected', async () => {
      const res = await post(
        { model: 'gpt-4o-mini', messages: PARAMS.messages },
        { 'x-api-key': key.secret },
      );
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        type: 'error',
        error: { type: 'invalid_request_error', message: 'max_tokens: Field required' },
      });
      expect(await h.usage(res.headers['x-request-id'] as string)).toMatchObject({
        endpoint: 'messages',
        outcome: UsageOutcome.Rejected,
        httpStatus: 400,
      });
    });

    it('answers a missing key, broken JSON and a model not allowed in its format', async () => {
      const noKey = await post({ model: 'gpt-4o-mini', ...PARAMS }, {});
      expect(noKey.status).toBe(401);
      expect(noKey.body).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
      const broken = await post('{"model":', { 'x-api-key': key.secret });
      expect(broken.status).toBe(400);
      expect(broken.body).toMatchObject({
        type: 'error',
        error: { type: 'invalid_request_error' },
      });
      const narrow = await h.addKey({ models: ['claude-mock'] });
      const denied = await post(
        { model: 'gpt-4o-mini', ...PARAMS },
        { 'x-api-key': narrow.secret },
      );
      expect(denied.status).toBe(403);
      expect(denied.body).toMatchObject({ type: 'error', error: { type: 'permission_error' } });
    });

    it('answers an unknown route under /v1/messages in its format too', async () => {
      const res = await request(`${h.url}/v1/messages/count_tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': key.secret },
        body: '{}',
      });
      expect(res.statusCode).toBe(404);
      expect(await res.body.json()).toMatchObject({
        type: 'error',
        error: { type: 'not_found_error' },
      });
    });

    it('accepts a Bearer key too', async () => {
      const res = await post(
        { model: 'gpt-4o-mini', ...PARAMS },
        { authorization: `Bearer ${key.secret}` },
      );
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ type: 'message' });
    });

    it('passes an upstream 429 on as rate_limit_error with Retry-After', async () => {
      const res = await post(
        { model: 'claude-mock', ...PARAMS },
        { 'x-api-key': key.secret, 'x-mock-fail-status': '429', 'x-mock-retry-after': '0' },
      );
      expect(res.status).toBe(429);
      expect(res.headers['retry-after']).toBe('0');
      expect(res.body).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    });

    it('ends a stream cut by the provider with an Anthropic error event', async () => {
      const res = await request(`${h.url}/v1/messages`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-api-key': key.secret,
          'x-mock-reset-after-chunks': '2',
        },
        body: JSON.stringify({ model: 'claude-mock', ...PARAMS, stream: true }),
      });
      const text = await res.body.text();
      expect(res.statusCode).toBe(200);
      expect(text).toContain('event: message_start');
      const last = text.trim().split('\n\n').pop() as string;
      expect(last.split('\n')[0]).toBe('event: error');
      expect(JSON.parse(last.split('\n')[1].slice(6))).toMatchObject({
        type: 'error',
        error: { type: 'api_error' },
      });
      expect(await h.usage(res.headers['x-request-id'] as string)).toMatchObject({
        endpoint: 'messages',
        outcome: UsageOutcome.UpstreamError,
        tokensEstimated: true,
      });
    });
  });
});
