import {
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
} from 'class-validator';

export enum UsageOutcome {
  Ok = 'ok',
  UpstreamError = 'upstream_error',
  ClientAborted = 'client_aborted',
  Rejected = 'rejected',
}

export enum ProxyEndpoint {
  ChatCompletions = 'chat.completions',
  Completions = 'completions',
  Embeddings = 'embeddings',
  Messages = 'messages',
}

/**
 * One per proxied request, success or failure, on the `usage` queue with `requestId` as the job id
 * (so a retried enqueue is the same job). An incompatible change is a new class with a new version.
 */
export class UsageRecordedJobData {
  @IsIn([1])
  schemaVersion!: 1;

  /** unique per client request; also the BullMQ job id and the ledger's unique key */
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{8,128}$/)
  requestId!: string;

  @IsISO8601({ strict: true })
  occurredAt!: string;

  @IsString() @IsNotEmpty() organisationId!: string;
  @IsString() @IsNotEmpty() tenantId!: string;
  @IsOptional() @IsString() tenantName!: string | null;
  @IsString() @IsNotEmpty() keyId!: string;
  @IsOptional() @IsString() keyName!: string | null;

  @IsOptional() @IsString() channelId!: string | null;
  /** channel type, e.g. `openai` */
  @IsOptional() @IsString() provider!: string | null;

  /** the public model name the client asked for (and is billed for) */
  @IsString() @IsNotEmpty() model!: string;
  /** the upstream name the request was mapped to */
  @IsOptional() @IsString() upstreamModel!: string | null;

  @IsIn(Object.values(ProxyEndpoint)) endpoint!: ProxyEndpoint;
  @IsBoolean() stream!: boolean;
  @IsIn(Object.values(UsageOutcome)) outcome!: UsageOutcome;
  @IsInt() @Min(0) @Max(999) httpStatus!: number;
  @IsOptional() @IsString() errorCode!: string | null;

  @IsInt() @Min(0) inputTokens!: number;
  @IsInt() @Min(0) outputTokens!: number;
  @IsInt() @Min(0) cachedInputTokens!: number;
  /** false when the provider reported the counts, true when Tollgate estimated them */
  @IsBoolean() tokensEstimated!: boolean;

  @IsInt() @Min(0) latencyMs!: number;
  @IsOptional() @IsInt() @Min(0) ttftMs!: number | null;
  @IsInt() @Min(0) attempts!: number;

  /** nano-USD reserved at admission, as a decimal integer string */
  @Matches(/^\d{1,20}$/) reservedCostNanoUsd!: string;
}
