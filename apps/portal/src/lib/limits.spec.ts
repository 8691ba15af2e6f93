import {
  MAX_CONCURRENT,
  MAX_RPM,
  MAX_TPM,
  MODEL_LIMIT_NAME_PATTERN,
  USD_DECIMAL_PATTERN,
} from '@tollgate/contracts';
import {
  addUsd,
  errorsForField,
  formatLimitCount,
  isTimeZone,
  LIMIT_MAX,
  limitsToValues,
  normaliseUsd,
  parseLimits,
  parseOrgSettings,
  percentUsed,
  timeZoneChoices,
  USD_RE,
  MODEL_NAME_RE,
  parseModelName,
  usdToNano,
} from './limits';

const blank = {
  dailyBudgetUsd: '',
  monthlyBudgetUsd: '',
  totalBudgetUsd: '',
  rpm: '',
  tpm: '',
  maxConcurrent: '',
};

describe('limits helpers', () => {
  it('mirror the contracts rules they restate', () => {
    expect(USD_RE.source).toBe(USD_DECIMAL_PATTERN.source);
    expect(MODEL_NAME_RE.source).toBe(MODEL_LIMIT_NAME_PATTERN.source);
    expect(LIMIT_MAX).toEqual({ rpm: MAX_RPM, tpm: MAX_TPM, maxConcurrent: MAX_CONCURRENT });
  });
});

describe('parseLimits', () => {
  it('sends every field, blank ones as null (no limit)', () => {
    const sut = parseLimits({ ...blank, monthlyBudgetUsd: ' 250 ', rpm: '60' });
    expect(sut).toEqual({
      ok: true,
      body: {
        dailyBudgetUsd: null,
        monthlyBudgetUsd: '250',
        totalBudgetUsd: null,
        rpm: 60,
        tpm: null,
        maxConcurrent: null,
      },
    });
  });

  it('keeps amounts as the decimal strings typed, allowing a leading $', () => {
    const sut = parseLimits({ ...blank, dailyBudgetUsd: '$12.50', totalBudgetUsd: '0.000000001' });
    expect(sut.ok && sut.body.dailyBudgetUsd).toBe('12.50');
    expect(sut.ok && sut.body.totalBudgetUsd).toBe('0.000000001');
  });

  it('treats 0 as a real limit, not as no limit', () => {
    const sut = parseLimits({ ...blank, dailyBudgetUsd: '0', maxConcurrent: '0' });
    expect(sut.ok && [sut.body.dailyBudgetUsd, sut.body.maxConcurrent]).toEqual(['0', 0]);
  });

  it('names each refused field with the value that was typed', () => {
    const sut = parseLimits({
      ...blank,
      monthlyBudgetUsd: '-5',
      dailyBudgetUsd: '1,000',
      totalBudgetUsd: '1.0000000001',
      rpm: '2.5',
      tpm: 'lots',
      maxConcurrent: String(MAX_CONCURRENT + 1),
    });
    expect(sut.ok).toBe(false);
    const errors = sut.ok ? [] : sut.errors;
    expect(errors).toHaveLength(6);
    expect(errors[0]).toMatch(/^Daily budget must be an amount of US dollars .*“1,000”/);
    expect(errors[1]).toMatch(/^Monthly budget must be an amount of US dollars .*“-5”/);
    expect(errors[2]).toMatch(/^Total budget must be/);
    expect(errors[3]).toBe(
      'Requests per minute must be a whole number from 0 to 1,000,000,000, got “2.5”.',
    );
    expect(errors[4]).toMatch(/^Tokens per minute must be a whole number .*“lots”/);
    expect(errors[5]).toMatch(/^Concurrent requests must be a whole number from 0 to 1,000,000,/);
  });

  it('accepts the largest values the API accepts', () => {
    const sut = parseLimits({
      ...blank,
      totalBudgetUsd: '999999999999.999999999',
      rpm: String(MAX_RPM),
      tpm: String(MAX_TPM),
      maxConcurrent: String(MAX_CONCURRENT),
    });
    expect(sut.ok).toBe(true);
    expect(normaliseUsd('1000000000000')).toBeNull();
  });
});

