import OpenAI from 'openai';
import { request } from 'undici';
import { startMockProvider, type RunningMockProvider } from './mock-provider';
import { mockPromptTokens } from './wire';

const MESSAGES = [
  { role: 'system' as const, content: 'You are terse.' },
  { role: 'user' as const, content: 'Say something nice please' },
];

async function post(
  mock: RunningMockProvider,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const res = await request(`${mock.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-mock', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

function sseData(text: string): string[] {
  return text
    .split('\n\n')
    .filter((e) => e.startsWith('data: '))
    .map((e) => e.slice(6));
}

describe('mock provider', () => {
  let sut: RunningMockProvider;
  let client: OpenAI;

  beforeAll(async () => {
    sut = await startMockProvider({ apiKey: 'sk-mock', models: ['gpt-4o-mini', 'emb'] });
    client = new OpenAI({ baseURL: sut.baseUrl, apiKey: 'sk-mock', maxRetries: 0, timeout: 5000 });
  });
  afterAll(() => sut.stop());
  beforeEach(() => {
    sut.resetStats();
    sut.configure({ reset: true });
  });

  describe('chat completions', () => {
    it('answers JSON with deterministic usage, echoing the model it received', async () => {
      const res = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: MESSAGES,
        mock: { words: 7 },
      } as never);
      expect(res.object).toBe('chat.completion');
      expect(res.model).toBe('gpt-4o-mini');
      expect(res.choices[0].message.content?.split(' ')).toHaveLength(7);
      expect(res.usage).toMatchObject({
        prompt_tokens: mockPromptTokens(MESSAGES),
        completion_tokens: 7,
        total_tokens: mockPromptTokens(MESSAGES) + 7,
      });
    });

    it('streams role, one word per chunk, finish, the usage chunk when asked, then [DONE]', async () => {
      const res = await post(
        sut,
        '/v1/chat/completions',
        {
          model: 'gpt-4o-mini',
          messages: MESSAGES,
          stream: true,
          stream_options: { include_usage: true },
        },
        { 'x-mock-chunks': '4' },
      );
      expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
      const data = sseData(res.text);
      expect(data).toHaveLength(1 + 4 + 1 + 1 + 1);
      expect(data[data.length - 1]).toBe('[DONE]');
      const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
      expect(chunks[0].choices[0].delta.role).toBe('assistant');
      expect(chunks[5].choices[0].finish_reason).toBe('stop');
      expect(chunks[6]).toMatchObject({
        choices: [],
        usage: { prompt_tokens: mockPromptTokens(MESSAGES), completion_tokens: 4 },
      });
      expect(chunks.slice(0, 6).every((c) => c.usage === null)).toBe(true);
    });

    it('streams no usage at all when the client did not ask', async () => {
      const stream = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: MESSAGES,
        stream: true,
      });
      let text = '';
      for await (const chunk of stream) {
        expect(chunk).not.toHaveProperty('usage');
        text += chunk.choices[0]?.delta?.content ?? '';
      }
      expect(text.split(' ')).toHaveLength(10);
    });
  });

  describe('embeddings and models', () => {
    it('answers float embeddings of the requested dimension with word-count usage', async () => {
      const res = await post(sut, '/v1/embeddings', {
        model: 'emb',
        input: ['one two', 'three'],
        encoding_format: 'float',
        dimensions: 8,
      });
      const body = JSON.parse(res.text);
      expect(body.data).toHaveLength(2);
      expect(body.data[1].embedding).toHaveLength(8);
      expect(body.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });
    });

    it('answers base64 embeddings that the official client decodes', async () => {
      const res = await client.embeddings.create({
        model: 'emb',
        input: 'hello world',
        dimensions: 12,
      });
      expect(res.data[0].embedding).toHaveLength(12);
      expect(res.usage.prompt_tokens).toBe(2);
    });

    it('lists its models', async () => {
      const page = await client.models.list();
      expect(page.data.map((m) => m.id)).toEqual(['gpt-4o-mini', 'emb']);
    });
  });

  describe('authentication', () => {
    it('refuses a request without a bearer token', async () => {
      const res = await request(`${sut.url}/v1/models`);
      expect(res.statusCode).toBe(401);
      expect((await res.body.json()) as object).toHaveProperty(
        'error.type',
        'invalid_request_error',
      );
    });

    it('refuses a wrong key with invalid_api_key', async () => {
      const res = await post(
        sut,
        '/v1/chat/completions',
        { model: 'm', messages: MESSAGES },
        { authorization: 'Bearer nope' },
      );
      expect(res.status).toBe(401);
      expect(JSON.parse(res.text).error.code).toBe('invalid_api_key');
    });
  });

  describe('faults', () => {
    it('fails with the requested status and an OpenAI error body; 429 carries Retry-After', async () => {
      const r500 = await post(
        sut,
        '/v1/chat/completions',
        { model: 'm', messages: MESSAGES },
        { 'x-mock-fail-status': '500' },
      );
      expect(r500.status).toBe(500);
      expect(JSON.parse(r500.text).error.type).toBe('server_error');
      const r429 = await post(sut, '/v1/chat/completions', {
        model: 'm',
        messages: MESSAGES,
        mock: { fail_status: 429, retry_after: 3 },
      });
      expect(r429.status).toBe(429);
      expect(r429.headers['retry-after']).toBe('3');
      expect(sut.stats().faults).toBe(2);
    });

    it('applies per-model runtime config from POST /__config', async () => {
      const cfg = await post(sut, '/__config', { models: { slowpoke: { latency_ms: 150 } } });
      expect(JSON.parse(cfg.text).models.slowpoke).toEqual({ latency_ms: 150 });
      const t0 = Date.now();
      await post(sut, '/v1/chat/completions', { model: 'slowpoke', messages: MESSAGES });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
      const t1 = Date.now();
      await post(sut, '/v1/chat/completions', { model: 'quick', messages: MESSAGES });
      expect(Date.now() - t1).toBeLessThan(140);
    });

    it('spaces streamed chunks by chunk_delay_ms', async () => {
      const t0 = Date.now();
      const res = await post(sut, '/v1/chat/completions', {
        model: 'm',
        messages: MESSAGES,
        stream: true,
        mock: { chunks: 3, chunk_delay_ms: 60 },
      });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(170);
      expect(sseData(res.text)).toHaveLength(1 + 3 + 1 + 1);
    });

    it('resets the connection mid-stream after the given number of chunks', async () => {
      const res = await request(`${sut.url}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: 'Bearer sk-mock',
          'x-mock-reset-after-chunks': '2',
        },
        body: JSON.stringify({ model: 'm', messages: MESSAGES, stream: true }),
      });
      expect(res.statusCode).toBe(200);
      let received = '';
      await expect(
        (async () => {
          for await (const c of res.body) received += String(c);
        })(),
      ).rejects.toThrow();
      expect(sseData(received).length).toBeLessThanOrEqual(3);
      expect(received).not.toContain('[DONE]');
    });

    it('resets a non-streamed request without answering', async () => {
      await expect(
        post(sut, '/v1/chat/completions', {
          model: 'm',
          messages: MESSAGES,
          mock: { reset_after_chunks: 0 },
        }),
      ).rejects.toThrow();
    });

    it('sends a cut-off JSON body', async () => {
      const res = await post(
        sut,
        '/v1/chat/completions',
        { model: 'm', messages: MESSAGES },
        { 'x-mock-malformed-json': 'true' },
      );
      expect(res.status).toBe(200);
      expect(() => JSON.parse(res.text)).toThrow();
    });

    it('sends an event stream whose events are not JSON and that never finishes', async () => {
      const res = await post(sut, '/v1/chat/completions', {
        model: 'm',
        messages: MESSAGES,
        stream: true,
        mock: { malformed_sse: true },
      });
      const data = sseData(res.text);
      expect(data.length).toBeGreaterThan(0);
      for (const d of data) expect(() => JSON.parse(d)).toThrow();
      expect(res.text).not.toContain('[DONE]');
    });

    it('answers HTML with the wrong content type', async () => {
      const res = await post(sut, '/v1/chat/completions', {
        model: 'm',
        messages: MESSAGES,
        mock: { wrong_content_type: true },
      });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
    });

    it('can leave usage out', async () => {
      const res = await post(sut, '/v1/chat/completions', {
        model: 'm',
        messages: MESSAGES,
        stream: true,
        stream_options: { include_usage: true },
        mock: { omit_usage: true },
      });
      expect(res.text).not.toContain('"usage"');
    });
  });

  describe('stats', () => {
    it('counts requests and keeps the last headers and body per model', async () => {
      await post(
        sut,
        '/v1/chat/completions',
        { model: 'seen', messages: MESSAGES },
        { 'x-trace': 'abc' },
      );
      await post(sut, '/v1/embeddings', { model: 'emb', input: 'x' });
      const res = await request(`${sut.url}/__stats`);
      const stats = (await res.body.json()) as ReturnType<RunningMockProvider['stats']>;
      expect(stats).toMatchObject({ chat: 1, embeddings: 1, inFlight: 0 });
      expect(stats.byModel.seen.lastHeaders['x-trace']).toBe('abc');
      expect(stats.byModel.seen.lastBody).toEqual({ model: 'seen', messages: MESSAGES });
      await post(sut, '/__stats/reset', {});
      expect(sut.stats().chat).toBe(0);
    });
  });
});
