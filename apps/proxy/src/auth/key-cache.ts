import type { KeyRecordProjection } from '@tollgate/contracts';

/** A key record as the hot path uses it: parsed once when it enters the cache. */
export interface ResolvedKey {
  record: KeyRecordProjection;
  /** epoch ms, null for no expiry; NaN when the stored instant is unreadable (treated as expired) */
  expiresAtMs: number | null;
  allowedModels: ReadonlySet<string> | null;
}

export interface KeyCacheOptions {
  ttlMs: number;
  negativeTtlMs: number;
  maxEntries: number;
  /** while change notifications are not flowing, entries older than this are re-read */
  unsubscribedMaxAgeMs?: number;
  now?: () => number;
}

interface Entry {
  key: ResolvedKey | null;
  loadedAt: number;
}

export type KeyLoader = (hash: string) => Promise<KeyRecordProjection | null>;

export function resolveKey(record: KeyRecordProjection): ResolvedKey {
  return {
    record,
    expiresAtMs: record.expiresAt ? Date.parse(record.expiresAt) : null,
    allowedModels: Array.isArray(record.models) ? new Set(record.models) : null,
  };
}

/**
 * The in-process key cache in front of the Redis projection. Entries are dropped by change
 * notifications (`invalidate`, `clear`); a time-to-live bounds how stale one can be if a
 * notification is lost, and while notifications are not flowing (`setLive(false)`) entries
 * older than a second are re-read, so a revocation always lands within a second. Concurrent
 * misses for one key share one read; a read that raced an invalidation is not cached.
 */
export class KeyCache {
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<ResolvedKey | null>>();
  private live = false;
  private readonly now: () => number;
  private readonly unsubscribedMaxAgeMs: number;

  constructor(
    private readonly load: KeyLoader,
    private readonly options: KeyCacheOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.unsubscribedMaxAgeMs = options.unsubscribedMaxAgeMs ?? 1000;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Change notifications are flowing (true) or not (false). */
  setLive(live: boolean): void {
    this.live = live;
  }

  private isFresh(e: Entry, now: number): boolean {
    const age = now - e.loadedAt;
    if (age >= (e.key ? this.options.ttlMs : this.options.negativeTtlMs)) return false;
    return this.live || age < this.unsubscribedMaxAgeMs;
  }

  /** The key for a hash: synchronously when cached and fresh, else after one Redis read. */
  get(hash: string): ResolvedKey | null | Promise<ResolvedKey | null> {
    const e = this.entries.get(hash);
    if (e !== undefined && this.isFresh(e, this.now())) return e.key;
    return this.fetch(hash, e);
  }

  private fetch(hash: string, stale: Entry | undefined): Promise<ResolvedKey | null> {
    const inFlight = this.pending.get(hash);
    if (inFlight) return inFlight;
    const p = this.load(hash).then(
      (record) => {
        const key = record ? resolveKey(record) : null;
        if (this.pending.get(hash) === p) {
          this.pending.delete(hash);
          this.store(hash, key);
        }
        return key;
      },
      (err: unknown) => {
        if (this.pending.get(hash) === p) this.pending.delete(hash);
        // Redis unreachable: a key we knew keeps working (it cannot have been revoked through Redis either)
        if (stale !== undefined) return stale.key;
        throw err;
      },
    );
    this.pending.set(hash, p);
    return p;
  }

  private store(hash: string, key: ResolvedKey | null): void {
    if (this.options.negativeTtlMs === 0 && key === null) return;
    this.entries.delete(hash);
    if (this.entries.size >= this.options.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(hash, { key, loadedAt: this.now() });
  }

  invalidate(hash: string): void {
    this.entries.delete(hash);
    this.pending.delete(hash);
  }

  clear(): void {
    this.entries.clear();
    this.pending.clear();
  }
}
