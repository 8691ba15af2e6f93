/**
 * Budgets and rate limits as the portal's forms handle them: reading the six fields of a limits form
 * into the body of `PUT …/limits`, the checks that mirror `UpdateLimitsRequestDto` (so the common
 * mistakes get a message without a round trip) and the arithmetic for "spent of budget". Money stays
 * a decimal string (or bigint nano-USD for a comparison): it is never a JavaScript number.
 */
import type { LimitsResponseDto } from '@tollgate/contracts';
import type { FormValues } from './forms';

// Restated from @tollgate/contracts (the portal imports only types from there); a unit test pins them.
export const USD_RE = /^(0|[1-9]\d{0,11})(\.\d{1,9})?$/;
export const LIMIT_MAX = { rpm: 1_000_000_000, tpm: 1_000_000_000_000, maxConcurrent: 1_000_000 };
export const MODEL_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}$/;

export type BudgetField = 'dailyBudgetUsd' | 'monthlyBudgetUsd' | 'totalBudgetUsd';
export type CountField = 'rpm' | 'tpm' | 'maxConcurrent';
export type LimitField = BudgetField | CountField;

export const BUDGET_FIELDS: readonly BudgetField[] = [
  'dailyBudgetUsd',
  'monthlyBudgetUsd',
  'totalBudgetUsd',
];
export const COUNT_FIELDS: readonly CountField[] = ['rpm', 'tpm', 'maxConcurrent'];
export const LIMIT_FIELDS: readonly LimitField[] = [...BUDGET_FIELDS, ...COUNT_FIELDS];

/** How each field is named to people (labels and messages). */
export const LIMIT_LABELS: Readonly<Record<LimitField, string>> = {
  dailyBudgetUsd: 'Daily budget',
  monthlyBudgetUsd: 'Monthly budget',
  totalBudgetUsd: 'Total budget',
  rpm: 'Requests per minute',
  tpm: 'Tokens per minute',
  maxConcurrent: 'Concurrent requests',
};

/** The body of `PUT …/limits` from a form: every field sent, `null` (blank) clearing it. */
export type LimitsUpdate = LimitsResponseDto;

export type ParsedLimits = { ok: true; body: LimitsUpdate } | { ok: false; errors: string[] };

/**
 * A USD amount typed by a person: surrounding blanks and one leading `$` are allowed. Returns the
 * decimal string the API expects, or null when it is not one.
 */
export function normaliseUsd(raw: string): string | null {
  const v = raw.trim().replace(/^\$\s*/, '');
  return USD_RE.test(v) ? v : null;
}

function parseCount(raw: string, max: number): number | null {
  const v = raw.trim();
  if (!/^\d{1,13}$/.test(v)) return null;
  const n = Number(v);
  return Number.isSafeInteger(n) && n <= max ? n : null;
}

