import { createHash } from 'node:crypto';
import { ChannelType, extraHeadersProblems } from '@tollgate/contracts';
import {
  type ChannelSettings,
  channelSettingsProblems,
  credentialFingerprint,
  normaliseExtraHeaders,
} from './channel-settings';

const settings = (overrides: Partial<ChannelSettings> = {}): ChannelSettings => ({
  type: ChannelType.OpenAI,
  apiVersion: null,
  connectTimeoutMs: null,
  firstByteTimeoutMs: null,
  totalTimeoutMs: null,
  ...overrides,
});

describe('channelSettingsProblems', () => {
  it('accepts an openai channel without settings', () => {
    expect(channelSettingsProblems(settings())).toEqual([]);
  });

  it('requires an api-version for azure and refuses one elsewhere', () => {
    expect(channelSettingsProblems(settings({ type: ChannelType.Azure }))).toEqual([
      expect.stringContaining('apiVersion is required'),
    ]);
    expect(
      channelSettingsProblems(settings({ type: ChannelType.Azure, apiVersion: '2024-10-21' })),
    ).toEqual([]);
    expect(
      channelSettingsProblems(settings({ type: ChannelType.Gemini, apiVersion: '2024-10-21' })),
    ).toEqual(['apiVersion applies to azure channels only']);
  });

  it('refuses a first-byte or connect timeout longer than the total', () => {
    expect(
      channelSettingsProblems(
        settings({ connectTimeoutMs: 5_000, firstByteTimeoutMs: 9_000, totalTimeoutMs: 4_000 }),
      ),
    ).toEqual([
      'firstByteTimeoutMs must not exceed totalTimeoutMs',
      'connectTimeoutMs must not exceed totalTimeoutMs',
    ]);
    expect(
      channelSettingsProblems(settings({ firstByteTimeoutMs: 9_000, totalTimeoutMs: null })),
    ).toEqual([]);
  });
});

describe('extraHeadersProblems', () => {
  it('accepts ordinary headers', () => {
    expect(
      extraHeadersProblems({ 'OpenAI-Organization': 'org-1', 'anthropic-beta': 'a, b' }),
    ).toEqual([]);
  });

  it.each([
    ['Authorization', 'Bearer x'],
    ['api-key', 'x'],
    ['X-Api-Key', 'x'],
    ['x-goog-api-key', 'x'],
    ['Connection', 'close'],
    ['transfer-encoding', 'chunked'],
    ['Host', 'evil.test'],
    ['proxy-anything', 'x'],
  ])('refuses to let %s be overridden', (name, value) => {
    expect(extraHeadersProblems({ [name]: value })).toEqual([
      expect.stringContaining('cannot be overridden'),
    ]);
  });

  it('refuses bad names, bad values, duplicates and too many', () => {
    expect(extraHeadersProblems({ 'bad name': 'x' })[0]).toContain('not a header name');
    expect(extraHeadersProblems({ 'x-a': 'line\r\nx-injected: 1' })[0]).toContain('visible ASCII');
    expect(extraHeadersProblems({ 'x-a': '' })[0]).toContain('visible ASCII');
    expect(extraHeadersProblems({ 'x-a': 5 })[0]).toContain('visible ASCII');
    expect(extraHeadersProblems({ 'x-a': 'é' })[0]).toContain('visible ASCII');
    expect(extraHeadersProblems({ 'X-A': '1', 'x-a': '2' })).toEqual([
      'extraHeaders: x-a is given twice',
    ]);
    const many = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`x-h${i}`, 'v']));
    expect(extraHeadersProblems(many)).toContain('extraHeaders must have at most 20 entries');
    const big = Object.fromEntries(
      Array.from({ length: 5 }, (_, i) => [`x-h${i}`, 'v'.repeat(1900)]),
    );
    expect(extraHeadersProblems(big)).toEqual([expect.stringContaining('at most 8192')]);
    expect(extraHeadersProblems(['x'])).toEqual([expect.stringContaining('must be an object')]);
  });
});

describe('normaliseExtraHeaders', () => {
  it('lower-cases names and keeps values', () => {
    expect(normaliseExtraHeaders({ 'X-Trace': 'On' })).toEqual({ 'x-trace': 'On' });
    expect(normaliseExtraHeaders(null)).toEqual({});
  });
});

describe('credentialFingerprint', () => {
  it('is the first 16 base64url characters of the sealed credential sha256', () => {
    const sealed = 'v1.sealed.credential';
    const expected = createHash('sha256').update(sealed).digest('base64url').slice(0, 16);

    expect(credentialFingerprint(sealed)).toBe(expected);
    expect(credentialFingerprint(sealed)).toHaveLength(16);
    expect(credentialFingerprint(`${sealed}x`)).not.toBe(expected);
  });
});
