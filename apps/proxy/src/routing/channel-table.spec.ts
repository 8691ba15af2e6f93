import type { Dispatcher } from 'undici';
import { ChannelState, type HealthView } from './channel-health';
import { ChannelTable, Deferral, DeferralKind, type RoutableChannel } from './channel-table';
import { seededRandom } from './seeded-random';

let seq = 0;
function channel(over: Partial<RoutableChannel> = {}): RoutableChannel {
  seq++;
  return {
    id: `ch${seq}`,
    name: `channel ${seq}`,
    type: 'openai',
    organisationId: null,
    origin: 'http://127.0.0.1:1',
    basePath: '/v1',
    authorization: 'Bearer x',
    models: new Set(['gpt-4o-mini']),
    modelMapping: {},
    priority: 0,
    weight: 1,
    groups: new Set(['default']),
    pool: {} as Dispatcher,
    firstByteTimeoutMs: 1000,
    totalTimeoutMs: 2000,
    extraHeaders: null,
    credentialFingerprint: 'fp',
    ...over,
  };
}

const ORG = { group: 'default', organisationId: 'org-a' };

/** A deterministic stand-in for Math.random cycling through [0, 1). */
function evenRandom(n: number): () => number {
  let i = 0;
  return () => (i++ % n) / n + 1 / (2 * n);
}

