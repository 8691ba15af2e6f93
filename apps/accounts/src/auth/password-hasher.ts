import { randomBytes, scrypt, type ScryptOptions, timingSafeEqual } from 'node:crypto';

export interface ScryptParams {
  /** log2 of the CPU/memory cost N */
  ln: number;
  /** block size */
  r: number;
  /** parallelisation */
  p: number;
}

const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
const SCHEME = 'scrypt';
/** Accepted when verifying stored hashes, so a tampered row cannot ask for absurd work. */
const BOUNDS = { ln: [10, 22], r: [1, 32], p: [1, 16] } as const;

function scryptAsync(
  password: string,
  salt: Buffer,
  params: ScryptParams,
  keyLength: number,
): Promise<Buffer> {
  const N = 2 ** params.ln;
  const options: ScryptOptions = {
    N,
    r: params.r,
    p: params.p,
    maxmem: 128 * N * params.r * params.p + 32 * 1024 * 1024,
  };
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, keyLength, options, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

interface ParsedHash {
  params: ScryptParams;
  salt: Buffer;
  hash: Buffer;
}

function parse(stored: string): ParsedHash | null {
  const parts = stored.split('$');
  if (parts.length !== 5 || parts[0] !== '' || parts[1] !== SCHEME) return null;
  const m = /^ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})$/.exec(parts[2] ?? '');
  if (!m) return null;
  const params = { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  for (const k of ['ln', 'r', 'p'] as const) {
    if (params[k] < BOUNDS[k][0] || params[k] > BOUNDS[k][1]) return null;
  }
  const salt = Buffer.from(parts[3] ?? '', 'base64');
  const hash = Buffer.from(parts[4] ?? '', 'base64');
  if (salt.length < 8 || hash.length < 16 || hash.length > 64) return null;
  return { params, salt, hash };
}

/**
 * scrypt password hashes (memory-hard, node:crypto) in a self-describing string:
 * `$scrypt$ln=16,r=8,p=1$<salt b64>$<hash b64>`, so the cost can be raised later and old hashes
 * still verify (and are upgraded at the next login, see `needsRehash`).
 */
export class PasswordHasher {
  private readonly params: ScryptParams;
  private dummy?: Promise<string>;

  constructor(params: Partial<ScryptParams> = {}) {
    this.params = { ln: params.ln ?? 16, r: params.r ?? 8, p: params.p ?? 1 };
  }

  async hash(password: string): Promise<string> {
    const salt = randomBytes(SALT_LENGTH);
    const key = await scryptAsync(password, salt, this.params, KEY_LENGTH);
    const { ln, r, p } = this.params;
    return `$${SCHEME}$ln=${ln},r=${r},p=${p}$${salt.toString('base64')}$${key.toString('base64')}`;
  }

  /** Constant-time comparison; false (never a throw) for a malformed stored value. */
  async verify(password: string, stored: string): Promise<boolean> {
    const parsed = parse(stored);
    if (!parsed) return false;
    const key = await scryptAsync(password, parsed.salt, parsed.params, parsed.hash.length);
    return timingSafeEqual(key, parsed.hash);
  }

  /** Spends the same time as a real verification, for logins of unknown users. */
  async verifyAgainstDummy(password: string): Promise<false> {
    this.dummy ??= this.hash(randomBytes(16).toString('hex'));
    await this.verify(password, await this.dummy);
    return false;
  }

  needsRehash(stored: string): boolean {
    const parsed = parse(stored);
    if (!parsed) return true;
    const { ln, r, p } = parsed.params;
    return (
      ln !== this.params.ln ||
      r !== this.params.r ||
      p !== this.params.p ||
      parsed.hash.length !== KEY_LENGTH
    );
  }
}
