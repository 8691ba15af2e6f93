import { mockPromptTokens } from '@tollgate/mock-provider';
import { waitFor } from '@tollgate/server-testing';
import OpenAI from 'openai';
import { request } from 'undici';
import { ProxyHarness, type TestKey } from '../testing/proxy-harness';

const MESSAGES: OpenAI.Chat.ChatCompletionMessageParam[] = [
  { role: 'user', content: 'count some words for me' },
];
const PROMPT = mockPromptTokens(MESSAGES);

describe('usage events', () => {
  let h: ProxyHarness;
  let key: TestKey;
  let client: OpenAI;

  beforeAll(async () => {
    h = await ProxyHarness.create('usage');
    await h.addChannel();
    await h.start();
    key = await h.addKey();
    client = h.client(key.secret);
  });
  afterAll(() => h.close());

  it('records exactly one event per request, whatever its outcome', async () => {
    const before = await h.jobCount();
    const narrow = await h.addKey({ models: ['other'] });
    const ids: string[] = [];
    const idOf = (r: { headers: Record<string, unknown> }) =>
      ids.push(String(r.headers['x-request-id']));
    const post = (body: unknown, secret = key.secret) =>
      request(`${h.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
        body: JSON.stringify(body),
      }).then(async (r) => {
        await r.body.text();
        idOf(r);
        return r.statusCode;
      });
    const statuses = [
      await post({ model: 'gpt-4o-mini', messages: MESSAGES }),
      await post({ model: 'gpt-4o-mini', messages: MESSAGES, stream: true }),
      await post({
        model: 'gpt-4o-mini',
        messages: MESSAGES,
        stream: true,
        stream_options: { include_usage: true },
      }),
      await post({ model: 'gpt-4o-mini', messages: MESSAGES, mock: { fail_status: 500 } }),
      await post({
        model: 'gpt-4o-mini',
        messages: MESSAGES,
        stream: true,
        mock: { fail_status: 503 },
      }),
      await post({ model: 'nope', messages: MESSAGES }),
      await post({ model: 'gpt-4o-mini', messages: MESSAGES }, narrow.secret),
      await post({ model: 'gpt-4o-mini', messages: 'not a list' }),
    ];
    expect(statuses).toEqual([200, 200, 200, 502, 502, 404, 403, 400]);
    const events = await Promise.all(ids.map((id) => h.usage(id)));
    expect(events.map((e) => e.outcome)).toEqual([
      'ok',
      'ok',
      'ok',
      'upstream_error',
      'upstream_error',
      'rejected',
      'rejected',
      'rejected',
    ]);
    expect(new Set(ids).size).toBe(ids.length);
    await new Promise((r) => setTimeout(r, 100));
    expect((await h.jobCount()) - before).toBe(ids.length);
    // ok events carry the provider's counts, streamed or not
    for (const e of events.slice(0, 3))
      expect(e).toMatchObject({ inputTokens: PROMPT, outputTokens: 10, tokensEstimated: false });
    for (const e of events.slice(3)) expect(e).toMatchObject({ inputTokens: 0, outputTokens: 0 });
  });

  it('estimates, and says so, when the provider reports no usage', async () => {
    const { data, response } = await client.chat.completions
      .create({
        model: 'gpt-4o-mini',
        messages: MESSAGES,
        mock: { omit_usage: true, words: 8 },
      } as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming)
      .withResponse();
    expect(data.usage).toBeUndefined();
    const event = await h.usage(response.headers.get('x-request-id'));
    expect(event).toMatchObject({ outcome: 'ok', tokensEstimated: true });
    expect(event.inputTokens).toBeGreaterThan(0);
    expect(event.outputTokens).toBe(Math.ceil(data.choices[0].message.content!.length / 4));

    const { data: stream, response: sr } = await client.chat.completions
      .create(
        {
          model: 'gpt-4o-mini',
          messages: MESSAGES,
          stream: true,
          stream_options: { include_usage: true },
        },
        { headers: { 'x-mock-omit-usage': 'true', 'x-mock-chunks': '6' } },
      )
      .withResponse();
    for await (const c of stream) expect(c.usage ?? null).toBeNull();
    const streamed = await h.usage(sr.headers.get('x-request-id'));
    expect(streamed).toMatchObject({ outcome: 'ok', tokensEstimated: true });
    expect(streamed.outputTokens).toBeGreaterThanOrEqual(6);
  });

  it('aborts the provider call when the client goes away mid-stream and meters what was produced', async () => {
    h.mock.resetStats();
    const controller = new AbortController();
    const { data: stream, response } = await client.chat.completions
      .create(
        { model: 'gpt-4o-mini', messages: MESSAGES, stream: true },
        {
          signal: controller.signal,
          headers: { 'x-mock-chunks': '40', 'x-mock-chunk-delay-ms': '50' },
        },
      )
      .withResponse();
    let words = 0;
    await (async () => {
      for await (const c of stream) {
        if (c.choices[0]?.delta?.content) words++;
        if (words === 3) controller.abort();
      }
    })().catch(() => undefined);
    const event = await h.usage(response.headers.get('x-request-id'));
    expect(event).toMatchObject({
      outcome: 'client_aborted',
      httpStatus: 200,
      stream: true,
      tokensEstimated: true,
      inputTokens: expect.any(Number),
    });
    expect(event.outputTokens).toBeGreaterThanOrEqual(3);
    expect(event.outputTokens).toBeLessThan(40);
    await waitFor(() => h.mock.stats().abortedStreams === 1, {
      timeoutMs: 2000,
      what: 'the provider stream aborted',
    });
  });

  it('aborts a call the client gives up on before any answer', async () => {
    h.mock.resetStats();
    const controller = new AbortController();
    const pending = client.chat.completions
      .create(
        {
          model: 'gpt-4o-mini',
          messages: MESSAGES,
          mock: { latency_ms: 3000 },
        } as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming,
        { signal: controller.signal },
      )
      .catch((e: unknown) => e);
    await waitFor(() => h.mock.stats().inFlight === 1, {
      timeoutMs: 2000,
      what: 'provider call in flight',
    });
    controller.abort();
    expect(await pending).toBeInstanceOf(OpenAI.APIUserAbortError);
    await waitFor(() => h.mock.stats().inFlight === 0, {
      timeoutMs: 1000,
      what: 'provider call aborted',
    });
    const body = h.mock.stats().byModel['gpt-4o-mini'].lastBody as { mock?: unknown };
    expect(body.mock).toEqual({ latency_ms: 3000 });
  });
});

describe('graceful shutdown', () => {
  it('lets a running stream finish and flushes its event before closing', async () => {
    const h = await ProxyHarness.create('drain');
    try {
      await h.addChannel();
      await h.start();
      const key = await h.addKey();
      const { data: stream, response } = await h
        .client(key.secret)
        .chat.completions.create(
          { model: 'gpt-4o-mini', messages: MESSAGES, stream: true },
          { headers: { 'x-mock-chunks': '6', 'x-mock-chunk-delay-ms': '80' } },
        )
        .withResponse();
      let closing: Promise<void> | null = null;
      let words = 0;
      for await (const c of stream) {
        if (c.choices[0]?.delta?.content) words++;
        if (words === 1 && !closing) closing = h.closeApp();
      }
      expect(words).toBe(6);
      await closing;
      const id = response.headers.get('x-request-id');
      expect(await h.usage(id)).toMatchObject({ outcome: 'ok', outputTokens: 6 });
    } finally {
      await h.close();
    }
  });

  it('cuts what is still running when the drain period ends', async () => {
    const h = await ProxyHarness.create('drain-cut');
    try {
      await h.addChannel();
      await h.start({ SHUTDOWN_DRAIN_TIMEOUT_MS: '200' });
      const key = await h.addKey();
      const { data: stream, response } = await h
        .client(key.secret)
        .chat.completions.create(
          { model: 'gpt-4o-mini', messages: MESSAGES, stream: true },
          { headers: { 'x-mock-chunks': '100', 'x-mock-chunk-delay-ms': '50' } },
        )
        .withResponse();
      const started = Date.now();
      let closing: Promise<void> | null = null;
      const err = await (async () => {
        for await (const c of stream)
          if (!closing && c.choices[0]?.delta?.content) closing = h.closeApp();
      })().catch((e: unknown) => e);
      await closing;
      expect(Date.now() - started).toBeLessThan(2000);
      expect(err).toBeInstanceOf(OpenAI.APIError);
      expect(await h.usage(response.headers.get('x-request-id'))).toMatchObject({
        outcome: 'upstream_error',
        errorCode: 'service_unavailable',
        tokensEstimated: true,
      });
    } finally {
      await h.close();
    }
  });
});
