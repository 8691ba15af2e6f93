/**
 * Redis key layout of admission state. Every key of one organisation carries the hash tag
 * `{org:<orgId>}`, so the admission script for a request touches one Redis Cluster slot:
 *
 * ```
 * <P>adm:{org:O}:<S>:lim               hash   limit settings of scope S (absent field = unlimited)
 * <P>adm:{org:O}:<S>:c                 hash   counters: the current and the previous day and month window
 *                                              ({id, spent, reserved} each), the total {spent, reserved}, the
 *                                              requests in flight, and the rate window's sums and the bucket being
 *                                              filled (see admission.lua.ts)
 * <P>adm:{org:O}:<S>:rb                hash   the rate window's older one-second buckets: `r<index>` requests,
 *                                              `t<index>` tokens (index = epoch ms / 1000), while the scope has an
 *                                              rpm or a tpm limit
 * <P>adm:{org:O}:bal                   string prepaid balance of the organisation (absent = not prepaid)
 * <P>adm:{org:O}:tz                    string the organisation's billing time zone (IANA), for readers
 *                                              that only know the org id (billing's alerts, reconciliation)
 * <P>adm:{org:O}:r:<reservationId>     hash   the reservation record
 * <P>adm:{org:O}:rexp                  zset   reservation id → expiry (ms), for the sweeper
 * <P>adm:sweep                         zset   org id → latest reservation expiry (index of orgs to sweep;
 *                                              never touched by a script, so it needs no tag)
 * ```
 *
 * `<P>` is the configurable prefix (`tg:`), `<S>` is `o` (the organisation), `t:<tenantId>`,
 * `k:<keyId>`, or one public model on a tenant or key: `tm:<tenantId>:<M>` / `km:<keyId>:<M>` with
 * `<M>` the base64url (no padding) of the model name's UTF-8 bytes. Money is a decimal string of
 * nano-USD.
 */

export type AdmissionScope =
  | { kind: 'org'; orgId: string }
  | { kind: 'tenant'; orgId: string; tenantId: string }
  | { kind: 'key'; orgId: string; keyId: string };

export type AdmissionScopeKind = AdmissionScope['kind'];

/** Limits on one public model name of a key or a tenant (optional, on top of the key's/tenant's). */
export type AdmissionModelScope =
  | { kind: 'key-model'; orgId: string; keyId: string; model: string }
  | { kind: 'tenant-model'; orgId: string; tenantId: string; model: string };

/** Every scope the store keeps limits and counters for. */
export type AnyAdmissionScope = AdmissionScope | AdmissionModelScope;
export type AnyAdmissionScopeKind = AnyAdmissionScope['kind'];

/** Ids end up inside key names: keep them to a safe alphabet (uuids, request ids). */
const ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function assertAdmissionId(what: string, id: string): void {
  if (!ID.test(id)) throw new RangeError(`${what} must match ${ID.source}`);
}

/** Longest public model name the store accepts, in UTF-8 bytes. */
export const MAX_ADMISSION_MODEL_BYTES = 256;

/** Model names end up (base64url-encoded) inside key names: any printable text, 1–256 bytes. */
export function assertAdmissionModel(model: string): void {
  if (typeof model !== 'string') throw new TypeError('model must be a string');
  const bytes = Buffer.byteLength(model, 'utf8');
  if (bytes < 1 || bytes > MAX_ADMISSION_MODEL_BYTES || /[\u0000-\u001f\u007f]/.test(model))
    throw new RangeError(
      `model must be 1 to ${MAX_ADMISSION_MODEL_BYTES} bytes without control characters`,
    );
}

/** Whether `model` can name a per-model scope (see `assertAdmissionModel`). */
export function isAdmissionModel(model: string): boolean {
  try {
    assertAdmissionModel(model);
    return true;
  } catch {
    return false;
  }
}

/** The model name as it appears in key names: base64url of its UTF-8 bytes, without padding. */
export const encodeAdmissionModel = (model: string): string =>
  Buffer.from(model, 'utf8').toString('base64url');

export function decodeAdmissionModel(encoded: string): string | undefined {
  if (!/^[A-Za-z0-9_-]{2,}$/.test(encoded)) return undefined;
  const model = Buffer.from(encoded, 'base64url').toString('utf8');
  // only the canonical encoding names a model (no trailing bits, valid UTF-8)
  return encodeAdmissionModel(model) === encoded ? model : undefined;
}

export function assertAdmissionPrefix(prefix: string): void {
  // A brace in the prefix would become the hash tag instead of `{org:…}`.
  if (/[{}]/.test(prefix)) throw new RangeError('the admission key prefix must not contain braces');
}

export const orgTag = (orgId: string): string => `{org:${orgId}}`;

export function scopeSegment(scope: AnyAdmissionScope): string {
  switch (scope.kind) {
    case 'org':
      return 'o';
    case 'tenant':
      return `t:${scope.tenantId}`;
    case 'key':
      return `k:${scope.keyId}`;
    case 'tenant-model':
      return `tm:${scope.tenantId}:${encodeAdmissionModel(scope.model)}`;
    case 'key-model':
      return `km:${scope.keyId}:${encodeAdmissionModel(scope.model)}`;
  }
}

