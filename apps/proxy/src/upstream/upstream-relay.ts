import { UsageOutcome } from '@tollgate/contracts';
import type { ProviderError, TokenUsage } from '@tollgate/providers';
import type { Dispatcher } from 'undici';
import type { Interruptible } from '../lifecycle/drain';
import type { RoutableChannel } from '../routing/channel-table';
import { CLIENT_CLOSED_STATUS, type Exchange, type ExchangeDeps } from '../v1/exchange';
import { ProxyError, ProxyErrorCode, toOpenAIError } from '../v1/proxy-error';

export type RelayDeps = ExchangeDeps;

/** How an attempt failed, for routing: what it means for the channel and whether to try another. */
export type FailureKind =
  /** connection refused, reset or dropped */
  | 'connect'
  | 'timeout'
  /** 5xx, or an error reported in a 200 answer */
  | 'server'
  /** an answer that is not what the wire format says */
  | 'malformed'
  /** 429 */
  | 'rate_limited'
  /** 401/403: the channel's credentials were refused */
  | 'credentials'
  /** another 4xx: the request's own fault, passed on */
  | 'rejected';

export interface AttemptFailure {
  kind: FailureKind;
  /** the provider's HTTP status, 0 without one */
  status: number;
  /** from a 429's Retry-After, ms */
  retryAfterMs: number | null;
}

/** Follows the attempts of one client request (the router's RoutedCall). */
export interface AttemptObserver {
  /**
   * An attempt failed; `canRetry` is false once anything reached the client. Returns null when
   * another attempt takes the request over (it answers and records), else the error to answer.
   */
  failed(
    channel: RoutableChannel,
    e: ProxyError,
    f: AttemptFailure,
    canRetry: boolean,
  ): ProxyError | null;
  succeeded(channel: RoutableChannel): void;
}

const failure = (kind: FailureKind): AttemptFailure => ({ kind, status: 0, retryAfterMs: null });
const CONNECT = failure('connect');
const TIMEOUT = failure('timeout');
const SERVER = failure('server');
export const MALFORMED = failure('malformed');
const REJECTED = failure('rejected');

/** the longest Retry-After honoured */
const MAX_RETRY_AFTER_MS = 3_600_000;

/** `Retry-After` (delta-seconds or an HTTP date) in ms from now; null when absent or unreadable. */
export function parseRetryAfter(v: string | undefined, now = Date.now()): number | null {
  if (v === undefined) return null;
  const t = v.trim();
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(t)) ms = Number(t) * 1000;
  else {
    const at = Date.parse(t);
    if (Number.isNaN(at)) return null;
    ms = at - now;
  }
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, Math.ceil(ms)));
}

/** What a provider's non-2xx status means for routing. */
export function statusFailure(
  status: number,
  headers: Record<string, string | string[] | undefined>,
): AttemptFailure {
  if (status === 401 || status === 403) return { kind: 'credentials', status, retryAfterMs: null };
  if (status === 429) {
    const ra = headers['retry-after'];
    return {
      kind: 'rate_limited',
      status,
      retryAfterMs: parseRetryAfter(Array.isArray(ra) ? ra[0] : ra),
    };
  }
  if (status >= 400 && status < 500) return { kind: 'rejected', status, retryAfterMs: null };
  return { kind: 'server', status, retryAfterMs: null };
}

type Cut = 'client' | 'first-byte-timeout' | 'total-timeout' | 'shutdown';

class CutError extends Error {
  constructor(readonly cut: Cut) {
    super(`upstream request cut: ${cut}`);
  }
}

/** largest non-streamed provider answer the proxy reads */
export const MAX_UPSTREAM_BODY_BYTES = 64 * 1024 * 1024;

const TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
]);

