import type { Dispatcher } from 'undici';
import { ChannelTable, type RoutableChannel } from './channel-table';

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
});
