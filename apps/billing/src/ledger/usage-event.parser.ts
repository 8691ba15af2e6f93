import { UsageRecordedJobData } from '@tollgate/contracts';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';

const INT4_MAX = 2_147_483_647;
const INT8_MAX = 9_223_372_036_854_775_807n;
const MAX_TEXT = 512;

/** A usage event that can never be written, however often it is retried. */
export class InvalidUsageEventError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid usage event: ${problems.join('; ')}`);
    this.name = 'InvalidUsageEventError';
  }
}

const INT_FIELDS = [
  'httpStatus',
  'inputTokens',
  'outputTokens',
  'cachedInputTokens',
  'latencyMs',
  'ttftMs',
  'attempts',
] as const satisfies readonly (keyof UsageRecordedJobData)[];

const TEXT_FIELDS = [
  'organisationId',
  'tenantId',
  'tenantName',
  'keyId',
  'keyName',
  'channelId',
  'provider',
  'model',
  'upstreamModel',
  'errorCode',
] as const satisfies readonly (keyof UsageRecordedJobData)[];

/**
 * Validates a job's data against `UsageRecordedJobData` (schemaVersion 1) plus the limits of the ledger
 * columns, so that nothing that passes here can fail on insert for its content.
 */
export function parseUsageEvent(data: unknown): UsageRecordedJobData {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new InvalidUsageEventError(['job data must be an object']);
  }
  const event = plainToInstance(UsageRecordedJobData, data);
  const errors = validateSync(event, { forbidUnknownValues: true });
  const problems = errors.flatMap((e) =>
    Object.values(e.constraints ?? { invalid: `${e.property} is invalid` }).map((m) =>
      m.startsWith(e.property) ? m : `${e.property}: ${m}`,
    ),
  );
  if (problems.length === 0) {
    for (const field of INT_FIELDS) {
      const v = event[field];
      if (typeof v === 'number' && v > INT4_MAX)
        problems.push(`${field} must not exceed ${INT4_MAX}`);
    }
    for (const field of TEXT_FIELDS) {
      const v = event[field];
      if (typeof v === 'string' && v.length > MAX_TEXT)
        problems.push(`${field} must not be longer than ${MAX_TEXT}`);
    }
    if (BigInt(event.reservedCostNanoUsd) > INT8_MAX)
      problems.push('reservedCostNanoUsd is out of range');
    const at = new Date(event.occurredAt).getTime();
    if (!Number.isFinite(at) || at < Date.UTC(2000, 0, 1) || at > Date.UTC(9999, 0, 1)) {
      problems.push('occurredAt is out of range');
    }
  }
  if (problems.length) throw new InvalidUsageEventError(problems);
  return event;
}