export const upstreamErrors = {
  timeout: (what: string) =>
    new ProxyError(
      ProxyErrorCode.UpstreamTimeout,
      `The provider did not answer in time (${what}).`,
    ),
  unreachable: (detail: string) =>
    new ProxyError(
      ProxyErrorCode.UpstreamFailed,
      `The provider could not be reached or dropped the connection (${detail}).`,
    ),
  malformed: (what: string) =>
    new ProxyError(
      ProxyErrorCode.UpstreamFailed,
      `The provider sent a malformed response: ${what}.`,
      null,
      'upstream_malformed_response',
    ),
  badContentType: (ct: string | undefined) =>
    new ProxyError(
      ProxyErrorCode.UpstreamFailed,
      `The provider answered with an unexpected content type (${ct ?? 'none'}).`,
      null,
      'upstream_malformed_response',
    ),
  shutdown: () =>
    new ProxyError(ProxyErrorCode.ServiceUnavailable, 'The proxy is shutting down; please retry.'),
};

function firstHeader(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** The error a client gets for a provider's non-2xx answer: 4xx passed on in OpenAI form, the rest 502. */
export function upstreamStatusError(
  status: number,
  body: Buffer,
  headers: Record<string, string | string[] | undefined>,
): ProxyError {
  type ErrorFields = { message?: unknown; param?: unknown; code?: unknown };
  let err: ErrorFields | null = null;
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { error?: unknown };
    if (parsed && typeof parsed.error === 'object' && parsed.error !== null)
      err = parsed.error as ErrorFields;
    else if (parsed && typeof parsed.error === 'string') err = { message: parsed.error };
  } catch {
    err = null;
  }
  const text =
    typeof err?.message === 'string'
      ? err.message
      : body.toString('utf8', 0, Math.min(body.length, 300)).trim();
  if (status === 401 || status === 403) {
    return new ProxyError(
      ProxyErrorCode.UpstreamFailed,
      `The provider refused this channel's credentials (HTTP ${status}).`,
      null,
      'upstream_auth_failed',
    );
  }
  if (status >= 400 && status < 500) {
    const retryAfter = firstHeader(headers['retry-after']);
    return new ProxyError(
      ProxyErrorCode.UpstreamRejected,
      text || `The provider answered HTTP ${status}.`,
      typeof err?.param === 'string' ? err.param : null,
      typeof err?.code === 'string' ? err.code : null,
      status,
      status === 429 && retryAfter ? { 'retry-after': retryAfter } : null,
    );
  }
  return new ProxyError(
    ProxyErrorCode.UpstreamFailed,
    `The provider answered HTTP ${status}${text ? `: ${text}` : ''}.`,
  );
}

function retryAfterOf(headers: Record<string, string | string[] | undefined>): string | undefined {
  return firstHeader(headers['retry-after']);
}

/**
 * A provider failure read by an adapter (any wire format): the client's error and what it means
 * for routing, with the same rules as upstreamStatusError/statusFailure for OpenAI answers.
 */
export function providerFailure(
  pe: ProviderError,
  headers: Record<string, string | string[] | undefined>,
): { e: ProxyError; f: AttemptFailure } {
  const err = pe.body.error;
  const code = typeof err.code === 'string' ? err.code : null;
  const upstream = pe.upstreamStatus;
  if (pe.credentialsRejected)
    return {
      e: new ProxyError(
        ProxyErrorCode.UpstreamFailed,
        `The provider refused this channel's credentials (HTTP ${upstream}).`,
        null,
        'upstream_auth_failed',
      ),
      f: { kind: 'credentials', status: upstream, retryAfterMs: null },
    };
  if (code === 'upstream_malformed_response')
    return {
      e: new ProxyError(ProxyErrorCode.UpstreamFailed, err.message, null, code),
      f: MALFORMED,
    };
  if (pe.status === 429) {
    const ra = retryAfterOf(headers);
    return {
      e: new ProxyError(
        ProxyErrorCode.UpstreamRejected,
        err.message,
        err.param,
        code,
        429,
        ra ? { 'retry-after': ra } : null,
      ),
      f: { kind: 'rate_limited', status: upstream, retryAfterMs: parseRetryAfter(ra) },
    };
  }
  if (pe.status >= 400 && pe.status < 500 && !pe.retryable)
    return {
      e: new ProxyError(ProxyErrorCode.UpstreamRejected, err.message, err.param, code, pe.status),
      f: { kind: 'rejected', status: upstream, retryAfterMs: null },
    };
  return {
    e: new ProxyError(
      ProxyErrorCode.UpstreamFailed,
      `The provider answered HTTP ${upstream}${err.message ? `: ${err.message}` : ''}.`,
    ),
    f: { kind: 'server', status: upstream, retryAfterMs: null },
  };
}

