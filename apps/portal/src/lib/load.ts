import { unstable_rethrow } from 'next/navigation';
import { toProblemView, type ProblemView } from './problem';

export type Loaded<T> = { ok: true; data: T } | { ok: false; problem: ProblemView };

/**
 * Runs a page's backend call and keeps a failure as data, so a page shows what went wrong next to
 * what did load instead of failing whole. Next's own redirect/notFound signals pass through.
 */
export async function load<T>(fn: () => Promise<T>): Promise<Loaded<T>> {
  try {
    return { ok: true, data: await fn() };
  } catch (err) {
    unstable_rethrow(err);
    return { ok: false, problem: toProblemView(err) };
  }
}

/** The first value of a search parameter. */
export function one(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
