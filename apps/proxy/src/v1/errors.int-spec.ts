import { freeLoopbackPort } from '@tollgate/server-testing';
import type OpenAI from 'openai';
import { APIError } from 'openai';
import { request } from 'undici';
import { ProxyHarness, type TestKey } from '../testing/proxy-harness';

const MESSAGES: OpenAI.Chat.ChatCompletionMessageParam[] = [
  { role: 'user', content: 'hello out there' },
];
const MAX_BODY = 64 * 1024;

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: { error: { message: string; type: string; param: string | null; code: string | null } };
}

describe('errors in OpenAI format', () => {
  let h: ProxyHarness;
  let key: TestKey;
  let client: OpenAI;

  async function call(
    path: string,
    init: { method?: string; body?: string; headers?: Record<string, string> } = {},
  ): Promise<Raw> {
    const res = await request(`${h.url}${path}`, {
      method: (init.method ?? 'POST') as 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${key.secret}`,
        ...init.headers,
      },
      body: init.body,
    });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, body: JSON.parse(text) as Raw['body'] };
  }

  const chat = (over: Record<string, unknown> = {}) =>
    JSON.stringify({ model: 'gpt-4o-mini', messages: MESSAGES, ...over });

  /** the SDK's error for a call that must fail */
  async function sdkError(p: Promise<unknown>): Promise<APIError> {
    const e = await p.then(
      () => null,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(APIError);
    return e as APIError;
  }

  beforeAll(async () => {
    h = await ProxyHarness.create('errors');
    await h.addChannel();
    await h.addChannel({
      models: ['dead-model'],
      baseUrl: `http://127.0.0.1:${await freeLoopbackPort()}/v1`,
    });
    await h.addChannel({ models: ['bad-credential-model'], apiKey: 'sk-wrong' });
    // its 429 cools it down, which must not touch the other tests' channel
    await h.addChannel({ models: ['limited-model'] });
    await h.start({
      // these tests are about error mapping, one fault after another on one channel: no circuit
      BREAKER_FAILURE_THRESHOLD: '1000',
      MAX_BODY_BYTES: String(MAX_BODY),
      UPSTREAM_FIRST_BYTE_TIMEOUT_MS: '300',
      UPSTREAM_TOTAL_TIMEOUT_MS: '900',
    });
    key = await h.addKey();
    client = h.client(key.secret);
  });
  afterAll(() => h.close());

  describe('401 for keys', () => {
    it('gives distinct messages for missing, unknown, revoked and expired keys, all invalid_api_key', async () => {
      const missing = await call('/v1/chat/completions', {
        body: chat(),
        headers: { authorization: '' },
      });
      const unknown = await call('/v1/chat/completions', {
        body: chat(),
        headers: { authorization: 'Bearer tg-0000000000000000000000000000000000000000' },
      });
      const foreign = await call('/v1/chat/completions', {
        body: chat(),
        headers: { authorization: 'Bearer sk-openai-style-key' },
      });
      const revokedKey = await h.addKey({ revoked: true });
      const revoked = await call('/v1/chat/completions', {
        body: chat(),
        headers: { authorization: `Bearer ${revokedKey.secret}` },
      });
      const expiredKey = await h.addKey({ expiresAt: new Date(Date.now() - 1000).toISOString() });
      const expired = await call('/v1/chat/completions', {
        body: chat(),
        headers: { authorization: `Bearer ${expiredKey.secret}` },
      });
      for (const r of [missing, unknown, foreign, revoked, expired]) {
        expect(r.status).toBe(401);
        expect(r.body.error).toMatchObject({
          type: 'invalid_request_error',
          code: 'invalid_api_key',
          param: null,
        });
        expect(r.headers['x-request-id']).toEqual(expect.any(String));
      }
      expect(missing.body.error.message).toMatch(/didn't provide an API key/);
      expect(unknown.body.error.message).toMatch(/^Incorrect API key provided: tg-000\*\*\*\*0000/);
      expect(revoked.body.error.message).toMatch(/revoked/);
      expect(expired.body.error.message).toMatch(/expired/);
      expect(
        new Set([missing, unknown, revoked, expired].map((r) => r.body.error.message)).size,
      ).toBe(4);
      // a known key is metered even when refused; an unknown one has no organisation to bill
      expect(await h.usage(revoked.headers['x-request-id'] as string)).toMatchObject({
        outcome: 'rejected',
        httpStatus: 401,
        keyId: revokedKey.record.id,
      });
      expect(await h.usage(expired.headers['x-request-id'] as string)).toMatchObject({
        outcome: 'rejected',
        httpStatus: 401,
        keyId: expiredKey.record.id,
      });
      expect(await h.queue.getJob(unknown.headers['x-request-id'] as string)).toBeUndefined();
    });

    it('accepts a key until its expiry', async () => {
      const later = await h.addKey({ expiresAt: new Date(Date.now() + 60_000).toISOString() });
      const res = await h
        .client(later.secret)
        .chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES });
      expect(res.object).toBe('chat.completion');
    });
  });

  describe('refusals before any provider call', () => {
    it('403 for a model outside the key allowlist', async () => {
      const narrow = await h.addKey({ models: ['something-else'] });
      const { status, body, headers } = await call('/v1/chat/completions', {
        body: chat(),
        headers: { authorization: `Bearer ${narrow.secret}` },
      });
      expect(status).toBe(403);
      expect(body.error).toMatchObject({ code: 'model_not_allowed', param: 'model' });
      expect(await h.usage(headers['x-request-id'] as string)).toMatchObject({
        outcome: 'rejected',
        httpStatus: 403,
        model: 'gpt-4o-mini',
        attempts: 0,
      });
    });

    it('404 model_not_found for a model no channel serves', async () => {
      const e = await sdkError(
        client.chat.completions.create({ model: 'gpt-9', messages: MESSAGES }),
      );
      expect(e).toMatchObject({ status: 404, code: 'model_not_found', param: 'model' });
      expect(e.message).toMatch(/`gpt-9` does not exist/);
    });

    it('400 for malformed JSON, metered with an unknown model', async () => {
      const r = await call('/v1/chat/completions', {
        body: '{"model": "gpt-4o-mini", "messages": [',
      });
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_json' });
      expect(await h.usage(r.headers['x-request-id'] as string)).toMatchObject({
        outcome: 'rejected',
        httpStatus: 400,
        model: 'unknown',
        errorCode: 'invalid_json',
      });
    });

    it('400 for an empty body or a body that is not an object', async () => {
      expect((await call('/v1/chat/completions', { body: '' })).status).toBe(400);
      expect((await call('/v1/chat/completions', { body: '[1,2]' })).body.error.code).toBe(
        'invalid_type',
      );
    });

    it('400 naming the field for wrong types and missing fields', async () => {
      const wrongType = await sdkError(
        client.chat.completions.create({ model: 'gpt-4o-mini', messages: 'hi' as never }),
      );
      expect(wrongType).toMatchObject({ status: 400, param: 'messages', code: 'invalid_type' });
      const missing = await call('/v1/chat/completions', {
        body: JSON.stringify({ model: 'gpt-4o-mini' }),
      });
      expect(missing.body.error).toMatchObject({
        param: 'messages',
        code: 'missing_required_parameter',
      });
      const noModel = await call('/v1/embeddings', { body: JSON.stringify({ input: 'x' }) });
      expect(noModel.body.error).toMatchObject({ param: 'model' });
      const range = await call('/v1/chat/completions', { body: chat({ temperature: 7 }) });
      expect(range.body.error).toMatchObject({
        param: 'temperature',
        code: 'decimal_above_max_value',
      });
    });

    it('413 for a body over MAX_BODY_BYTES, metered for the known key', async () => {
      const big = chat({ messages: [{ role: 'user', content: 'x'.repeat(MAX_BODY) }] });
      const r = await call('/v1/chat/completions', { body: big });
      expect(r.status).toBe(413);
      expect(r.body.error).toMatchObject({ code: 'request_too_large' });
      expect(await h.usage(r.headers['x-request-id'] as string)).toMatchObject({
        outcome: 'rejected',
        httpStatus: 413,
      });
      const e = await sdkError(
        client.chat.completions.create({
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: 'y'.repeat(MAX_BODY) }],
        }),
      );
      expect(e.status).toBe(413);
    });

    it('404 in OpenAI format for an unknown URL or method', async () => {
      const r = await call('/v1/nothing-here', { body: '{}' });
      expect(r.status).toBe(404);
      expect(r.body.error).toMatchObject({
        message: 'Invalid URL (POST /v1/nothing-here)',
        code: 'unknown_url',
      });
      expect(r.headers['x-request-id']).toEqual(expect.any(String));
      const get = await call('/v1/chat/completions', { method: 'GET' });
      expect(get.status).toBe(404);
    });
  });

  describe('provider failures', () => {
    it('502 when the provider cannot be reached', async () => {
      const { status, body, headers } = await call('/v1/chat/completions', {
        body: chat({ model: 'dead-model' }),
      });
      expect(status).toBe(502);
      expect(body.error).toMatchObject({ type: 'api_error', code: 'upstream_error' });
      expect(await h.usage(headers['x-request-id'] as string)).toMatchObject({
        outcome: 'upstream_error',
        httpStatus: 502,
        attempts: 1,
        inputTokens: 0,
      });
    });

    it('502 for a provider 5xx', async () => {
      const e = await sdkError(
        client.chat.completions.create(
          { model: 'gpt-4o-mini', messages: MESSAGES },
          { headers: { 'x-mock-fail-status': '500' } },
        ),
      );
      expect(e).toMatchObject({ status: 502, code: 'upstream_error' });
      expect(e.message).toMatch(/HTTP 500/);
    });

    it('502 when the provider rejects the channel credential (not the client key)', async () => {
      const r = await call('/v1/chat/completions', {
        body: chat({ model: 'bad-credential-model' }),
      });
      expect(r.status).toBe(502);
      expect(r.body.error.code).toBe('upstream_auth_failed');
    });

    it('502 for a malformed JSON body, a wrong content type, or a malformed event stream', async () => {
      const malformed = await call('/v1/chat/completions', {
        body: chat({ mock: { malformed_json: true } }),
      });
      const html = await call('/v1/chat/completions', {
        body: chat({ mock: { wrong_content_type: true } }),
      });
      const htmlStream = await call('/v1/chat/completions', {
        body: chat({ stream: true, mock: { wrong_content_type: true } }),
      });
      const sse = await call('/v1/chat/completions', {
        body: chat({ stream: true, mock: { malformed_sse: true } }),
      });
      for (const r of [malformed, html, htmlStream, sse]) {
        expect(r.status).toBe(502);
        expect(r.body.error.code).toBe('upstream_malformed_response');
      }
      expect(await h.usage(sse.headers['x-request-id'] as string)).toMatchObject({
        outcome: 'upstream_error',
        stream: true,
        httpStatus: 502,
      });
    });

    it('passes a provider 4xx through in OpenAI format, with Retry-After on 429', async () => {
      const limited = await call('/v1/chat/completions', {
        body: chat({ model: 'limited-model', mock: { fail_status: 429, retry_after: 7 } }),
      });
      expect(limited.status).toBe(429);
      expect(limited.headers['retry-after']).toBe('7');
      expect(limited.body.error).toMatchObject({
        type: 'rate_limit_error',
        code: 'rate_limit_exceeded',
      });
      expect(await h.usage(limited.headers['x-request-id'] as string)).toMatchObject({
        outcome: 'upstream_error',
        httpStatus: 429,
      });
      const bad = await call('/v1/chat/completions', {
        body: chat({ stream: true, mock: { fail_status: 422 } }),
      });
      expect(bad.status).toBe(422);
      expect(bad.body.error.message).toMatch(/Injected failure/);
    });

    it('ends a stream the provider cuts with an error event the client raises', async () => {
      const stream = await client.chat.completions.create(
        { model: 'gpt-4o-mini', messages: MESSAGES, stream: true },
        { headers: { 'x-mock-reset-after-chunks': '3', 'x-mock-chunk-delay-ms': '20' } },
      );
      const received: string[] = [];
      const e = await (async () => {
        for await (const c of stream) received.push(c.choices[0]?.delta?.content ?? '');
      })().catch((err: unknown) => err);
      expect(e).toBeInstanceOf(APIError);
      expect(received.join('').trim().split(' ')).toHaveLength(3);
    });
  });

  describe('timeouts', () => {
    it('504 when the first byte does not come in time, without hanging', async () => {
      const started = Date.now();
      const r = await call('/v1/chat/completions', { body: chat({ mock: { latency_ms: 5000 } }) });
      expect(r.status).toBe(504);
      expect(r.body.error).toMatchObject({ code: 'upstream_timeout' });
      expect(Date.now() - started).toBeLessThan(1500);
      const s = await call('/v1/chat/completions', {
        body: chat({ stream: true, mock: { latency_ms: 5000 } }),
      });
      expect(s.status).toBe(504);
      expect(await h.usage(s.headers['x-request-id'] as string)).toMatchObject({
        outcome: 'upstream_error',
        httpStatus: 504,
        errorCode: 'upstream_timeout',
      });
    });

    it('ends a stream that outlives the total timeout with an error event', async () => {
      const started = Date.now();
      const { data: stream, response } = await client.chat.completions
        .create(
          { model: 'gpt-4o-mini', messages: MESSAGES, stream: true },
          { headers: { 'x-mock-chunks': '50', 'x-mock-chunk-delay-ms': '100' } },
        )
        .withResponse();
      const e = await (async () => {
        for await (const c of stream) void c;
      })().catch((err: unknown) => err);
      expect(e).toBeInstanceOf(APIError);
      expect((e as APIError).message).toMatch(/did not answer in time/);
      expect(Date.now() - started).toBeLessThan(2500);
      const event = await h.usage(response.headers.get('x-request-id'));
      expect(event).toMatchObject({
        outcome: 'upstream_error',
        errorCode: 'upstream_timeout',
        tokensEstimated: true,
      });
      expect(event.outputTokens).toBeGreaterThan(0);
    });
  });
});
