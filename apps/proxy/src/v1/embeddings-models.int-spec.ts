import { randomUUID } from 'node:crypto';
import type OpenAI from 'openai';
import type { APIError } from 'openai';
import { request } from 'undici';
import { ProxyHarness, type TestKey } from '../testing/proxy-harness';

describe('POST /v1/embeddings and GET /v1/models', () => {
  let h: ProxyHarness;
  let key: TestKey;
  let client: OpenAI;

  beforeAll(async () => {
    h = await ProxyHarness.create('embed');
    // what the default group of org A can reach: a, b, c, gpt-4o-mini, text-embedding-3-small, mine
    await h.addChannel({
      models: ['gpt-4o-mini', 'text-embedding-3-small', 'embed-alias'],
      modelMapping: { 'embed-alias': 'text-embedding-3-small' },
    });
    await h.addChannel({ models: ['model-a', 'model-b'] });
    await h.addChannel({ models: ['model-vip'], groups: ['vip'] });
    await h.addChannel({ models: ['model-other-org'], organisationId: 'someone-else' });
    await h.addChannel({ models: ['model-own'], organisationId: h.orgId });
    await h.addChannel({ models: ['model-off'], status: 'disabled' });
    await h.start();
    key = await h.addKey();
    client = h.client(key.secret);
  });
  afterAll(() => h.close());

  describe('embeddings', () => {
    it('returns float embeddings with the provider usage and records them', async () => {
      const { data, response } = await client.embeddings
        .create({
          model: 'text-embedding-3-small',
          input: ['one two three', 'four'],
          encoding_format: 'float',
          dimensions: 8,
        })
        .withResponse();
      expect(data.data).toHaveLength(2);
      expect(data.data[0].embedding).toHaveLength(8);
      expect(data.usage.prompt_tokens).toBe(4);
      expect(await h.usage(response.headers.get('x-request-id'))).toMatchObject({
        endpoint: 'embeddings',
        model: 'text-embedding-3-small',
        outcome: 'ok',
        inputTokens: 4,
        outputTokens: 0,
        tokensEstimated: false,
        stream: false,
      });
    });

    it('passes base64 embeddings through for the official client to decode', async () => {
      const res = await client.embeddings.create({
        model: 'text-embedding-3-small',
        input: 'hello there',
        dimensions: 16,
      });
      expect(res.data[0].embedding).toHaveLength(16);
      expect(h.mock.stats().byModel['text-embedding-3-small'].lastBody).toMatchObject({
        encoding_format: 'base64',
      });
    });

    it('maps the model name both ways', async () => {
      const res = await client.embeddings.create({
        model: 'embed-alias',
        input: 'x',
        encoding_format: 'float',
        dimensions: 4,
      });
      expect(res.model).toBe('embed-alias');
      expect(h.mock.stats().byModel['text-embedding-3-small'].lastBody).toMatchObject({
        model: 'text-embedding-3-small',
      });
    });

    it('refuses invalid input with the offending param', async () => {
      const err = await client.embeddings
        .create({ model: 'text-embedding-3-small', input: [] })
        .catch((e: APIError) => e);
      expect(err).toMatchObject({ status: 400, param: 'input', code: 'empty_array' });
    });
  });

  describe('models', () => {
    it("lists exactly the models of enabled channels open to the key's group and organisation", async () => {
      const page = await client.models.list();
      expect(page.data.map((m) => m.id)).toEqual([
        'embed-alias',
        'gpt-4o-mini',
        'model-a',
        'model-b',
        'model-own',
        'text-embedding-3-small',
      ]);
      expect(page.data[0]).toMatchObject({ object: 'model', owned_by: 'tollgate' });
    });

    it("narrows the list to the key's allowlist", async () => {
      const narrow = await h.addKey({ models: ['model-a', 'model-vip', 'nonexistent'] });
      const page = await h.client(narrow.secret).models.list();
      expect(page.data.map((m) => m.id)).toEqual(['model-a']);
    });

    it("follows the tenant's group", async () => {
      const vip = await h.addKey({ tenantGroup: 'vip' });
      const page = await h.client(vip.secret).models.list();
      expect(page.data.map((m) => m.id)).toEqual(['model-vip']);
    });

    it('retrieves one reachable model, including names with a slash, and 404s the others', async () => {
      expect(await client.models.retrieve('model-a')).toMatchObject({
        id: 'model-a',
        object: 'model',
      });
      const channelWithSlash = await h.addChannel({
        id: randomUUID(),
        models: ['meta-llama/Llama-3-8b'],
      });
      await h.reloadChannels(6);
      expect(channelWithSlash.id).toBeTruthy();
      const res = await request(`${h.url}/v1/models/meta-llama/Llama-3-8b`, {
        headers: { authorization: `Bearer ${key.secret}` },
      });
      expect(res.statusCode).toBe(200);
      expect(await res.body.json()).toMatchObject({ id: 'meta-llama/Llama-3-8b' });
      for (const id of ['model-vip', 'model-other-org', 'model-off', 'nope']) {
        const err = await client.models.retrieve(id).catch((e: APIError) => e);
        expect(err).toMatchObject({ status: 404, code: 'model_not_found' });
      }
    });

    it('needs a valid key', async () => {
      const err = await h
        .client('tg-not-a-real-key-at-all-000000000000000000')
        .models.list()
        .catch((e: APIError) => e);
      expect(err).toMatchObject({ status: 401, code: 'invalid_api_key' });
    });

    it('does not meter model listings', async () => {
      const before = await h.jobCount();
      await client.models.list();
      await new Promise((r) => setTimeout(r, 100));
      expect(await h.jobCount()).toBe(before);
    });
  });
});