describe('limitsToValues', () => {
  it('shows unset limits as blank fields and set ones as typed text', () => {
    expect(
      limitsToValues({
        dailyBudgetUsd: null,
        monthlyBudgetUsd: '250',
        totalBudgetUsd: null,
        rpm: 0,
        tpm: null,
        maxConcurrent: 4,
      }),
    ).toEqual({ ...blank, monthlyBudgetUsd: '250', rpm: '0', maxConcurrent: '4' });
  });
});

describe('money arithmetic', () => {
  it('converts decimal dollars to nano-USD exactly', () => {
    expect(usdToNano('0.1')).toBe(100_000_000n);
    expect(usdToNano('123456789012.123456789')).toBe(123_456_789_012_123_456_789n);
    expect(usdToNano('1.0000000001')).toBeNull();
    expect(usdToNano('abc')).toBeNull();
  });

  it('rounds the percentage used down, so 100 means reached', () => {
    expect(percentUsed('0.1', '0.3')).toBe(33);
    expect(percentUsed('99.999999999', '100')).toBe(99);
    expect(percentUsed('100', '100')).toBe(100);
    expect(percentUsed('250', '100')).toBe(250);
    expect(percentUsed('0', '0')).toBe(100);
    expect(percentUsed('x', '1')).toBeNull();
  });

  it('adds amounts without floating point error', () => {
    expect(addUsd('0.1', '0.2')).toBe('0.3');
    expect(addUsd('1.5', '2.5')).toBe('4');
    expect(addUsd('0.000000001', '0')).toBe('0.000000001');
    expect(addUsd('1', '-1')).toBeNull();
  });

  it('formats rate limits', () => {
    expect(formatLimitCount(null)).toBe('unlimited');
    expect(formatLimitCount(0)).toBe('0');
    expect(formatLimitCount(1_500_000)).toBe('1,500,000');
  });
});

describe('errorsForField', () => {
  it('picks the portal’s and the API’s messages about one field', () => {
    const errors = [
      'Monthly budget must be an amount of US dollars …',
      'monthlyBudgetUsd must be a non-negative decimal string',
      'rpm must not be less than 0',
      'tpm must be an integer number',
    ];
    expect(errorsForField(errors, 'monthlyBudgetUsd')).toEqual(errors.slice(0, 2));
    expect(errorsForField(errors, 'rpm')).toEqual(['rpm must not be less than 0']);
    expect(errorsForField(errors, 'dailyBudgetUsd')).toEqual([]);
    expect(errorsForField(undefined, 'rpm')).toEqual([]);
  });
});

describe('organisation settings', () => {
  it('knows IANA time zones and refuses others', () => {
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Europe/Berlin')).toBe(true);
    expect(isTimeZone('Mars/Olympus_Mons')).toBe(false);
    expect(isTimeZone('Europe/Berlin; DROP')).toBe(false);
  });

  it('offers UTC first and each zone once', () => {
    const sut = timeZoneChoices();
    expect(sut[0]).toBe('UTC');
    expect(sut).toContain('Europe/Berlin');
    expect(new Set(sut).size).toBe(sut.length);
  });

  it('reads the time zone and the fail-open checkbox', () => {
    expect(parseOrgSettings({ billingTimeZone: ' Asia/Tokyo ', admissionFailOpen: 'on' })).toEqual({
      ok: true,
      body: { billingTimeZone: 'Asia/Tokyo', admissionFailOpen: true },
    });
    expect(parseOrgSettings({ billingTimeZone: 'UTC', admissionFailOpen: '' })).toEqual({
      ok: true,
      body: { billingTimeZone: 'UTC', admissionFailOpen: false },
    });
    expect(parseOrgSettings({ billingTimeZone: 'Nowhere/Land' })).toEqual({
      ok: false,
      errors: [
        'Billing time zone must be an IANA time zone such as Europe/Berlin, got “Nowhere/Land”.',
      ],
    });
    expect(parseOrgSettings({ billingTimeZone: '' }).ok).toBe(false);
  });
});

describe('parseModelName', () => {
  it('takes the model names accounts accepts and names the field otherwise', () => {
    expect(parseModelName(' meta-llama/Llama-3.1-8B ')).toEqual({
      ok: true,
      model: 'meta-llama/Llama-3.1-8B',
    });
    const empty = parseModelName('');
    expect(empty).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^Model is required/) as unknown,
    });
    expect(parseModelName('-x')).toMatchObject({ ok: false });
    expect(parseModelName('a b')).toMatchObject({ ok: false });
  });
});