describe('ChannelTable', () => {
  describe('pick', () => {
    it('returns null when no channel serves the model', () => {
      const sut = new ChannelTable([channel()]);
      expect(sut.pick('gpt-4o', ORG)).toBeNull();
    });

    it('uses only the highest priority tier that can serve the request', () => {
      const low = channel({ priority: 1 });
      const high = channel({ priority: 5 });
      const higherOtherGroup = channel({ priority: 9, groups: new Set(['vip']) });
      const sut = new ChannelTable([low, high, higherOtherGroup]);
      for (let i = 0; i < 20; i++) expect(sut.pick('gpt-4o-mini', ORG)).toBe(high);
    });

    it('honours the weights within a tier', () => {
      const a = channel({ weight: 1 });
      const b = channel({ weight: 3 });
      const sut = new ChannelTable([a, b]);
      const random = evenRandom(1000);
      const counts = new Map<RoutableChannel, number>([
        [a, 0],
        [b, 0],
      ]);
      for (let i = 0; i < 1000; i++) {
        const c = sut.pick('gpt-4o-mini', ORG, random)!;
        counts.set(c, counts.get(c)! + 1);
      }
      expect(counts.get(a)).toBe(250);
      expect(counts.get(b)).toBe(750);
    });

    it('spreads a weighted random choice in proportion to the weights', () => {
      const a = channel({ weight: 1 });
      const b = channel({ weight: 4 });
      const sut = new ChannelTable([a, b]);
      let bs = 0;
      for (let i = 0; i < 5000; i++) if (sut.pick('gpt-4o-mini', ORG) === b) bs++;
      expect(bs / 5000).toBeGreaterThan(0.75);
      expect(bs / 5000).toBeLessThan(0.85);
    });

    it('never picks a zero-weight channel when its tier has weight elsewhere, and picks evenly when all are zero', () => {
      const zero = channel({ weight: 0 });
      const one = channel({ weight: 1 });
      expect(
        new Set(
          Array.from({ length: 50 }, () => new ChannelTable([zero, one]).pick('gpt-4o-mini', ORG)),
        ),
      ).toEqual(new Set([one]));
      const z1 = channel({ weight: 0 });
      const z2 = channel({ weight: 0 });
      const random = evenRandom(2);
      const sut = new ChannelTable([z1, z2]);
      expect([sut.pick('gpt-4o-mini', ORG, random), sut.pick('gpt-4o-mini', ORG, random)]).toEqual([
        z1,
        z2,
      ]);
    });

    it("serves platform-wide channels and the key's own organisation's, never another organisation's", () => {
      const own = channel({ organisationId: 'org-a', priority: 2 });
      const foreign = channel({ organisationId: 'org-b', priority: 3 });
      const platform = channel({ priority: 1 });
      const sut = new ChannelTable([own, foreign, platform]);
      expect(sut.pick('gpt-4o-mini', ORG)).toBe(own);
      expect(sut.pick('gpt-4o-mini', { group: 'default', organisationId: 'org-c' })).toBe(platform);
      expect(sut.candidates('gpt-4o-mini', ORG)).toEqual([own, platform]);
    });
  });

  describe('modelsFor', () => {
    it('lists the models reachable by the group and organisation, sorted and unique', () => {
      const sut = new ChannelTable([
        channel({ models: new Set(['b', 'a']) }),
        channel({ models: new Set(['a', 'c']), groups: new Set(['vip']) }),
        channel({ models: new Set(['d']), organisationId: 'org-b' }),
        channel({ models: new Set(['e']), organisationId: 'org-a' }),
      ]);
      expect(sut.modelsFor(ORG)).toEqual(['a', 'b', 'e']);
      expect(sut.modelsFor({ group: 'vip', organisationId: 'org-b' })).toEqual(['a', 'c']);
    });
  });

  describe('select', () => {
    const NOW = 1_000_000;

    /** health as selection sees it: a state (and time) per channel, Ok for the rest */
    function health(states: Map<RoutableChannel, [ChannelState, number]>): HealthView {
      return {
        state: (c) => states.get(c)?.[0] ?? ChannelState.Ok,
        coolUntil: (c) => states.get(c)?.[1] ?? 0,
        openUntil: (c) => states.get(c)?.[1] ?? 0,
      };
    }
    const healthy = health(new Map());

    it('spreads picks over a tier in proportion to the weights (chi-square, seeded)', () => {
      const members = [1, 2, 3, 4].map((weight) => channel({ weight }));
      const sut = new ChannelTable([...members, channel({ priority: -1, weight: 100 })]);
      const random = seededRandom(20261125);
      const n = 20_000;
      const counts = new Map<RoutableChannel, number>(members.map((c) => [c, 0]));
      for (let i = 0; i < n; i++) {
        const c = sut.select('gpt-4o-mini', ORG, healthy, null, NOW, random) as RoutableChannel;
        counts.set(c, (counts.get(c) ?? 0) + 1);
      }
      expect(counts.size).toBe(4);
      let chi2 = 0;
      for (const c of members) {
        const expected = (n * c.weight) / 10;
        chi2 += ((counts.get(c) ?? 0) - expected) ** 2 / expected;
      }
      // 3 degrees of freedom: 16.27 is the 0.1% critical value
      expect(chi2).toBeLessThan(16.27);
    });

    it('detects a skewed source with the same test (the statistic has power at this sample size)', () => {
      const a = channel({ weight: 1 });
      const b = channel({ weight: 1 });
      const sut = new ChannelTable([a, b]);
      const base = seededRandom(7);
      // a source biased towards the first half of [0, 1): a picked ~55% of the time
      const skewed = () => Math.min(0.999999, base() * 0.91);
      let as = 0;
      const n = 20_000;
      for (let i = 0; i < n; i++)
        if (sut.select('gpt-4o-mini', ORG, healthy, null, NOW, skewed) === a) as++;
      const chi2 = ((as - n / 2) ** 2 / (n / 2)) * 2;
      expect(chi2).toBeGreaterThan(10.83);
    });

    it('never returns an excluded channel and moves to the next tier when a tier is used up', () => {
      const a = channel({ priority: 2 });
      const b = channel({ priority: 2 });
      const c = channel({ priority: 1 });
      const sut = new ChannelTable([a, b, c]);
      const random = seededRandom(1);
      for (let i = 0; i < 50; i++) {
        expect(sut.select('gpt-4o-mini', ORG, healthy, [a], NOW, random)).toBe(b);
        expect(sut.select('gpt-4o-mini', ORG, healthy, [b, a], NOW, random)).toBe(c);
      }
      const done = sut.select('gpt-4o-mini', ORG, healthy, [a, b, c], NOW, random);
      expect(done).toEqual(new Deferral(DeferralKind.Exhausted, null, 0));
    });

    it('skips open, cooling and disabled channels for a healthy lower tier', () => {
      const open = channel({ priority: 3 });
      const cooling = channel({ priority: 3 });
      const disabled = channel({ priority: 3 });
      const low = channel({ priority: 1 });
      const sut = new ChannelTable([open, cooling, disabled, low]);
      const h = health(
        new Map<RoutableChannel, [ChannelState, number]>([
          [open, [ChannelState.Open, NOW + 500]],
          [cooling, [ChannelState.Cooling, NOW + 100]],
          [disabled, [ChannelState.Disabled, 0]],
        ]),
      );
      expect(sut.select('gpt-4o-mini', ORG, h, null, NOW, Math.random)).toBe(low);
    });

    it('offers a recovering channel above every healthy one for its probe', () => {
      const recovering = channel({ priority: 3 });
      const low = channel({ priority: 1 });
      const sut = new ChannelTable([recovering, low]);
      const h = health(new Map([[recovering, [ChannelState.Probe, 0] as [ChannelState, number]]]));
      expect(sut.select('gpt-4o-mini', ORG, h, null, NOW, Math.random)).toEqual(
        new Deferral(DeferralKind.Probe, recovering, 0),
      );
      expect(sut.select('gpt-4o-mini', ORG, h, [recovering], NOW, Math.random)).toBe(low);
    });

    it('offers a recovering channel for its probe even when a healthy tier-mate sorts first', () => {
      const healthyMate = channel({ priority: 3 });
      const recovering = channel({ priority: 3 });
      const low = channel({ priority: 1 });
      const sut = new ChannelTable([healthyMate, recovering, low]);
      const h = health(new Map([[recovering, [ChannelState.Probe, 0] as [ChannelState, number]]]));
      expect(sut.select('gpt-4o-mini', ORG, h, null, NOW, Math.random)).toEqual(
        new Deferral(DeferralKind.Probe, recovering, 0),
      );
      // the replica that lost the probe routes inside the tier as usual
      expect(sut.select('gpt-4o-mini', ORG, h, [recovering], NOW, Math.random)).toBe(healthyMate);
    });

    it('recognises an excluded channel by id, so a reload mid-request cannot bring it back', () => {
      const a = channel({ priority: 2 });
      const b = channel({ priority: 1 });
      const reloaded = new ChannelTable([{ ...a }, { ...b }]);
      expect(reloaded.select('gpt-4o-mini', ORG, healthy, [a], NOW, Math.random)).toMatchObject({
        id: b.id,
      });
    });

    it('keeps the weights among the channels left when some are excluded or unhealthy (chi-square, seeded)', () => {
      const tried = channel({ weight: 50 });
      const open = channel({ weight: 50 });
      const left = [1, 3, 6].map((weight) => channel({ weight }));
      const sut = new ChannelTable([tried, ...left.slice(0, 1), open, ...left.slice(1)]);
      const h = health(
        new Map([[open, [ChannelState.Open, NOW + 1000] as [ChannelState, number]]]),
      );
      const random = seededRandom(424242);
      const n = 20_000;
      const counts = new Map<RoutableChannel, number>();
      for (let i = 0; i < n; i++) {
        const c = sut.select('gpt-4o-mini', ORG, h, [tried], NOW, random) as RoutableChannel;
        counts.set(c, (counts.get(c) ?? 0) + 1);
      }
      expect([...counts.keys()].sort((x, y) => x.weight - y.weight)).toEqual(left);
      let chi2 = 0;
      for (const c of left) {
        const expected = (n * c.weight) / 10;
        chi2 += ((counts.get(c) ?? 0) - expected) ** 2 / expected;
      }
      // 2 degrees of freedom: 13.82 is the 0.1% critical value
      expect(chi2).toBeLessThan(13.82);
    });

    it('says what is left when nothing is healthy: the earliest cooling channel, else open, else disabled', () => {
      const c1 = channel();
      const c2 = channel();
      const sut = new ChannelTable([c1, c2]);
      const cool = health(
        new Map<RoutableChannel, [ChannelState, number]>([
          [c1, [ChannelState.Cooling, NOW + 900]],
          [c2, [ChannelState.Cooling, NOW + 300]],
        ]),
      );
      expect(sut.select('gpt-4o-mini', ORG, cool, null, NOW, Math.random)).toEqual(
        new Deferral(DeferralKind.Wait, c2, NOW + 300),
      );
      const open = health(
        new Map<RoutableChannel, [ChannelState, number]>([
          [c1, [ChannelState.Open, NOW + 900]],
          [c2, [ChannelState.Disabled, 0]],
        ]),
      );
      expect(sut.select('gpt-4o-mini', ORG, open, null, NOW, Math.random)).toEqual(
        new Deferral(DeferralKind.AllOpen, null, NOW + 900),
      );
      const off = health(
        new Map<RoutableChannel, [ChannelState, number]>([
          [c1, [ChannelState.Disabled, 0]],
          [c2, [ChannelState.Disabled, 0]],
        ]),
      );
      expect(sut.select('gpt-4o-mini', ORG, off, null, NOW, Math.random)).toEqual(
        new Deferral(DeferralKind.AllDisabled, null, 0),
      );
    });

    it('returns null only when no channel serves the model to the audience at all', () => {
      const sut = new ChannelTable([channel({ organisationId: 'org-b' })]);
      expect(sut.select('gpt-4o-mini', ORG, healthy, null, NOW, Math.random)).toBeNull();
      expect(sut.select('other', ORG, healthy, null, NOW, Math.random)).toBeNull();
    });

    it('leaves channels with refused credentials out of the listed models', () => {
      const off = channel({ models: new Set(['x']) });
      const on = channel({ models: new Set(['y']) });
      const sut = new ChannelTable([off, on]);
      const h = health(new Map([[off, [ChannelState.Disabled, 0] as [ChannelState, number]]]));
      expect(sut.modelsFor(ORG, h)).toEqual(['y']);
    });
  });
});
