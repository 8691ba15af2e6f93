import { Inject, Injectable, Logger } from '@nestjs/common';
import { type ProxyEndpoint, UsageOutcome } from '@tollgate/contracts';
import type { Validated } from '@tollgate/providers';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AdmissionService } from '../admission/admission.service';
import { estimateRequest } from '../admission/request-estimate';
import { KeyAuthService } from '../auth/key-auth.service';
import { PROXY_CONFIG, type ProxyConfig } from '../config/proxy.config';
import { DrainService } from '../lifecycle/drain';
import { ChannelRegistry } from '../routing/channel-registry';
import type { RoutedCall } from '../routing/routed-call';
import { Router } from '../routing/router';
import type { RoutableChannel } from '../routing/channel-table';
import { type ChannelProtocol, protocolFor, type UpstreamCall } from '../upstream/channel-protocol';
import type { AttemptObserver, RelayDeps } from '../upstream/upstream-relay';
import { UsageEmitter } from '../usage/usage-emitter';
import { Exchange } from './exchange';
import { type ErrorFormat, errors, ProxyError, ProxyErrorCode } from './proxy-error';

/** Starts one attempt's provider call for an endpoint (e.g. `protocol.startChat`). */
export type StartAttempt<T> = (
  protocol: ChannelProtocol,
  channel: RoutableChannel,
  call: UpstreamCall<T>,
  observer: AttemptObserver,
) => void;

export interface Admitted<T> {
  body: T;
  /** the request body as received, forwarded as-is when nothing in it changes */
  raw: Buffer;
  /** the request's attempts, its first channel chosen */
  call: RoutedCall;
}

/**
 * The steps every metered /v1 request goes through before its provider call: key, JSON body,
 * validation, model allowlist, first channel choice, admission (budgets and rate limits). A
 * refusal is answered (and metered) here.
 */
@Injectable()
export class RequestPipeline {
  private readonly logger = new Logger('V1');
  readonly relayDeps: RelayDeps;
  readonly router: Router;
  private readonly forwardPrefixes: string[];

  constructor(
    @Inject(PROXY_CONFIG) config: ProxyConfig,
    readonly auth: KeyAuthService,
    readonly channels: ChannelRegistry,
    usage: UsageEmitter,
    drain: DrainService,
    readonly admission: AdmissionService,
  ) {
    this.relayDeps = { usage, drain };
    this.router = new Router(config, channels, drain);
    this.forwardPrefixes = config.FORWARD_HEADER_PREFIXES.split(',')
      .map((p) => p.trim().toLowerCase())
      .filter((p) => p.length > 0);
  }

  /**
   * The whole of a metered /v1 request: takes the response over, admits the request, then runs
   * its attempts, each starting the provider call `start` picks on that attempt's channel.
   */
  async serve<T extends { model: string; stream?: boolean | null }>(
    request: FastifyRequest,
    reply: FastifyReply,
    endpoint: ProxyEndpoint,
    validate: (body: unknown) => Validated<T>,
    start: StartAttempt<T>,
    errorFormat: ErrorFormat = 'openai',
  ): Promise<void> {
    const ex = this.begin(request, reply, endpoint);
    ex.errorFormat = errorFormat;
    try {
      const admitted = await this.admit(ex, request, validate);
      if (admitted === null) return;
      const upstream: UpstreamCall<T> = {
        ex,
        deps: this.relayDeps,
        body: admitted.body,
        raw: admitted.raw,
        forwarded: this.forwardedHeaders(request),
      };
      admitted.call.run((channel, observer) =>
        start(protocolFor(channel), channel, upstream, observer),
      );
    } catch (err) {
      this.crash(ex, err);
    }
  }

  /** Takes the response over from Fastify (the relays write to it directly). */
  begin(request: FastifyRequest, reply: FastifyReply, endpoint: ProxyEndpoint): Exchange {
    reply.hijack();
    return new Exchange(request.id, reply.raw, endpoint, this.relayDeps);
  }

  async admit<T extends { model: string; stream?: boolean | null }>(
    ex: Exchange,
    request: FastifyRequest,
    validate: (body: unknown) => Validated<T>,
  ): Promise<Admitted<T> | null> {
    const pending = this.auth.authenticate(request.headers.authorization);
    const auth = pending instanceof Promise ? await pending : pending;
    ex.key = auth.key;
    if (!auth.ok) {
      ex.reject(auth.error);
      return null;
    }
    const raw = request.body;
    let body: unknown;
    try {
      if (!Buffer.isBuffer(raw) || raw.length === 0) throw new SyntaxError('empty body');
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      ex.reject(errors.malformedJson());
      return null;
    }
    const named = body as { model?: unknown; stream?: unknown } | null;
    if (typeof named?.model === 'string' && named.model.length > 0) ex.model = named.model;
    ex.stream = named?.stream === true;
    const checked = validate(body);
    if (!checked.ok) {
      const { message, param, code } = checked.problem;
      ex.reject(new ProxyError(ProxyErrorCode.InvalidRequest, message, param, code));
      return null;
    }
    const call = this.router.route(ex, auth.key, checked.value.model);
    if (call instanceof ProxyError) {
      ex.reject(call);
      return null;
    }
    if (this.admission.enabled) {
      const estimate = estimateRequest(
        ex.endpoint,
        checked.value,
        this.admission.maxOutputCap,
        this.admission.promptEstimate,
      );
      const admitted = this.admission.admit(ex, auth.key, estimate);
      // admitted under a lease: no promise to wait for
      if (!(typeof admitted === 'boolean' ? admitted : await admitted)) return null;
    }
    return { body: checked.value, raw: raw as Buffer, call };
  }

  /** The client headers configured to pass through to providers; null when there are none. */
  forwardedHeaders(request: FastifyRequest): Record<string, string> | null {
    if (this.forwardPrefixes.length === 0) return null;
    let out: Record<string, string> | null = null;
    const h = request.headers;
    for (const name in h) {
      for (const prefix of this.forwardPrefixes) {
        if (name.startsWith(prefix)) {
          const v = h[name];
          if (typeof v === 'string') (out ??= {})[name] = v;
          break;
        }
      }
    }
    return out;
  }

  /** A bug on the request path: answer 500 if still possible, meter it, log it (this is not per-request noise). */
  crash(ex: Exchange, err: unknown): void {
    this.logger.error({
      msg: 'unhandled error on the request path',
      requestId: ex.requestId,
      error: err instanceof Error ? err.stack : String(err),
    });
    const e = errors.internal();
    if (!ex.headersSent) ex.sendError(e);
    else ex.res.destroy();
    ex.record(UsageOutcome.UpstreamError, 500, 'internal_error', null, false);
  }
}
