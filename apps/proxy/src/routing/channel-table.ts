import type { Dispatcher } from 'undici';
import { ALL_HEALTHY, ChannelState, type HealthView } from './channel-health';

/** A channel ready for the hot path: credential decrypted, URL split, sets built. */
export interface RoutableChannel {
  id: string;
  name: string;
  /** channel type, e.g. `openai` (the usage event's `provider`) */
  type: string;
  /** null for platform-wide channels */
  organisationId: string | null;
  /** e.g. `http://127.0.0.1:18000` */
  origin: string;
  /** path prefix of the base URL without a trailing slash, e.g. `/v1` */
  basePath: string;
  /** `Bearer <provider credential>` */
  authorization: string;
  /** the provider credential itself (Azure, Anthropic and Gemini send it in their own header) */
  apiKey?: string;
  /** Azure OpenAI `api-version`; null or absent for the adapter's default */
  apiVersion?: string | null;
  models: ReadonlySet<string>;
  modelMapping: Readonly<Record<string, string>>;
  priority: number;
  weight: number;
  groups: ReadonlySet<string>;
  /** the keep-alive pool of `origin` (with this channel's connect timeout) */
  pool: Dispatcher;
  /** the channel's own timeouts, or the configured defaults */
  firstByteTimeoutMs: number;
  totalTimeoutMs: number;
  /** sent with every request to this channel, after (so over) the proxy's own headers */
  extraHeaders: Readonly<Record<string, string>> | null;
  /** identifies the credential (not secret): a credentials rejection is forgotten once it changes */
  credentialFingerprint: string;
}

/** Who is asking: the key's tenant group and organisation. */
export interface Audience {
  group: string;
  organisationId: string;
  /** the API the request needs, when not every channel has it (embeddings, text completions) */
  offers?: (c: RoutableChannel) => boolean;
}

/** by id: a channel reload during a request builds new objects for the channels already tried */
const isExcluded = (excluded: readonly RoutableChannel[], c: RoutableChannel): boolean => {
  for (const x of excluded) if (x.id === c.id) return true;
  return false;
};

const reaches = (c: RoutableChannel, a: Audience): boolean =>
  c.groups.has(a.group) &&
  (c.organisationId === null || c.organisationId === a.organisationId) &&
  (a.offers === undefined || a.offers(c));

/**
 * The enabled channels indexed by public model name, each list in descending priority. A
 * request's candidates are the channels serving its model to the tenant's group, platform-wide
 * or owned by the key's organisation; the highest priority tier wins, weighted-random inside it.
 */
export class ChannelTable {
  private readonly byModel = new Map<string, RoutableChannel[]>();

  constructor(readonly channels: readonly RoutableChannel[]) {
    for (const c of channels) {
      for (const m of c.models) {
        let list = this.byModel.get(m);
        if (!list) this.byModel.set(m, (list = []));
        list.push(c);
      }
    }
    for (const list of this.byModel.values()) list.sort((a, b) => b.priority - a.priority);
  }

  /** All channels that could serve `model` to `audience`, highest priority first. */
  candidates(model: string, audience: Audience): RoutableChannel[] {
    return (this.byModel.get(model) ?? []).filter((c) => reaches(c, audience));
  }

  /** One channel of the highest reachable priority tier, chosen by weight; null when none serves the model. */
  pick(
    model: string,
    audience: Audience,
    random: () => number = Math.random,
  ): RoutableChannel | null {
    const r = this.select(model, audience, ALL_HEALTHY, null, 0, random);
    return r instanceof Deferral ? null : r;
  }

  /**
   * The channel for the next attempt: among the channels serving `model` to `audience` and not
   * `excluded` (already tried), the highest priority tier with a healthy channel, weighted-random
   * inside it. A Deferral when none is healthy (probe one, wait for one, or give up); null when no
   * channel serves the model to the audience at all. Allocates nothing in the healthy case.
   */
  select(
    model: string,
    audience: Audience,
    health: HealthView,
    excluded: readonly RoutableChannel[] | null,
    now: number,
    random: () => number,
  ): RoutableChannel | Deferral | null {
    const list = this.byModel.get(model);
    if (!list) return null;
    let reachable = false;
    let first: RoutableChannel | null = null;
    let count = 0;
    let total = 0;
    let tier = 0;
    let cooling: RoutableChannel | null = null;
    let coolUntil = Infinity;
    let openUntil = Infinity;
    let disabled = false;
    for (const c of list) {
      if (!reaches(c, audience)) continue;
      reachable = true;
      if (excluded !== null && isExcluded(excluded, c)) continue;
      if (first !== null && c.priority !== tier) break;
      switch (health.state(c, now)) {
        case ChannelState.Ok:
          if (first === null) {
            first = c;
            tier = c.priority;
          }
          count++;
          total += c.weight;
          break;
        case ChannelState.Probe:
          // a recovering channel in (or above) the tier in use gets its one probe, wherever it
          // sorts: otherwise a healthy tier-mate listed first would keep its circuit open for good
          return new Deferral(DeferralKind.Probe, c, 0);
        case ChannelState.Cooling: {
          const u = health.coolUntil(c);
          if (u < coolUntil) {
            coolUntil = u;
            cooling = c;
          }
          break;
        }
        case ChannelState.Open:
          openUntil = Math.min(openUntil, health.openUntil(c));
          break;
        case ChannelState.Disabled:
          disabled = true;
          break;
      }
    }
    if (!reachable) return null;
    if (first === null) {
      if (cooling !== null) return new Deferral(DeferralKind.Wait, cooling, coolUntil);
      if (openUntil !== Infinity) return new Deferral(DeferralKind.AllOpen, null, openUntil);
      return new Deferral(disabled ? DeferralKind.AllDisabled : DeferralKind.Exhausted, null, 0);
    }
    if (count === 1) return first;
    // all weights zero: every member of the tier is equally likely
    let r = total > 0 ? random() * total : Math.floor(random() * count);
    for (const c of list) {
      if (c.priority > tier || !reaches(c, audience)) continue;
      if (c.priority !== tier) break;
      if (excluded !== null && isExcluded(excluded, c)) continue;
      if (health.state(c, now) !== ChannelState.Ok) continue;
      r -= total > 0 ? c.weight : 1;
      if (r < 0) return c;
    }
    return first;
  }

  /** The public model names `audience` can reach (channels with refused credentials left out), sorted. */
  modelsFor(audience: Audience, health: HealthView = ALL_HEALTHY): string[] {
    const out: string[] = [];
    const now = Date.now();
    for (const [model, list] of this.byModel)
      if (list.some((c) => reaches(c, audience) && health.state(c, now) !== ChannelState.Disabled))
        out.push(model);
    return out.sort();
  }
}

export enum DeferralKind {
  /** the channel's circuit may be probed: acquire the probe first */
  Probe = 'probe',
  /** only cooling channels are left: `channel` is free again at `at` */
  Wait = 'wait',
  /** every remaining channel has an open circuit; the first may be probed at `at` */
  AllOpen = 'all_open',
  /** every remaining channel had its credentials refused */
  AllDisabled = 'all_disabled',
  /** every candidate was tried */
  Exhausted = 'exhausted',
}

/** No healthy channel to go to at once: what selection found instead. */
export class Deferral {
  constructor(
    readonly kind: DeferralKind,
    readonly channel: RoutableChannel | null,
    /** ms timestamp, see the kinds */
    readonly at: number,
  ) {}
}