/**
 * One call to a provider on behalf of an Exchange, as an undici dispatch handler (no web streams,
 * no intermediate Readable). Owns the first-byte and total timers, aborts the provider call when
 * the client goes away, and guarantees the exchange is answered and recorded exactly once.
 */
export abstract class UpstreamRelay implements Dispatcher.DispatchHandler, Interruptible {
  protected controller: Dispatcher.DispatchController | null = null;
  protected channel: RoutableChannel | null = null;
  private observer: AttemptObserver | null = null;
  private attemptStartedAt = 0;
  protected status = 0;
  protected finished = false;
  private upstreamDone = false;
  private firstByte = false;
  private timer: NodeJS.Timeout | null = null;
  private cut: Cut | null = null;

  constructor(
    protected readonly ex: Exchange,
    protected readonly deps: RelayDeps,
  ) {}

  /** What the provider produced so far, for a call cut short or failed. */
  protected abstract partialUsage(): { usage: TokenUsage | null; estimated: boolean };

  /** Ends a response whose headers are already out after a failure (streams write an error event). */
  protected abstract endAfterFailure(e: ProxyError): void;

  /**
   * One attempt on `channel`; `observer` hears how it ended (and may take a failure over). `path`
   * follows the channel's base path, or with `fromOrigin` is the whole path (an adapter's URL).
   */
  start(
    channel: RoutableChannel,
    path: string,
    body: string | Buffer,
    headers: Record<string, string>,
    observer: AttemptObserver | null = null,
    fromOrigin = false,
  ): void {
    this.channel = channel;
    this.observer = observer;
    this.attemptStartedAt = Date.now();
    this.ex.attempts++;
    this.ex.channel = channel;
    this.deps.drain.track(this);
    this.ex.res.once('close', this.onClientClose);
    this.timer = setTimeout(
      this.onTimer,
      Math.min(channel.firstByteTimeoutMs, channel.totalTimeoutMs),
    );
    try {
      channel.pool.dispatch(
        { method: 'POST', path: fromOrigin ? path : channel.basePath + path, headers, body },
        this,
      );
    } catch (err) {
      this.onResponseError(null, err as Error);
    }
  }

