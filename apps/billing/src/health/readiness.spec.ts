import { runReadinessChecks } from './readiness';

describe('runReadinessChecks', () => {
  it('reports nothing when every check passes', async () => {
    const sut = await runReadinessChecks([{ name: 'a', check: async () => undefined }]);
    expect(sut).toEqual({});
  });

  it('names each failing check with its reason', async () => {
    const sut = await runReadinessChecks([
      { name: 'ok', check: async () => undefined },
      { name: 'db', check: async () => Promise.reject(new Error('connection refused')) },
    ]);
    expect(sut).toEqual({ db: 'connection refused' });
  });

  it('fails a check that does not answer in time', async () => {
    const sut = await runReadinessChecks(
      [{ name: 'slow', check: () => new Promise<void>(() => undefined) }],
      20,
    );
    expect(sut).toEqual({ slow: 'no answer within 20 ms' });
  });
});