/** Checks the ids (and model) of a scope before they go into key names. */
export function assertAdmissionScope(scope: AnyAdmissionScope): void {
  assertAdmissionId('orgId', scope.orgId);
  switch (scope.kind) {
    case 'org':
      return;
    case 'tenant':
      return assertAdmissionId('tenantId', scope.tenantId);
    case 'key':
      return assertAdmissionId('keyId', scope.keyId);
    case 'tenant-model':
      assertAdmissionId('tenantId', scope.tenantId);
      return assertAdmissionModel(scope.model);
    case 'key-model':
      assertAdmissionId('keyId', scope.keyId);
      return assertAdmissionModel(scope.model);
  }
}

export const admissionKeys = {
  orgBase: (prefix: string, orgId: string): string => `${prefix}adm:${orgTag(orgId)}:`,
  limits: (prefix: string, scope: AnyAdmissionScope): string =>
    `${admissionKeys.orgBase(prefix, scope.orgId)}${scopeSegment(scope)}:lim`,
  counters: (prefix: string, scope: AnyAdmissionScope): string =>
    `${admissionKeys.orgBase(prefix, scope.orgId)}${scopeSegment(scope)}:c`,
  rateBuckets: (prefix: string, scope: AnyAdmissionScope): string =>
    `${admissionKeys.orgBase(prefix, scope.orgId)}${scopeSegment(scope)}:rb`,
  balance: (prefix: string, orgId: string): string => `${admissionKeys.orgBase(prefix, orgId)}bal`,
  timeZone: (prefix: string, orgId: string): string => `${admissionKeys.orgBase(prefix, orgId)}tz`,
  reservation: (prefix: string, orgId: string, reservationId: string): string =>
    `${admissionKeys.orgBase(prefix, orgId)}r:${reservationId}`,
  reservationExpiries: (prefix: string, orgId: string): string =>
    `${admissionKeys.orgBase(prefix, orgId)}rexp`,
  sweepIndex: (prefix: string): string => `${prefix}adm:sweep`,
};

const LIMITS_KEY =
  /^adm:\{org:([A-Za-z0-9._:-]{1,128})\}:(o|t:([A-Za-z0-9._:-]{1,128})|k:([A-Za-z0-9._:-]{1,128})):lim$/;
/** Ids may contain `:`, the encoded model never does: it is the last segment before `:lim`. */
const MODEL_LIMITS_KEY =
  /^adm:\{org:([A-Za-z0-9._:-]{1,128})\}:(tm|km):([A-Za-z0-9._:-]{1,128}):([A-Za-z0-9_-]{2,400}):lim$/;

/** The scope a limits key belongs to (keys from SCAN), or undefined for any other key. */
export function parseLimitsKey(prefix: string, key: string): AnyAdmissionScope | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const rest = key.slice(prefix.length);
  const mm = MODEL_LIMITS_KEY.exec(rest);
  if (mm) {
    const model = decodeAdmissionModel(mm[4]!);
    if (model === undefined) return undefined;
    const orgId = mm[1]!;
    return mm[2] === 'tm'
      ? { kind: 'tenant-model', orgId, tenantId: mm[3]!, model }
      : { kind: 'key-model', orgId, keyId: mm[3]!, model };
  }
  const m = LIMITS_KEY.exec(rest);
  if (!m) return undefined;
  const orgId = m[1]!;
  if (m[2] === 'o') return { kind: 'org', orgId };
  if (m[3] !== undefined) return { kind: 'tenant', orgId, tenantId: m[3] };
  if (m[4] !== undefined) return { kind: 'key', orgId, keyId: m[4] };
  return undefined;
}

export interface ReservationKeyInput {
  orgId: string;
  tenantId: string;
  keyId: string;
  /** the request's public model; null: no per-model scopes (their keys are placeholders) */
  model: string | null;
  reservationId: string;
}

/** Per scope, in this order, in the key list of every admission script. */
export const KEYS_PER_SCOPE = 3;
/** key, tenant, org, key×model, tenant×model */
export const ADMISSION_SCOPE_COUNT = 5;
/** 5 scopes × 3, then the balance, the reservation record and the expiry index */
export const ADMISSION_SCRIPT_KEYS = ADMISSION_SCOPE_COUNT * KEYS_PER_SCOPE + 3;

/**
 * The 18 keys of one request, in the order the scripts expect: for key, tenant, organisation,
 * key×model and tenant×model (3 each) limits, counters, rate buckets; then the balance, the reservation record and the expiry index. Without a model the
 * per-model keys name the empty model (`…:km:<keyId>::…`), which no scope has and no script touches.
 */
export function reservationKeys(prefix: string, r: ReservationKeyInput): string[] {
  const scopes: AnyAdmissionScope[] = [
    { kind: 'key', orgId: r.orgId, keyId: r.keyId },
    { kind: 'tenant', orgId: r.orgId, tenantId: r.tenantId },
    { kind: 'org', orgId: r.orgId },
    { kind: 'key-model', orgId: r.orgId, keyId: r.keyId, model: r.model ?? '' },
    { kind: 'tenant-model', orgId: r.orgId, tenantId: r.tenantId, model: r.model ?? '' },
  ];
  const keys: string[] = [];
  for (const s of scopes) {
    keys.push(
      admissionKeys.limits(prefix, s),
      admissionKeys.counters(prefix, s),
      admissionKeys.rateBuckets(prefix, s),
    );
  }
  keys.push(
    admissionKeys.balance(prefix, r.orgId),
    admissionKeys.reservation(prefix, r.orgId, r.reservationId),
    admissionKeys.reservationExpiries(prefix, r.orgId),
  );
  return keys;
}
