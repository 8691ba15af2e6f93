import { UsageOutcome } from '@tollgate/contracts';
import { mockPromptTokens } from '@tollgate/mock-provider';
import type OpenAI from 'openai';
import { ProxyHarness, type TestKey, UPSTREAM_KEY } from '../testing/proxy-harness';

const MESSAGES: OpenAI.Chat.ChatCompletionMessageParam[] = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Tell me three short things about gateways' },
];
const PROMPT_TOKENS = mockPromptTokens(MESSAGES);

describe('POST /v1/chat/completions', () => {
  let h: ProxyHarness;
  let key: TestKey;
  let client: OpenAI;

  beforeAll(async () => {
    h = await ProxyHarness.create('chat');
    await h.addChannel({
      models: ['gpt-4o-mini', 'team-model'],
      modelMapping: { 'team-model': 'gpt-4o-mini' },
    });
    await h.start();
    key = await h.addKey();
    client = h.client(key.secret);
  });
  afterAll(() => h.close());

  describe('not streamed', () => {
    it("answers in OpenAI's format with the provider's usage, and records it", async () => {
      const { data, response } = await client.chat.completions
        .create({
          model: 'gpt-4o-mini',
          messages: MESSAGES,
          mock: { words: 7 },
        } as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming)
        .withResponse();
      expect(data.object).toBe('chat.completion');
      expect(data.model).toBe('gpt-4o-mini');
      expect(data.choices[0].message.content?.split(' ')).toHaveLength(7);
      expect(data.usage).toMatchObject({ prompt_tokens: PROMPT_TOKENS, completion_tokens: 7 });
      const requestId = response.headers.get('x-request-id');
      expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
      const event = await h.usage(requestId);
      expect(event).toMatchObject({
        schemaVersion: 1,
        requestId,
        organisationId: h.orgId,
        tenantId: h.tenantId,
        tenantName: 'tenant one',
        keyId: key.record.id,
        keyName: 'test key',
        provider: 'openai',
        model: 'gpt-4o-mini',
        upstreamModel: 'gpt-4o-mini',
        endpoint: 'chat.completions',
        stream: false,
        outcome: UsageOutcome.Ok,
        httpStatus: 200,
        errorCode: null,
        inputTokens: PROMPT_TOKENS,
        outputTokens: 7,
        cachedInputTokens: 0,
        tokensEstimated: false,
        attempts: 1,
        reservedCostNanoUsd: '0',
      });
      expect(event.channelId).toEqual(expect.any(String));
      expect(Date.parse(event.occurredAt)).not.toBeNaN();
    });

    it('sends the provider the decrypted channel credential and the body it was given', async () => {
      const body = {
        model: 'gpt-4o-mini',
        messages: MESSAGES,
        temperature: 0.3,
        custom_param: { keep: true },
      };
      await client.chat.completions.create(
        body as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming,
      );
      const seen = h.mock.stats().byModel['gpt-4o-mini'];
      expect(seen.lastHeaders.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
      expect(seen.lastBody).toEqual(body);
    });

    it('forwards the configured x-mock-* headers to the provider', async () => {
      const res = await client.chat.completions.create(
        { model: 'gpt-4o-mini', messages: MESSAGES },
        { headers: { 'x-mock-words': '3' } },
      );
      expect(res.usage?.completion_tokens).toBe(3);
    });
  });

  describe('streamed', () => {
    it('passes the chunks through and shows the usage chunk to a client that asked for it', async () => {
      const { data: stream, response } = await client.chat.completions
        .create(
          {
            model: 'gpt-4o-mini',
            messages: MESSAGES,
            stream: true,
            stream_options: { include_usage: true },
          },
          { headers: { 'x-mock-chunks': '5' } },
        )
        .withResponse();
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
      for await (const c of stream) chunks.push(c);
      expect(
        chunks
          .map((c) => c.choices[0]?.delta?.content ?? '')
          .join('')
          .split(' '),
      ).toHaveLength(5);
      const last = chunks[chunks.length - 1];
      expect(last.choices).toEqual([]);
      expect(last.usage).toMatchObject({ prompt_tokens: PROMPT_TOKENS, completion_tokens: 5 });
      const event = await h.usage(response.headers.get('x-request-id'));
      expect(event).toMatchObject({
        stream: true,
        outcome: 'ok',
        inputTokens: PROMPT_TOKENS,
        outputTokens: 5,
        tokensEstimated: false,
      });
      expect(event.ttftMs).toEqual(expect.any(Number));
    });

    it('asks the provider for usage anyway and hides it from a client that did not ask', async () => {
      const { data: stream, response } = await client.chat.completions
        .create(
          { model: 'gpt-4o-mini', messages: MESSAGES, stream: true },
          { headers: { 'x-mock-chunks': '4' } },
        )
        .withResponse();
      const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
      for await (const c of stream) chunks.push(c);
      expect(chunks).toHaveLength(1 + 4 + 1);
      for (const c of chunks) {
        expect(c).not.toHaveProperty('usage');
        expect(c.choices).toHaveLength(1);
      }
      expect(h.mock.stats().byModel['gpt-4o-mini'].lastBody).toMatchObject({
        stream: true,
        stream_options: { include_usage: true },
      });
      const event = await h.usage(response.headers.get('x-request-id'));
      expect(event).toMatchObject({
        outcome: 'ok',
        inputTokens: PROMPT_TOKENS,
        outputTokens: 4,
        tokensEstimated: false,
      });
    });

    it('sends chunks as they arrive instead of holding the stream back', async () => {
      const started = Date.now();
      const stream = await client.chat.completions.create(
        { model: 'gpt-4o-mini', messages: MESSAGES, stream: true },
        { headers: { 'x-mock-chunks': '4', 'x-mock-chunk-delay-ms': '150' } },
      );
      const arrivals: number[] = [];
      for await (const c of stream)
        if (c.choices[0]?.delta?.content) arrivals.push(Date.now() - started);
      expect(arrivals).toHaveLength(4);
      expect(arrivals[0]).toBeLessThan(400);
      expect(arrivals[3] - arrivals[0]).toBeGreaterThanOrEqual(350);
    });
  });

  describe('model mapping', () => {
    it('sends the upstream name to the provider and shows the requested name to the client', async () => {
      const { data, response } = await client.chat.completions
        .create({ model: 'team-model', messages: MESSAGES })
        .withResponse();
      expect(data.model).toBe('team-model');
      expect(h.mock.stats().byModel['gpt-4o-mini'].lastBody).toMatchObject({
        model: 'gpt-4o-mini',
      });
      expect(h.mock.stats().byModel['team-model']).toBeUndefined();
      expect(await h.usage(response.headers.get('x-request-id'))).toMatchObject({
        model: 'team-model',
        upstreamModel: 'gpt-4o-mini',
      });
    });

    it('shows the requested name in every streamed chunk', async () => {
      const { data: stream, response } = await client.chat.completions
        .create({
          model: 'team-model',
          messages: MESSAGES,
          stream: true,
          stream_options: { include_usage: true },
        })
        .withResponse();
      const models = new Set<string>();
      for await (const c of stream) models.add(c.model);
      expect([...models]).toEqual(['team-model']);
      expect(await h.usage(response.headers.get('x-request-id'))).toMatchObject({
        model: 'team-model',
        upstreamModel: 'gpt-4o-mini',
        outputTokens: 10,
      });
    });
  });
});
