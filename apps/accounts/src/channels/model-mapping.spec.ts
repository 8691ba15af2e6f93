import { modelMappingProblems } from './model-mapping';

describe('modelMappingProblems', () => {
  it('accepts public → upstream names', () => {
    expect(
      modelMappingProblems({ 'gpt-4o-mini': 'mock-small', fast: 'gpt-4o-mini-2024-07-18' }),
    ).toEqual([]);
  });

  it('accepts an empty mapping', () => {
    expect(modelMappingProblems({})).toEqual([]);
  });

  it.each([
    ['a number', { a: 1 }],
    ['an empty target', { a: '' }],
    ['a nested object', { a: { b: 'c' } }],
    ['an empty source', { '': 'x' }],
    ['a huge name', { a: 'x'.repeat(201) }],
  ])('refuses %s', (_label, mapping) => {
    expect(modelMappingProblems(mapping as Record<string, unknown>).length).toBeGreaterThan(0);
  });
});
