import type { SessionTokens } from './session';

export type RefreshFn = (refreshToken: string) => Promise<SessionTokens>;

export interface RefresherOptions {
  now?: () => number;
  /**
   * How long a finished refresh is remembered. Refresh tokens rotate, so a second request that still
   * carries the old cookie (parallel navigations, prefetches) must get the same new pair instead of
   * spending the old token twice.
   */
  reuseMs?: number;
  maxEntries?: number;
}

/**
 * Wraps the accounts refresh call so that one refresh token is exchanged at most once per process:
 * concurrent and shortly-following callers share the result. Failures are not remembered.
 */
export function createRefresher(refresh: RefreshFn, opts: RefresherOptions = {}): RefreshFn {
  const now = opts.now ?? Date.now;
  const reuseMs = opts.reuseMs ?? 60_000;
  const maxEntries = opts.maxEntries ?? 1000;
  const entries = new Map<string, { promise: Promise<SessionTokens>; settledAt: number | null }>();

  function prune(): void {
    const t = now();
    for (const [token, entry] of entries) {
      if (entry.settledAt !== null && t - entry.settledAt > reuseMs) entries.delete(token);
    }
    // Map keeps insertion order: drop the oldest when a flood of sessions refreshes at once
    while (entries.size >= maxEntries) {
      const oldest = entries.keys().next();
      if (oldest.done) break;
      entries.delete(oldest.value);
    }
  }

  return (refreshToken: string) => {
    const existing = entries.get(refreshToken);
    if (existing && (existing.settledAt === null || now() - existing.settledAt <= reuseMs)) {
      return existing.promise;
    }
    prune();
    const entry: { promise: Promise<SessionTokens>; settledAt: number | null } = {
      promise: refresh(refreshToken),
      settledAt: null,
    };
    entries.set(refreshToken, entry);
    entry.promise.then(
      () => {
        entry.settledAt = now();
      },
      () => {
        if (entries.get(refreshToken) === entry) entries.delete(refreshToken);
      },
    );
    return entry.promise;
  };
}
