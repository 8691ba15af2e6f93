import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateBy,
  type ValidationOptions,
} from 'class-validator';
import { GROUP_NAME_PATTERN } from './tenants.dto';

/**
 * Provider wire formats a channel can speak. `openai` covers every OpenAI-compatible upstream
 * (OpenAI, DeepSeek, Groq, Mistral, Together, OpenRouter, vLLM, Ollama…), told apart by base URL.
 */
export enum ChannelType {
  OpenAI = 'openai',
  /**
   * Azure OpenAI: the base URL is the resource endpoint, models map to deployment names,
   * `apiVersion` is required
   */
  Azure = 'azure',
  Anthropic = 'anthropic',
  Gemini = 'gemini',
}

export const CHANNEL_TYPES: readonly ChannelType[] = Object.values(ChannelType);

/** Why a channel is disabled; null while it is enabled. */
export enum ChannelStatusReason {
  /** an administrator disabled it */
  Admin = 'admin',
  /** the provider answered 401/403 to the gateway; an admin re-enables it with PATCH */
  CredentialsRejected = 'credentials_rejected',
}

/** Upper bounds of a channel's timeouts (ms); null or absent means the proxy's default. */
export const CHANNEL_TIMEOUT_MAX_MS = {
  connectTimeoutMs: 60_000,
  firstByteTimeoutMs: 600_000,
  totalTimeoutMs: 3_600_000,
} as const;

/** Azure `api-version`: a date (`2024-10-21`, `2025-04-01-preview`) or `v1` / `preview`. */
export const AZURE_API_VERSION_PATTERN = /^(\d{4}-\d{2}-\d{2}(-[a-z0-9]+)?|v1|preview)$/;

export const EXTRA_HEADERS_MAX_COUNT = 20;
export const EXTRA_HEADER_NAME_MAX = 100;
export const EXTRA_HEADER_VALUE_MAX = 2000;
/** total of every name and value */
export const EXTRA_HEADERS_MAX_BYTES = 8192;

/**
 * Header names a channel may not set: framing and hop-by-hop headers (the gateway owns the
 * connection) and every header that carries the provider credential (it comes from `apiKey` only).
 */
export const RESERVED_EXTRA_HEADERS: readonly string[] = [
  'authorization',
  'proxy-authorization',
  'api-key',
  'x-api-key',
  'x-goog-api-key',
  'cookie',
  'host',
  'content-length',
  'content-type',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
  'expect',
];

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** visible ASCII, spaces and tabs inside; nothing that could end the header line */
const HEADER_VALUE = /^[\x21-\x7e]([\x20-\x7e\t]*[\x21-\x7e])?$/;

/** Problems with a channel's `extraHeaders` (header name → value); empty when it is valid. */
export function extraHeadersProblems(value: unknown): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return ['extraHeaders must be an object of header name → value'];
  const entries = Object.entries(value as Record<string, unknown>);
  const problems: string[] = [];
  if (entries.length > EXTRA_HEADERS_MAX_COUNT)
    problems.push(`extraHeaders must have at most ${EXTRA_HEADERS_MAX_COUNT} entries`);
  const seen = new Set<string>();
  let bytes = 0;
  for (const [name, v] of entries.slice(0, EXTRA_HEADERS_MAX_COUNT + 1)) {
    const shown = name.slice(0, 50);
    const lower = name.toLowerCase();
    if (!HEADER_NAME.test(name) || name.length > EXTRA_HEADER_NAME_MAX) {
      problems.push(
        `extraHeaders: "${shown}" is not a header name (1-${EXTRA_HEADER_NAME_MAX} token characters)`,
      );
    } else if (RESERVED_EXTRA_HEADERS.includes(lower) || lower.startsWith('proxy-')) {
      problems.push(`extraHeaders: ${lower} is set by the gateway and cannot be overridden`);
    } else if (seen.has(lower)) {
      problems.push(`extraHeaders: ${lower} is given twice`);
    }
    seen.add(lower);
    if (typeof v !== 'string' || v.length > EXTRA_HEADER_VALUE_MAX || !HEADER_VALUE.test(v)) {
      problems.push(
        `extraHeaders.${shown} must be 1-${EXTRA_HEADER_VALUE_MAX} visible ASCII characters (no line breaks)`,
      );
    } else bytes += name.length + v.length;
  }
  if (bytes > EXTRA_HEADERS_MAX_BYTES)
    problems.push(`extraHeaders must total at most ${EXTRA_HEADERS_MAX_BYTES} characters`);
  return problems;
}

/** Validates `extraHeaders` with {@link extraHeadersProblems} (null and absent are skipped by `@IsOptional`). */
export function IsChannelExtraHeaders(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isChannelExtraHeaders',
      validator: {
        validate: (value: unknown) => extraHeadersProblems(value).length === 0,
        defaultMessage: (args) => extraHeadersProblems(args?.value).join('; '),
      },
    },
    options,
  );
}

/**
 * A channel's connection settings, the same on create and update: null clears a setting (back to
 * none, or to the proxy's default), absent keeps it (on create: none).
 */
export class ChannelConnectionSettingsDto {
  /** Azure's `api-version` (required for `azure`, refused for the other types). */
  @IsOptional()
  @IsString()
  @Matches(AZURE_API_VERSION_PATTERN, {
    message: 'apiVersion must be an Azure api-version such as "2024-10-21", "v1" or "preview"',
  })
  apiVersion?: string | null;

