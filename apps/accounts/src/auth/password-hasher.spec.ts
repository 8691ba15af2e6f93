import { PasswordHasher } from './password-hasher';

describe('PasswordHasher', () => {
  const sut = new PasswordHasher({ ln: 14 });

  it('verifies the password it hashed and refuses another', async () => {
    const stored = await sut.hash('correct horse battery staple');

    await expect(sut.verify('correct horse battery staple', stored)).resolves.toBe(true);
    await expect(sut.verify('correct horse battery stapl', stored)).resolves.toBe(false);
  });

  it('stores the scheme, the parameters and a per-user salt in the hash string', async () => {
    const a = await sut.hash('same password');
    const b = await sut.hash('same password');

    expect(a).toMatch(/^\$scrypt\$ln=14,r=8,p=1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(a.split('$')[3]).not.toEqual(b.split('$')[3]);
    expect(a).not.toEqual(b);
    expect(a).not.toContain('same password');
  });

  it('verifies hashes made with other parameters and asks for a rehash', async () => {
    const old = await new PasswordHasher({ ln: 15, r: 4 }).hash('password one');

    await expect(sut.verify('password one', old)).resolves.toBe(true);
    expect(sut.needsRehash(old)).toBe(true);
    expect(sut.needsRehash(await sut.hash('password one'))).toBe(false);
  });

  it.each([
    ['empty', ''],
    ['another scheme', '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA'],
    ['absurd cost', '$scrypt$ln=40,r=8,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA=='],
    ['missing hash', '$scrypt$ln=14,r=8,p=1$c2FsdHNhbHRzYWx0$'],
  ])('refuses a malformed stored value (%s) without throwing', async (_label, stored) => {
    await expect(sut.verify('anything at all', stored)).resolves.toBe(false);
    expect(sut.needsRehash(stored)).toBe(true);
  });

  it('spends a verification on unknown users and answers false', async () => {
    await expect(sut.verifyAgainstDummy('whatever')).resolves.toBe(false);
  });
});
