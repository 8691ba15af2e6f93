import type { KeyRecordProjection } from '@tollgate/contracts';
import { KeyCache, resolveKey } from './key-cache';

const record = (over: Partial<KeyRecordProjection> = {}): KeyRecordProjection => ({
  id: 'k1',
  name: 'key',
  prefix: 'tg-abcdefghi',
  organisationId: 'o1',
  tenantId: 't1',
  tenantName: 'tenant',
  tenantGroup: 'default',
  models: null,
  expiresAt: null,
  revoked: false,
  allowFallback: true,
  ...over,
});

function setup(options: Partial<ConstructorParameters<typeof KeyCache>[1]> = {}) {
  let now = 1_000_000;
  const store = new Map<string, KeyRecordProjection>();
  const load = jest.fn(async (hash: string) => store.get(hash) ?? null);
  const sut = new KeyCache(load, {
    ttlMs: 60_000,
    negativeTtlMs: 2_000,
    maxEntries: 3,
    now: () => now,
    ...options,
  });
  sut.setLive(true);
  return { sut, store, load, advance: (ms: number) => (now += ms) };
}

describe('KeyCache', () => {
  it('reads a key once, then answers from memory synchronously', async () => {
    const { sut, store, load } = setup();
    store.set('h', record());
    expect(await sut.get('h')).toMatchObject({ record: { id: 'k1' } });
    const again = sut.get('h');
    expect(again).not.toBeInstanceOf(Promise);
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('shares one read between concurrent misses', async () => {
    const { sut, store, load } = setup();
    store.set('h', record());
    await Promise.all([sut.get('h'), sut.get('h'), sut.get('h')]);
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('remembers an unknown key only for the negative TTL', async () => {
    const { sut, store, load, advance } = setup();
    expect(await sut.get('h')).toBeNull();
    store.set('h', record());
    expect(sut.get('h')).toBeNull();
    advance(2_000);
    expect(await sut.get('h')).not.toBeNull();
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('drops an entry on invalidate and the whole cache on clear', async () => {
    const { sut, store } = setup();
    store.set('h', record());
    store.set('g', record({ id: 'k2' }));
    await sut.get('h');
    await sut.get('g');
    store.set('h', record({ revoked: true }));
    store.set('g', record({ id: 'k2', revoked: true }));
    sut.invalidate('h');
    expect((await sut.get('h'))?.record.revoked).toBe(true);
    expect((sut.get('g') as { record: KeyRecordProjection }).record.revoked).toBe(false);
    sut.clear();
    expect((await sut.get('g'))?.record.revoked).toBe(true);
  });

  it('does not cache a read that raced an invalidation', async () => {
    const { sut, store, load } = setup();
    store.set('h', record());
    const first = sut.get('h');
    sut.invalidate('h');
    store.set('h', record({ revoked: true }));
    await first;
    expect((await sut.get('h'))?.record.revoked).toBe(true);
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('re-reads entries older than a second while change notifications are not flowing', async () => {
    const { sut, store, load, advance } = setup();
    store.set('h', record());
    await sut.get('h');
    sut.setLive(false);
    advance(500);
    expect(sut.get('h')).not.toBeInstanceOf(Promise);
    advance(600);
    store.set('h', record({ revoked: true }));
    expect((await sut.get('h'))?.record.revoked).toBe(true);
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('keeps serving a known key when Redis cannot be read, and fails an unknown one', async () => {
    const { sut, store, load, advance } = setup();
    store.set('h', record());
    await sut.get('h');
    advance(60_000);
    load.mockRejectedValue(new Error('redis down'));
    expect(await sut.get('h')).toMatchObject({ record: { id: 'k1' } });
    await expect(sut.get('other')).rejects.toThrow('redis down');
  });

  it('evicts the oldest entry beyond its size', async () => {
    const { sut, store } = setup();
    for (const h of ['a', 'b', 'c', 'd']) {
      store.set(h, record({ id: h }));
      await sut.get(h);
    }
    expect(sut.size).toBe(3);
    expect(sut.get('a')).toBeInstanceOf(Promise);
  });
});

describe('resolveKey', () => {
  it('parses the expiry and the model allowlist once', () => {
    const sut = resolveKey(record({ expiresAt: '2030-01-01T00:00:00.000Z', models: ['a', 'b'] }));
    expect(sut.expiresAtMs).toBe(Date.UTC(2030, 0, 1));
    expect(sut.allowedModels).toEqual(new Set(['a', 'b']));
    expect(resolveKey(record()).allowedModels).toBeNull();
  });
});
