const MAX_ENTRIES = 500;
const MAX_NAME = 200;

/** Problems with a `modelMapping` (public name → upstream name); empty when it is valid. */
export function modelMappingProblems(mapping: Record<string, unknown>): string[] {
  const entries = Object.entries(mapping);
  const problems: string[] = [];
  if (entries.length > MAX_ENTRIES)
    problems.push(`modelMapping must have at most ${MAX_ENTRIES} entries`);
  for (const [from, to] of entries) {
    if (!from.trim() || from.length > MAX_NAME)
      problems.push(`modelMapping keys must be 1-${MAX_NAME} characters`);
    if (typeof to !== 'string' || !to.trim() || to.length > MAX_NAME) {
      problems.push(
        `modelMapping.${from.slice(0, 50)} must be a model name of 1-${MAX_NAME} characters`,
      );
    }
  }
  return problems;
}