/** "1000000" → "1,000,000", for messages. */
function grouped(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * Reads the six limit fields. A blank field means "no limit" and clears it (the form shows every
 * setting, so what is saved is what was on the screen); `0` is a real limit that admits nothing.
 */
export function parseLimits(values: FormValues): ParsedLimits {
  const errors: string[] = [];
  const body: LimitsUpdate = {
    dailyBudgetUsd: null,
    monthlyBudgetUsd: null,
    totalBudgetUsd: null,
    rpm: null,
    tpm: null,
    maxConcurrent: null,
  };
  for (const f of BUDGET_FIELDS) {
    const raw = (values[f] ?? '').trim();
    if (raw === '') continue;
    const usd = normaliseUsd(raw);
    if (usd === null) {
      errors.push(
        `${LIMIT_LABELS[f]} must be an amount of US dollars such as 250 or 12.50 (no thousands separators, at most 9 decimal places), got “${raw}”.`,
      );
    } else {
      body[f] = usd;
    }
  }
  for (const f of COUNT_FIELDS) {
    const raw = (values[f] ?? '').trim();
    if (raw === '') continue;
    const n = parseCount(raw, LIMIT_MAX[f]);
    if (n === null) {
      errors.push(
        `${LIMIT_LABELS[f]} must be a whole number from 0 to ${grouped(LIMIT_MAX[f])}, got “${raw}”.`,
      );
    } else {
      body[f] = n;
    }
  }
  return errors.length ? { ok: false, errors } : { ok: true, body };
}

/** The form's initial values from the current settings (blank = unlimited). */
export function limitsToValues(limits: LimitsResponseDto): FormValues {
  const values: FormValues = {};
  for (const f of BUDGET_FIELDS) values[f] = limits[f] ?? '';
  for (const f of COUNT_FIELDS) {
    const n = limits[f];
    values[f] = n === null ? '' : String(n);
  }
  return values;
}

const NANO_PER_USD = 1_000_000_000n;

/** A non-negative decimal USD string as bigint nano-USD; null when it is not one. */
export function usdToNano(decimal: string): bigint | null {
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(decimal.trim());
  if (!m) return null;
  const [, int = '0', frac = ''] = m;
  return BigInt(int) * NANO_PER_USD + BigInt(frac.padEnd(9, '0'));
}

/**
 * How much of a budget is used, in whole percent rounded down (so 100 means really reached), or
 * null when either amount is unreadable. A zero budget is fully used.
 */
export function percentUsed(usedUsd: string, budgetUsd: string): number | null {
  const used = usdToNano(usedUsd);
  const budget = usdToNano(budgetUsd);
  if (used === null || budget === null) return null;
  if (budget === 0n) return 100;
  return Number((used * 100n) / budget);
}

/** The sum of two decimal USD strings, as a decimal string (spent plus reserved). */
export function addUsd(a: string, b: string): string | null {
  const x = usdToNano(a);
  const y = usdToNano(b);
  if (x === null || y === null) return null;
  const sum = x + y;
  const int = sum / NANO_PER_USD;
  const frac = (sum % NANO_PER_USD).toString().padStart(9, '0').replace(/0+$/, '');
  return frac ? `${int}.${frac}` : `${int}`;
}

/** A non-null rate limit, with thousands separators; "unlimited" otherwise. */
export function formatLimitCount(n: number | null): string {
  return n === null ? 'unlimited' : grouped(n);
}

// Mirrors the pattern of UpdateOrganisationRequestDto.billingTimeZone.
const TIME_ZONE_RE = /^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/;

/** Whether the runtime knows the IANA time zone (accounts checks it the same way). */
export function isTimeZone(tz: string): boolean {
  if (!TIME_ZONE_RE.test(tz)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Time zones offered in the picker: UTC first, then the runtime's list. */
export function timeZoneChoices(): string[] {
  const zones =
    typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  return ['UTC', ...zones.filter((z) => z !== 'UTC')];
}

export interface OrgSettingsUpdate {
  billingTimeZone: string;
  admissionFailOpen: boolean;
}

/** The organisation settings form: a time zone and the fail-open checkbox. */
export function parseOrgSettings(
  values: FormValues,
): { ok: true; body: OrgSettingsUpdate } | { ok: false; errors: string[] } {
  const tz = (values.billingTimeZone ?? '').trim();
  if (!tz) return { ok: false, errors: ['Billing time zone is required (for example UTC).'] };
  if (!isTimeZone(tz)) {
    return {
      ok: false,
      errors: [`Billing time zone must be an IANA time zone such as Europe/Berlin, got “${tz}”.`],
    };
  }
  return {
    ok: true,
    body: { billingTimeZone: tz, admissionFailOpen: values.admissionFailOpen === 'on' },
  };
}

/** The model name of a per-model limit, as accounts accepts it; the errors name the field. */
export function parseModelName(
  raw: string,
): { ok: true; model: string } | { ok: false; error: string } {
  const model = raw.trim();
  if (!MODEL_NAME_RE.test(model)) {
    const what = model === '' ? 'is required' : `“${model.slice(0, 60)}” is not a model name`;
    return {
      ok: false,
      error: `Model ${what}: 1 to 200 characters, a letter or digit first, then letters, digits or . _ : / @ + -`,
    };
  }
  return { ok: true, model };
}

/**
 * The messages of a refused form that concern one field, to show next to it: the portal's own start
 * with the field's label, the API's (class-validator) with its property name.
 */
export function errorsForField(errors: readonly string[] | undefined, field: LimitField): string[] {
  if (!errors) return [];
  return errors.filter((e) => e.startsWith(`${field} `) || e.startsWith(`${LIMIT_LABELS[field]} `));
}
