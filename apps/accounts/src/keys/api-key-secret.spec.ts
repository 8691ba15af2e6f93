import { createHash } from 'node:crypto';
import { apiKeyPrefix, generateApiKey, hashApiKeySecret } from './api-key-secret';

describe('api key secrets', () => {
  describe('generateApiKey', () => {
    it('makes tg- followed by 40 base62 characters', () => {
      const sut = generateApiKey();

      expect(sut.secret).toMatch(/^tg-[0-9A-Za-z]{40}$/);
    });

    it('shows the first 12 characters as the prefix and stores the sha256 hex of the whole secret', () => {
      const sut = generateApiKey();

      expect(sut.prefix).toBe(sut.secret.slice(0, 12));
      expect(sut.prefix.startsWith('tg-')).toBe(true);
      expect(sut.hash).toBe(createHash('sha256').update(sut.secret).digest('hex'));
      expect(sut.hash).toMatch(/^[0-9a-f]{64}$/);
    });

    it('never repeats a secret and uses the whole alphabet', () => {
      const secrets = Array.from({ length: 500 }, () => generateApiKey().secret);
      const chars = new Set(secrets.join('').slice(0).replace(/tg-/g, ''));

      expect(new Set(secrets).size).toBe(secrets.length);
      expect(chars.size).toBe(62);
    });
  });

  describe('hashApiKeySecret', () => {
    it('is deterministic and differs for different secrets', () => {
      expect(hashApiKeySecret('tg-abc')).toBe(hashApiKeySecret('tg-abc'));
      expect(hashApiKeySecret('tg-abc')).not.toBe(hashApiKeySecret('tg-abd'));
    });
  });

  describe('apiKeyPrefix', () => {
    it('takes the first 12 characters', () => {
      expect(apiKeyPrefix('tg-AbC123xyZ9restofthekey')).toBe('tg-AbC123xyZ');
    });
  });
});
