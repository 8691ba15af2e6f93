import { randomBytes } from 'node:crypto';
import { SecretBox } from './secret-box';

describe('SecretBox', () => {
  const key = randomBytes(32).toString('base64');

  it('round-trips a secret and never leaves the plaintext in the envelope', () => {
    const sut = new SecretBox(key);
    const sealed = sut.seal('sk-live-123', 'channel-1');
    expect(sealed).not.toContain('sk-live-123');
    expect(sut.open(sealed, 'channel-1')).toBe('sk-live-123');
  });

  it('uses a fresh IV each time', () => {
    const sut = new SecretBox(key);
    expect(sut.seal('same')).not.toBe(sut.seal('same'));
  });

  it('refuses an envelope opened with other associated data', () => {
    const sut = new SecretBox(key);
    const sealed = sut.seal('sk', 'channel-1');
    expect(() => sut.open(sealed, 'channel-2')).toThrow();
  });

  it('refuses a tampered ciphertext', () => {
    const sut = new SecretBox(key);
    const parts = sut.seal('secret-value').split('.');
    const ct = Buffer.from(parts[3], 'base64url');
    ct[0] ^= 1;
    parts[3] = ct.toString('base64url');
    expect(() => sut.open(parts.join('.'))).toThrow();
  });

  it('refuses another key', () => {
    const sealed = new SecretBox(key).seal('x');
    expect(() => new SecretBox(randomBytes(32).toString('hex')).open(sealed)).toThrow();
  });

  it.each(['', 'c2hvcnQ=', 'z'.repeat(64)])('rejects key material %p', (material) => {
    expect(() => new SecretBox(material)).toThrow(/32 bytes/);
  });
});
