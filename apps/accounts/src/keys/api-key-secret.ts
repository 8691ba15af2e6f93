import { createHash, randomBytes } from 'node:crypto';
import { API_KEY_PREFIX } from '@tollgate/contracts';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const API_KEY_RANDOM_LENGTH = 40;
/** `tg-` and the first 9 random characters: enough to recognise a key, useless to guess it. */
export const API_KEY_VISIBLE_LENGTH = 12;

/** Uniform base62 characters by rejection sampling (248 = 4 × 62, so no modulo bias). */
function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248) out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

export interface GeneratedApiKey {
  /** shown to the caller once */
  secret: string;
  prefix: string;
  /** sha256 hex of the secret: the only form stored */
  hash: string;
}

export function hashApiKeySecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function apiKeyPrefix(secret: string): string {
  return secret.slice(0, API_KEY_VISIBLE_LENGTH);
}

export function generateApiKey(): GeneratedApiKey {
  const secret = `${API_KEY_PREFIX}${randomBase62(API_KEY_RANDOM_LENGTH)}`;
  return { secret, prefix: apiKeyPrefix(secret), hash: hashApiKeySecret(secret) };
}