  /** Headers sent with every upstream request (not the credential, not hop-by-hop headers). */
  @IsOptional()
  @IsChannelExtraHeaders()
  extraHeaders?: Record<string, string> | null;

  /** ms to open a connection; null or absent: the proxy's default */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(CHANNEL_TIMEOUT_MAX_MS.connectTimeoutMs)
  connectTimeoutMs?: number | null;

  /** ms until the first byte of the answer; null or absent: the proxy's default */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(CHANNEL_TIMEOUT_MAX_MS.firstByteTimeoutMs)
  firstByteTimeoutMs?: number | null;

  /** ms for the whole exchange, stream included; null or absent: the proxy's default */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(CHANNEL_TIMEOUT_MAX_MS.totalTimeoutMs)
  totalTimeoutMs?: number | null;
}

export class CreateChannelRequestDto extends ChannelConnectionSettingsDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(120)
  name!: string;

  @IsIn(CHANNEL_TYPES as ChannelType[])
  type!: ChannelType;

  /**
   * e.g. `https://api.openai.com/v1`; Azure: the resource endpoint
   * (`https://my-resource.openai.azure.com`); Anthropic `https://api.anthropic.com`; Gemini
   * `https://generativelanguage.googleapis.com`.
   */
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  @MaxLength(500)
  baseUrl!: string;

  /** Provider credential; stored encrypted, never returned. */
  @IsString()
  @IsNotEmpty()
  @MaxLength(4000)
  apiKey!: string;

  /** Public model names this channel serves. */
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(500)
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  @MaxLength(200, { each: true })
  models!: string[];

  /** requested (public) name → upstream name (Azure: the deployment name) */
  @IsOptional()
  @IsObject()
  modelMapping?: Record<string, string>;

  @IsOptional()
  @IsInt()
  @Min(-1000)
  @Max(1000)
  priority?: number;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(10000)
  weight?: number;

  /** Tenant groups allowed to use the channel; `["default"]` when omitted. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @Matches(GROUP_NAME_PATTERN, { each: true })
  groups?: string[];
}

export interface ChannelResponseDto {
  id: string;
  name: string;
  type: ChannelType;
  baseUrl: string;
  models: string[];
  modelMapping: Record<string, string>;
  priority: number;
  weight: number;
  groups: string[];
  status: 'enabled' | 'disabled';
  /** why it is disabled; null while enabled (and for channels disabled before reasons were kept) */
  statusReason: ChannelStatusReason | null;
  /** Azure `api-version`; null for the other types */
  apiVersion: string | null;
  /** header names lower-cased */
  extraHeaders: Record<string, string>;
  connectTimeoutMs: number | null;
  firstByteTimeoutMs: number | null;
  totalTimeoutMs: number | null;
  createdAt: string;
}

/** What a channel event records. */
export enum ChannelEventKind {
  /** the provider refused the channel's credential (reported by the proxy); the channel was disabled */
  CredentialsRejected = 'credentials_rejected',
  /** an administrator ran `POST …/test` */
  Test = 'test',
}

/** `GET /api/v1/admin/channels/{channelId}/events` items, newest first. */
export interface ChannelEventResponseDto {
  id: string;
  channelId: string;
  kind: ChannelEventKind;
  /**
   * `credentials_rejected`: `{status, reportedAt, credential, previousStatus}` (`credential` is a
   * fingerprint of the sealed credential, not the credential); `test`: a
   * {@link ChannelTestResponseDto} plus `upstreamModel` and `userId`.
   */
  detail: Record<string, unknown>;
  createdAt: string;
}

/** `POST /api/v1/admin/channels/{channelId}/test`; the body may be absent. */
export class TestChannelRequestDto {
  /** a public model name of the channel; its first model when absent */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  model?: string;
}

/** The result of one real request to the provider (never the credential). */
export interface ChannelTestResponseDto {
  /** the provider answered 2xx with a well-formed completion */
  ok: boolean;
  /** the provider's HTTP status; null when no answer came (timeout, connection failure) */
  status: number | null;
  /** from sending the request to the end of the answer */
  latencyMs: number;
  /** the public model name tested */
  model: string;
  /** what went wrong, in a sentence (provider secrets removed); absent when ok */
  error?: string;
}

/**
 * Channel health the proxy shares through Redis and accounts consumes (the proxy's
 * `routingKeys` in apps/proxy/src/routing/channel-health.ts name the same keys).
 */
export const channelHealthKeys = {
  /** hash channel id → {@link RejectedCredentialEntry} JSON */
  rejected: (prefix: string): string => `${prefix}channels:rejected`,
  /** pub/sub: {@link ChannelHealthEvent} JSON */
  channelEvents: (prefix: string): string => `${prefix}channel-events`,
};

/** The proxy's record that a provider refused a channel's credential. */
export interface RejectedCredentialEntry {
  /** base64url of sha256 of the channel's `encryptedApiKey`, first 16 characters */
  credential: string;
  /** the provider's status (401 or 403) */
  status: number;
  /** ISO instant */
  at: string;
}

/** Published by the proxy on `channelHealthKeys.channelEvents`. */
export interface ChannelHealthEvent {
  channelId: string;
  reason: 'credentials_rejected';
  status: number;
  at: string;
}
