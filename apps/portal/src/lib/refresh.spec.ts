import { createRefresher } from './refresh';
import type { SessionTokens } from './session';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('createRefresher', () => {
  let clock: number;
  const now = () => clock;

  beforeEach(() => {
    clock = 1_000_000;
  });

  it('exchanges one refresh token once for concurrent callers', async () => {
    const pending = deferred<SessionTokens>();
    const refresh = jest.fn(() => pending.promise);
    const sut = createRefresher(refresh, { now });

    const a = sut('old');
    const b = sut('old');
    pending.resolve({ accessToken: 'a2', refreshToken: 'r2' });

    await expect(a).resolves.toEqual({ accessToken: 'a2', refreshToken: 'r2' });
    await expect(b).resolves.toEqual({ accessToken: 'a2', refreshToken: 'r2' });
    expect(refresh).toHaveBeenCalledTimes(1);
  });

  it('hands the same new pair to a caller that arrives shortly after with the old token', async () => {
    const refresh = jest.fn(async (t: string) => ({
      accessToken: `a-${t}`,
      refreshToken: `r-${t}`,
    }));
    const sut = createRefresher(refresh, { now, reuseMs: 60_000 });

    await sut('old');
    clock += 30_000;
    await expect(sut('old')).resolves.toEqual({ accessToken: 'a-old', refreshToken: 'r-old' });
    expect(refresh).toHaveBeenCalledTimes(1);
  });

  it('forgets an exchange after the reuse window', async () => {
    const refresh = jest.fn(async () => ({ accessToken: 'a', refreshToken: 'r' }));
    const sut = createRefresher(refresh, { now, reuseMs: 60_000 });

    await sut('old');
    clock += 60_001;
    await sut('old');
    expect(refresh).toHaveBeenCalledTimes(2);
  });

  it('does not remember a failed exchange', async () => {
    const refresh = jest
      .fn<Promise<SessionTokens>, [string]>()
      .mockRejectedValueOnce(new Error('accounts down'))
      .mockResolvedValueOnce({ accessToken: 'a', refreshToken: 'r' });
    const sut = createRefresher(refresh, { now });

    await expect(sut('old')).rejects.toThrow('accounts down');
    await expect(sut('old')).resolves.toEqual({ accessToken: 'a', refreshToken: 'r' });
    expect(refresh).toHaveBeenCalledTimes(2);
  });

  it('keeps different refresh tokens apart and bounds its memory', async () => {
    const refresh = jest.fn(async (t: string) => ({
      accessToken: `a-${t}`,
      refreshToken: `r-${t}`,
    }));
    const sut = createRefresher(refresh, { now, maxEntries: 2 });

    await expect(sut('one')).resolves.toEqual({ accessToken: 'a-one', refreshToken: 'r-one' });
    await expect(sut('two')).resolves.toEqual({ accessToken: 'a-two', refreshToken: 'r-two' });
    await sut('three'); // evicts "one"
    await sut('one');
    expect(refresh.mock.calls.map(([t]) => t)).toEqual(['one', 'two', 'three', 'one']);
  });
});
