import type { Dispatcher } from 'undici';

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
  models: ReadonlySet<string>;
  modelMapping: Readonly<Record<string, string>>;
  priority: number;
  weight: number;
  groups: ReadonlySet<string>;
  /** the keep-alive pool of `origin` */
  pool: Dispatcher;
}

/** Who is asking: the key's tenant group and organisation. */
export interface Audience {
  group: string;
  organisationId: string;
}

const reaches = (c: RoutableChannel, a: Audience): boolean =>
  c.groups.has(a.group) && (c.organisationId === null || c.organisationId === a.organisationId);

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
    const list = this.byModel.get(model);
    if (!list) return null;
    let first: RoutableChannel | null = null;
    let count = 0;
    let total = 0;
    let tier = 0;
    for (const c of list) {
      if (!reaches(c, audience)) continue;
      if (first === null) {
        first = c;
        tier = c.priority;
      } else if (c.priority !== tier) break;
      count++;
      total += c.weight;
    }
    if (first === null || count === 1) return first;
    // all weights zero: every member of the tier is equally likely
    let r = total > 0 ? random() * total : Math.floor(random() * count);
    for (const c of list) {
      if (!reaches(c, audience)) continue;
      if (c.priority !== tier) break;
      r -= total > 0 ? c.weight : 1;
      if (r < 0) return c;
    }
    return first;
  }

  /** The public model names `audience` can reach, sorted. */
  modelsFor(audience: Audience): string[] {
    const out: string[] = [];
    for (const [model, list] of this.byModel)
      if (list.some((c) => reaches(c, audience))) out.push(model);
    return out.sort();
  }
}
