import { type ProxyEndpoint, type UsageRecordedJobData, UsageOutcome } from '@tollgate/contracts';
import type { TokenPrice } from '@tollgate/pricing';
import type { TokenUsage } from '@tollgate/providers';
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { AdmissionSettlement } from '../admission/settlement';
import type { ResolvedKey } from '../auth/key-cache';
import type { DrainService } from '../lifecycle/drain';
import type { RoutableChannel } from '../routing/channel-table';
import type { UsageEmitter } from '../usage/usage-emitter';
import { type ErrorFormat, type ProxyError, serializeError, toOpenAIError } from './proxy-error';

/** the `model` of a usage event when the request named none */
export const UNKNOWN_MODEL = 'unknown';
/** status recorded when the client went away before any response (nginx's convention) */
export const CLIENT_CLOSED_STATUS = 499;

const NO_TOKENS: TokenUsage = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0 };

export interface ExchangeDeps {
  usage: UsageEmitter;
  drain: DrainService;
}

/**
 * One client request on the /v1 surface: what is known about it so far, how to answer it, and
 * its one usage event. Every path through a handler ends in exactly one `record` (or none, for a
 * caller without a known key: there is no organisation to bill).
 */
export class Exchange {
  readonly startedAt = Date.now();
  readonly t0 = performance.now();
  key: ResolvedKey | null = null;
  model = UNKNOWN_MODEL;
  upstreamModel: string | null = null;
  channel: RoutableChannel | null = null;
  stream = false;
  attempts = 0;
  ttftMs: number | null = null;
  /** the body errors are answered in: the called surface's own (set by the handler) */
  errorFormat: ErrorFormat = 'openai';
  /** the `x-ratelimit-*` headers of a limited key, added to whatever this exchange answers */
  rateLimitHeaders: Record<string, string> | null = null;
  /** nano-USD reserved at admission (the usage event's `reservedCostNanoUsd`) */
  reservedCostNano = 0n;
  /** what the recorded usage settles (the request's reservation or its lease); called once */
  admission: AdmissionSettlement | null = null;
  /** the price the admission estimate used: the settlement prices the actual usage with it */
  admissionPrice: TokenPrice | null = null;
  private recorded = false;

  constructor(
    readonly requestId: string,
    readonly res: ServerResponse,
    readonly endpoint: ProxyEndpoint,
    private readonly deps: ExchangeDeps,
  ) {}

  get headersSent(): boolean {
    return this.res.headersSent;
  }

  get isRecorded(): boolean {
    return this.recorded;
  }

  elapsedMs(): number {
    return Math.round(performance.now() - this.t0);
  }

  writeHead(status: number, headers: OutgoingHttpHeaders): void {
    if (this.deps.drain.isDraining) this.res.shouldKeepAlive = false;
    if (this.rateLimitHeaders) Object.assign(headers, this.rateLimitHeaders);
    headers['x-request-id'] = this.requestId;
    // Anthropic's SDKs read their request id (`requestID`, `_request_id`) from `request-id`
    if (this.errorFormat === 'anthropic') headers['request-id'] = this.requestId;
    this.res.writeHead(status, headers);
  }

  sendJson(status: number, payload: string | Buffer, extra?: Record<string, string> | null): void {
    if (this.res.headersSent || this.res.destroyed) return;
    const headers: OutgoingHttpHeaders = {
      'content-type': 'application/json',
      'content-length': typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length,
    };
    if (extra) Object.assign(headers, extra);
    this.writeHead(status, headers);
    this.res.end(payload);
  }

  /** Answers with an error body in `errorFormat`; returns the status sent. */
  sendError(e: ProxyError): number {
    const { status, json } = serializeError(e, this.errorFormat);
    this.sendJson(status, json, e.headers);
    return status;
  }

  /** Refuses the request before any upstream call; metered as `rejected` when the key is known. */
  reject(e: ProxyError): void {
    const status = this.sendError(e);
    this.record(
      UsageOutcome.Rejected,
      status,
      toOpenAIError(e).body.error.code ?? e.code,
      null,
      false,
    );
  }

  /** Emits this request's one usage event (no-op without a key record, or when already recorded). */
  record(
    outcome: UsageOutcome,
    httpStatus: number,
    errorCode: string | null,
    usage: TokenUsage | null,
    estimated: boolean,
  ): void {
    if (this.recorded) return;
    this.recorded = true;
    const key = this.key;
    if (key === null) return;
    const r = key.record;
    const u = usage ?? NO_TOKENS;
    const event: UsageRecordedJobData = {
      schemaVersion: 1,
      requestId: this.requestId,
      occurredAt: new Date(this.startedAt).toISOString(),
      organisationId: r.organisationId,
      tenantId: r.tenantId,
      tenantName: r.tenantName ?? null,
      keyId: r.id,
      keyName: r.name ?? null,
      channelId: this.channel?.id ?? null,
      provider: this.channel?.type ?? null,
      model: this.model,
      upstreamModel: this.upstreamModel,
      endpoint: this.endpoint,
      stream: this.stream,
      outcome,
      httpStatus,
      errorCode,
      inputTokens: u.inputTokens,
      outputTokens: u.outputTokens,
      cachedInputTokens: u.cachedInputTokens,
      tokensEstimated: estimated,
      latencyMs: this.elapsedMs(),
      ttftMs: this.ttftMs,
      attempts: this.attempts,
      reservedCostNanoUsd: this.reservedCostNano.toString(),
    };
    this.deps.usage.emit(event);
    const admission = this.admission;
    if (admission !== null) {
      this.admission = null;
      admission.settle(usage, this.admissionPrice);
    }
  }
}
