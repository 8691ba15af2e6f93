import { ADMIT_LUA, FINISH_LUA } from './admission.lua';

/** The Lua table literal assigned to `local <name>` in a script, as strings (quotes removed). */
function luaList(script: string, name: string): string[] {
  const m = new RegExp(`local ${name} = \\{([^}]*)\\}`).exec(script);
  if (!m) throw new Error(`no table ${name}`);
  return m[1]!
    .split(',')
    .map((x) => x.trim().replace(/^'(.*)'$/, '$1'))
    .filter((x) => x.length > 0);
}

describe('admission scripts: counter field lists', () => {
  it.each([
    ['admit', ADMIT_LUA],
    ['finish', FINISH_LUA],
  ])(
    '%s: each list of field names to read names the fields its index list points at in F',
    (_, lua) => {
      const F = luaList(lua, 'F');
      expect(F).toHaveLength(21);
      for (const [idx, names] of [
        ['COUNTERS', 'COUNTERS_NAMES'],
        ['COUNTERS_RATE', 'COUNTERS_RATE_NAMES'],
      ] as const) {
        const positions = luaList(lua, idx).map(Number);
        expect(luaList(lua, names)).toEqual(positions.map((i) => F[i - 1]));
      }
    },
  );
});
