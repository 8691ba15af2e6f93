import { Inject, Injectable, Logger } from '@nestjs/common';
import { type ProxyEndpoint, UsageOutcome } from '@tollgate/contracts';
import type { Validated } from '@tollgate/providers';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { KeyAuthService } from '../auth/key-auth.service';
import type { ResolvedKey } from '../auth/key-cache';
import { PROXY_CONFIG, type ProxyConfig } from '../config/proxy.config';
import { DrainService } from '../lifecycle/drain';
import { ChannelRegistry } from '../routing/channel-registry';
import type { RoutableChannel } from '../routing/channel-table';
import type { RelayDeps } from '../upstream/upstream-relay';
import { UsageEmitter } from '../usage/usage-emitter';
import { upstreamModelName } from '@tollgate/providers';
import { Exchange } from './exchange';
import { errors, ProxyError, ProxyErrorCode } from './proxy-error';

export interface Route {
  channel: RoutableChannel;
  /** the model name sent to the provider (after the channel's mapping) */
  upstreamModel: string;
}

export interface Admitted<T> {
  body: T;
  /** the request body as received, forwarded as-is when nothing in it changes */
  raw: Buffer;
  route: Route;
}

/**
 * The steps every metered /v1 request goes through before its provider call: key, JSON body,
 * validation, model allowlist, channel choice. A refusal is answered (and metered) here.
 */
@Injectable()
export class RequestPipeline {
  private readonly logger = new Logger('V1');
  readonly relayDeps: RelayDeps;
  private readonly forwardPrefixes: string[];

  constructor(
    @Inject(PROXY_CONFIG) config: ProxyConfig,
    readonly auth: KeyAuthService,
    readonly channels: ChannelRegistry,
    usage: UsageEmitter,
    drain: DrainService,
  ) {
    this.relayDeps = {
      usage,
      drain,
      firstByteTimeoutMs: config.UPSTREAM_FIRST_BYTE_TIMEOUT_MS,
      totalTimeoutMs: config.UPSTREAM_TOTAL_TIMEOUT_MS,
    };
    this.forwardPrefixes = config.FORWARD_HEADER_PREFIXES.split(',')
      .map((p) => p.trim().toLowerCase())
      .filter((p) => p.length > 0);
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
    const route = this.route(auth.key, checked.value.model);
    if (route instanceof ProxyError) {
      ex.reject(route);
      return null;
    }
    ex.channel = route.channel;
    ex.upstreamModel = route.upstreamModel;
    return { body: checked.value, raw: raw as Buffer, route };
  }

  /** Allowlist, then the channel table. */
  route(key: ResolvedKey, model: string): Route | ProxyError {
    if (key.allowedModels !== null && !key.allowedModels.has(model))
      return errors.modelNotAllowed(model);
    const channel = this.channels.table.pick(model, {
      group: key.record.tenantGroup,
      organisationId: key.record.organisationId,
    });
    if (channel === null) return errors.modelNotFound(model);
    return { channel, upstreamModel: upstreamModelName(channel.modelMapping, model) };
  }

  /** Headers for the provider: its credential, JSON, and the client headers configured to pass through. */
  upstreamHeaders(
    request: FastifyRequest,
    channel: RoutableChannel,
    stream: boolean,
  ): Record<string, string> {
    const out: Record<string, string> = {
      authorization: channel.authorization,
      'content-type': 'application/json',
      accept: stream ? 'text/event-stream' : 'application/json',
    };
    if (this.forwardPrefixes.length > 0) {
      const h = request.headers;
      for (const name in h) {
        for (const prefix of this.forwardPrefixes) {
          if (name.startsWith(prefix)) {
            const v = h[name];
            if (typeof v === 'string') out[name] = v;
            break;
          }
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
