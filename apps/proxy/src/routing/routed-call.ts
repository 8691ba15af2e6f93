import { Logger } from '@nestjs/common';
import { UsageOutcome } from '@tollgate/contracts';
import type { Interruptible } from '../lifecycle/drain';
import type { AttemptFailure, AttemptObserver } from '../upstream/upstream-relay';
import { upstreamErrors } from '../upstream/upstream-relay';
import { CLIENT_CLOSED_STATUS, type Exchange } from '../v1/exchange';
import { errors, type ProxyError, toOpenAIError } from '../v1/proxy-error';
import { type Audience, Deferral, DeferralKind, type RoutableChannel } from './channel-table';
import type { Router } from './router';

/** Starts one attempt of the request on a channel (the handler's call into the channel protocol). */
export type AttemptStart = (channel: RoutableChannel, observer: AttemptObserver) => void;

const logger = new Logger('RoutedCall');

const seconds = (untilMs: number) => Math.max(1, Math.ceil((untilMs - Date.now()) / 1000));

/**
 * The attempts of one client request. A failure before anything reached the client (connect
 * error, timeout, 429, 5xx, malformed answer, refused credentials) moves to another channel —
 * never one already tried — up to `ROUTING_MAX_ATTEMPTS`, unless the key turned fallback off.
 * Exactly one attempt (or this call, when no attempt can run) answers and records the request.
 */
export class RoutedCall implements AttemptObserver, Interruptible {
  /** channels tried or refused a probe; null until the first failure (nothing allocated before) */
  private excluded: RoutableChannel[] | null = null;
  private probing: RoutableChannel | null = null;
  private start: AttemptStart | null = null;
  private waitTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly router: Router,
    private readonly ex: Exchange,
    private readonly model: string,
    private readonly audience: Audience,
    /** false: exactly one attempt */
    readonly fallback: boolean,
    private readonly first: RoutableChannel | Deferral,
  ) {}

  run(start: AttemptStart): void {
    this.start = start;
    const e = this.proceed(this.first, null);
    if (e !== null) this.answer(e);
  }

  // ---- AttemptObserver ------------------------------------------------------------------------

  failed(
    channel: RoutableChannel,
    e: ProxyError,
    f: AttemptFailure,
    canRetry: boolean,
  ): ProxyError | null {
    const wasProbe = this.probing === channel;
    if (wasProbe) this.probing = null;
    this.router.learn(channel, f, wasProbe);
    if (
      !canRetry ||
      f.kind === 'rejected' ||
      !this.fallback ||
      this.ex.attempts >= this.router.maxAttempts
    )
      return e;
    (this.excluded ??= []).push(channel);
    const next = this.router.select(this.model, this.audience, this.excluded);
    if (next === null) return e;
    if (!(next instanceof Deferral)) {
      // not from inside the failed attempt's undici callback
      setImmediate(() => this.attempt(next));
      return null;
    }
    return this.proceed(next, e);
  }

  succeeded(channel: RoutableChannel): void {
    if (this.probing !== channel) return;
    this.probing = null;
    void this.router.health.probeSucceeded(channel);
  }

  // ---- selection outcomes ---------------------------------------------------------------------

  /** Acts on a selection: null when an attempt runs or is pending, else the error to answer. */
  private proceed(
    sel: RoutableChannel | Deferral | null,
    lastError: ProxyError | null,
  ): ProxyError | null {
    if (sel === null) return lastError ?? errors.modelNotFound(this.model);
    if (!(sel instanceof Deferral)) {
      this.attempt(sel);
      return null;
    }
    switch (sel.kind) {
      case DeferralKind.Probe:
        this.probe(sel.channel as RoutableChannel, lastError);
        return null;
      case DeferralKind.Wait:
        if (sel.at - Date.now() <= this.router.maxWaitMs) {
          this.wait(sel.channel as RoutableChannel, sel.at - Date.now());
          return null;
        }
        return errors.channelsRateLimited(this.model, seconds(sel.at));
      case DeferralKind.AllOpen:
        return lastError ?? errors.noHealthyChannel(this.model, seconds(sel.at));
      case DeferralKind.AllDisabled:
        return lastError ?? errors.channelsDisabled(this.model);
      case DeferralKind.Exhausted:
        return lastError ?? errors.channelsDisabled(this.model);
    }
  }

  private attempt(channel: RoutableChannel): void {
    if (this.ex.res.destroyed) {
      this.ex.record(
        UsageOutcome.ClientAborted,
        CLIENT_CLOSED_STATUS,
        'client_closed_request',
        null,
        false,
      );
      return;
    }
    try {
      (this.start as AttemptStart)(channel, this);
    } catch (err) {
      // a bug (attempts may start outside the handler's try): answer rather than leave the client hanging
      logger.error({
        msg: 'starting an upstream attempt failed',
        requestId: this.ex.requestId,
        error: err instanceof Error ? err.stack : String(err),
      });
      this.answer(errors.internal());
    }
  }

  /** One replica wins the probe of a recovering channel; the others pass it by. */
  private probe(channel: RoutableChannel, lastError: ProxyError | null): void {
    const lease = channel.totalTimeoutMs + 1000;
    void this.router.health.acquireProbe(channel, lease).then((granted) => {
      if (granted) {
        this.probing = channel;
        this.attempt(channel);
        return;
      }
      (this.excluded ??= []).push(channel);
      const e = this.proceed(
        this.router.select(this.model, this.audience, this.excluded),
        lastError,
      );
      if (e !== null) this.answer(e);
    });
  }

  /** Only a channel cooling down after a 429 is left, and it is free again soon: wait for it. */
  private wait(channel: RoutableChannel, ms: number): void {
    this.router.drain.track(this);
    this.ex.res.once('close', this.onCloseWhileWaiting);
    this.waitTimer = setTimeout(
      () => {
        this.stopWaiting();
        this.attempt(channel);
      },
      Math.max(0, ms),
    );
  }

  private stopWaiting(): void {
    if (this.waitTimer !== null) clearTimeout(this.waitTimer);
    this.waitTimer = null;
    this.router.drain.untrack(this);
    this.ex.res.off('close', this.onCloseWhileWaiting);
  }

  private readonly onCloseWhileWaiting = (): void => {
    if (this.waitTimer === null) return;
    this.stopWaiting();
    this.ex.record(
      UsageOutcome.ClientAborted,
      CLIENT_CLOSED_STATUS,
      'client_closed_request',
      null,
      false,
    );
  };

  /** The drain period ended while waiting. */
  interrupt(): void {
    if (this.waitTimer === null) return;
    this.stopWaiting();
    this.answer(upstreamErrors.shutdown());
  }

  /** Answers when no attempt is left to do it. */
  private answer(e: ProxyError): void {
    if (this.ex.isRecorded) return;
    const status = this.ex.headersSent ? this.ex.res.statusCode : this.ex.sendError(e);
    if (this.ex.headersSent && !this.ex.res.writableEnded) this.ex.res.destroy();
    this.ex.record(
      UsageOutcome.UpstreamError,
      status,
      toOpenAIError(e).body.error.code ?? e.code,
      null,
      false,
    );
  }
}
