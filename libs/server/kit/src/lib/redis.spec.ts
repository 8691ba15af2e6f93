import { bullConnection } from './redis';

describe('bullConnection', () => {
  it('parses host, port, credentials and database', () => {
    expect(bullConnection('redis://user:p%40ss@cache.internal:6380/3')).toMatchObject({
      host: 'cache.internal',
      port: 6380,
      username: 'user',
      password: 'p@ss',
      db: 3,
      maxRetriesPerRequest: null,
    });
  });

  it('defaults port and db and enables TLS for rediss', () => {
    const sut = bullConnection('rediss://127.0.0.1');
    expect(sut).toMatchObject({ port: 6379, db: 0 });
    expect(sut.tls).toEqual({});
  });
});
