import { GROUP_NAME_PATTERN, PASSWORD_MIN_LENGTH } from '@tollgate/contracts';
import {
  field,
  GROUP_RE,
  PASSWORD_MIN,
  parseExpiry,
  parseModels,
  validateKey,
  validateLogin,
  validateSignup,
  validateTenant,
} from './forms';

describe('form helpers', () => {
  it('mirror the contracts rules they restate', () => {
    expect(PASSWORD_MIN).toBe(PASSWORD_MIN_LENGTH);
    expect(GROUP_RE.source).toBe(GROUP_NAME_PATTERN.source);
  });

  it('read trimmed strings and treat files and absent fields as empty', () => {
    const form = new FormData();
    form.set('name', '  Acme  ');
    form.set('file', new Blob(['x']), 'x.txt');
    expect(field(form, 'name')).toBe('Acme');
    expect(field(form, 'file')).toBe('');
    expect(field(form, 'missing')).toBe('');
  });
});

describe('validateSignup', () => {
  it('accepts a complete signup', () => {
    expect(
      validateSignup({
        email: 'a@example.com',
        password: 'correct horse',
        organisationName: 'Acme',
      }),
    ).toEqual([]);
  });

  it('lists every problem at once', () => {
    const sut = validateSignup({ email: 'nope', password: 'short', organisationName: '' });
    expect(sut).toEqual([
      'Enter a valid email address.',
      'Password must be at least 10 characters.',
      'Organisation name is required.',
    ]);
  });

  it('requires email and password to log in', () => {
    expect(validateLogin({ email: '', password: '' })).toEqual([
      'Email is required.',
      'Password is required.',
    ]);
  });
});

describe('validateTenant', () => {
  it('accepts a name with or without a valid group', () => {
    expect(validateTenant({ name: 'Support bot', group: '' })).toEqual([]);
    expect(validateTenant({ name: 'Support bot', group: 'internal-tools' })).toEqual([]);
  });

  it('refuses a missing name and a malformed group', () => {
    expect(validateTenant({ name: '', group: 'Internal Tools' })).toHaveLength(2);
  });
});

describe('parseModels', () => {
  it('splits on commas and whitespace and drops duplicates', () => {
    expect(parseModels('gpt-4o-mini, gpt-4o\nclaude-3-haiku,,gpt-4o')).toEqual([
      'gpt-4o-mini',
      'gpt-4o',
      'claude-3-haiku',
    ]);
  });

  it('reads blank as every model', () => {
    expect(parseModels('  ,  ')).toBeUndefined();
  });
});

describe('parseExpiry', () => {
  const now = new Date('2026-11-23T12:00:00Z');

  it('reads a blank date as never', () => {
    expect(parseExpiry('', now)).toEqual({ ok: true });
  });

  it('turns a date into the end of that day in UTC', () => {
    expect(parseExpiry('2026-12-31', now)).toEqual({ ok: true, value: '2026-12-31T23:59:59.000Z' });
    expect(parseExpiry('2026-11-23', now)).toEqual({ ok: true, value: '2026-11-23T23:59:59.000Z' });
  });

  it.each([['2026-11-22'], ['2026-02-30'], ['tomorrow'], ['2026-1-5']])('refuses %p', (raw) => {
    expect(parseExpiry(raw, now).ok).toBe(false);
  });
});

describe('validateKey', () => {
  it('needs a name and bounds the allowlist', () => {
    expect(validateKey({ name: 'ci', models: undefined })).toEqual([]);
    expect(validateKey({ name: '', models: undefined })).toEqual(['Key name is required.']);
    expect(
      validateKey({ name: 'ci', models: Array.from({ length: 201 }, (_, i) => `m${i}`) }),
    ).toHaveLength(1);
  });
});
