import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 'v1';

/**
 * AES-256-GCM envelope for provider credentials at rest: `v1.<iv>.<tag>.<ciphertext>` (base64url).
 * The key is 32 bytes from the environment (`TOLLGATE_ENCRYPTION_KEY`, base64 or 64 hex chars).
 */
export class SecretBox {
  private readonly key: Buffer;

  constructor(keyMaterial: string) {
    this.key = SecretBox.parseKey(keyMaterial);
  }

  static parseKey(material: string): Buffer {
    const hex = /^[0-9a-fA-F]{64}$/.test(material) ? Buffer.from(material, 'hex') : null;
    const key = hex ?? Buffer.from(material, 'base64');
    if (key.length !== 32) throw new Error('encryption key must be 32 bytes (base64 or 64 hex characters)');
    return key;
  }

  seal(plaintext: string, associatedData = ''): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(associatedData));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, iv.toString('base64url'), tag.toString('base64url'), ct.toString('base64url')].join('.');
  }

  open(envelope: string, associatedData = ''): string {
    const [version, iv, tag, ct] = envelope.split('.');
    if (version !== VERSION || !iv || !tag || ct === undefined) throw new Error('malformed secret envelope');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(associatedData));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
  }
}
