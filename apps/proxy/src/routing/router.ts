import { ProxyEndpoint } from '@tollgate/contracts';
import type { ResolvedKey } from '../auth/key-cache';
import type { ProxyConfig } from '../config/proxy.config';
import type { DrainService } from '../lifecycle/drain';
import { channelOffers } from '../upstream/channel-protocol';
import type { AttemptFailure } from '../upstream/upstream-relay';
import type { Exchange } from '../v1/exchange';
import { errors, type ProxyError } from '../v1/proxy-error';
import type { ChannelHealth } from './channel-health';
import type { ChannelRegistry } from './channel-registry';
import type { Audience, Deferral, RoutableChannel } from './channel-table';
import { RoutedCall } from './routed-call';

/**
 * Chooses channels for requests and learns from their failures: the selection rules live in
 * ChannelTable, the shared health in ChannelHealth, one request's attempts in RoutedCall. Built
 * by RequestPipeline (a plain class, so the app module's provider list stays as it is).
 */
export class Router {
  readonly maxAttempts: number;
  readonly maxWaitMs: number;
  readonly health: ChannelHealth;
  /** the random source of weighted selection (a test may swap in a seeded one) */
  random: () => number = Math.random;

  constructor(
    config: ProxyConfig,
    readonly registry: ChannelRegistry,
    readonly drain: DrainService,
  ) {
    this.maxAttempts = config.ROUTING_MAX_ATTEMPTS;
    this.maxWaitMs = config.ROUTING_MAX_RETRY_WAIT_MS;
    this.health = registry.health;
  }

  /** Allowlist, then the first selection: the request's RoutedCall, or why it is refused. */
  route(ex: Exchange, key: ResolvedKey, model: string): RoutedCall | ProxyError {
    if (key.allowedModels !== null && !key.allowedModels.has(model))
      return errors.modelNotAllowed(model);
    const audience: Audience = {
      group: key.record.tenantGroup,
      organisationId: key.record.organisationId,
    };
    const endpoint = ex.endpoint;
    if (endpoint === ProxyEndpoint.Embeddings || endpoint === ProxyEndpoint.Completions)
      audience.offers = (c) => channelOffers(c, endpoint);
    const first = this.select(model, audience, null);
    if (first === null) {
      // served, but by no channel with this endpoint's API: say so rather than "no such model"
      if (audience.offers !== undefined) {
        const other = this.registry.table.pick(model, { ...audience, offers: undefined });
        if (other !== null) return errors.endpointUnsupported(model, endpoint, other.type);
      }
      return errors.modelNotFound(model);
    }
    return new RoutedCall(this, ex, model, audience, key.record.allowFallback !== false, first);
  }

  select(
    model: string,
    audience: Audience,
    excluded: readonly RoutableChannel[] | null,
  ): RoutableChannel | Deferral | null {
    return this.registry.table.select(
      model,
      audience,
      this.health,
      excluded,
      Date.now(),
      this.random,
    );
  }

  /** What a failed attempt teaches about its channel, shared with every replica. */
  learn(channel: RoutableChannel, f: AttemptFailure, wasProbe: boolean): void {
    switch (f.kind) {
      case 'connect':
      case 'timeout':
      case 'server':
      case 'malformed':
        void this.health.recordFailure(channel);
        return;
      case 'rate_limited':
        if (f.retryAfterMs !== null && f.retryAfterMs > 0)
          void this.health.coolDown(channel, Date.now() + f.retryAfterMs);
        return;
      case 'credentials':
        void this.health.rejectCredentials(channel, f.status);
        return;
      case 'rejected':
        // the channel answered properly (the request was at fault): it is alive
        if (wasProbe) void this.health.probeSucceeded(channel);
        return;
    }
  }
}