  /**
   * Ends an attempt that cannot be sent to `channel` at all (the request has no form in the
   * channel's wire format): answered as the request's own fault, without trying another channel.
   */
  refuse(channel: RoutableChannel, e: ProxyError, observer: AttemptObserver | null): void {
    this.channel = channel;
    this.observer = observer;
    this.ex.channel = channel;
    // nothing went upstream: metered as a refusal, not as a provider error
    this.fail(e, REJECTED, UsageOutcome.Rejected);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.cut !== null) controller.abort(new CutError(this.cut));
  }

  abstract onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void;

  abstract onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void;

  abstract onResponseEnd(controller: Dispatcher.DispatchController): void;

  onResponseError(_controller: Dispatcher.DispatchController | null, err: Error): void {
    this.upstreamDone = true;
    // a cut aborts the call and answers for itself
    if (this.finished || this.cut !== null) return;
    const code = (err as { code?: string }).code;
    if (code !== undefined && TIMEOUT_CODES.has(code))
      this.fail(upstreamErrors.timeout(code), TIMEOUT);
    else this.fail(upstreamErrors.unreachable(code ?? err.message), CONNECT);
  }

  /** The first byte of the answer arrived: from here on only the total timeout applies. */
  protected markFirstByte(): void {
    if (this.firstByte) return;
    this.firstByte = true;
    if (this.timer) clearTimeout(this.timer);
    const left = this.totalTimeoutMs - (Date.now() - this.attemptStartedAt);
    this.timer = setTimeout(this.onTimer, Math.max(1, left));
  }

  private get firstByteTimeoutMs(): number {
    return this.channel?.firstByteTimeoutMs ?? 0;
  }

  private get totalTimeoutMs(): number {
    return this.channel?.totalTimeoutMs ?? 0;
  }

  protected markUpstreamDone(): void {
    this.upstreamDone = true;
  }

  private readonly onTimer = (): void => {
    this.timer = null;
    this.interruptWith(this.firstByte ? 'total-timeout' : 'first-byte-timeout');
  };

  private readonly onClientClose = (): void => {
    if (!this.finished) this.interruptWith('client');
  };

  /** The drain period ended with this call still running. */
  interrupt(): void {
    this.interruptWith('shutdown');
  }

  private interruptWith(cut: Cut): void {
    if (this.finished) return;
    this.cut = cut;
    this.abortUpstream(new CutError(cut));
    switch (cut) {
      case 'client': {
        this.settle();
        const p = this.partialUsage();
        this.ex.record(
          UsageOutcome.ClientAborted,
          this.ex.headersSent ? this.ex.res.statusCode : CLIENT_CLOSED_STATUS,
          'client_closed_request',
          p.usage,
          p.estimated,
        );
        // make sure the connection goes too, or a shutdown would wait on it
        if (!this.ex.res.writableEnded) this.ex.res.destroy();
        return;
      }
      case 'first-byte-timeout':
        this.fail(
          upstreamErrors.timeout(`no answer within ${this.firstByteTimeoutMs} ms`),
          TIMEOUT,
        );
        return;
      case 'total-timeout':
        this.fail(upstreamErrors.timeout(`not finished within ${this.totalTimeoutMs} ms`), TIMEOUT);
        return;
      case 'shutdown':
        this.fail(upstreamErrors.shutdown(), null);
        return;
    }
  }

  protected abortUpstream(reason: Error): void {
    if (this.upstreamDone) return;
    this.upstreamDone = true;
    this.controller?.abort(reason);
  }

  /** Marks the exchange answered: timers off, no longer in flight. */
  private settle(): void {
    this.finished = true;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.deps.drain.untrack(this);
    this.ex.res.off('close', this.onClientClose);
  }

  /** A non-2xx answer: the client's error, and what it means for routing. */
  protected failStatus(
    status: number,
    body: Buffer,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    this.fail(upstreamStatusError(status, body, headers), statusFailure(status, headers));
  }

  /**
   * Answers with an error (or ends a started stream with one) and records `upstream_error` —
   * unless the observer hands the request to another attempt. `f` says what the failure means
   * for routing; null for the proxy's own cuts (shutdown). `outcome` is what the usage event
   * records when this failure is the answer.
   */
  protected fail(
    e: ProxyError,
    f: AttemptFailure | null = SERVER,
    outcome: UsageOutcome = UsageOutcome.UpstreamError,
  ): void {
    if (this.finished) return;
    this.settle();
    this.abortUpstream(new Error(e.message));
    if (f !== null && this.observer !== null && this.channel !== null) {
      const canRetry = !this.ex.headersSent && !this.ex.res.destroyed;
      const answer = this.observer.failed(this.channel, e, f, canRetry);
      if (answer === null) return;
      e = answer;
    }
    const p = this.partialUsage();
    let status: number;
    if (!this.ex.headersSent) status = this.ex.sendError(e);
    else {
      status = this.ex.res.statusCode;
      this.endAfterFailure(e);
    }
    this.ex.record(
      outcome,
      status,
      toOpenAIError(e).body.error.code ?? e.code,
      p.usage,
      p.estimated,
    );
  }

  /** Records a successful exchange (the subclass has written the answer). */
  protected succeed(usage: TokenUsage, estimated: boolean): void {
    if (this.finished) return;
    this.settle();
    this.upstreamDone = true;
    if (this.observer !== null && this.channel !== null) this.observer.succeeded(this.channel);
    this.ex.record(UsageOutcome.Ok, this.ex.res.statusCode, null, usage, estimated);
  }
}
