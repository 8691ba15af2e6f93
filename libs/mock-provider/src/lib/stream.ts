import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MockSettings } from './settings';
import { later } from './http';

/**
 * What one streamed answer writes: `head` first (with the headers; may hold several events or be
 * empty), then one content event each (the unit `chunks`, `chunk_delay_ms` and
 * `reset_after_chunks` count), then `tail` (the closing events), each already in wire form.
 */
export interface StreamPlan {
  head: string;
  content: string[];
  tail: string;
  contentType: string;
  headers?: Record<string, string>;
}

export interface StreamHooks {
  /** a fault was injected (the connection reset) */
  onFault(): void;
  /** the connection closed before the stream ended */
  onAbort(): void;
}

/** Writes a plan with the settings' delays and the connection reset fault. */
export function writeStream(
  req: IncomingMessage,
  res: ServerResponse,
  plan: StreamPlan,
  s: MockSettings,
  hooks: StreamHooks,
): void {
  const events = [plan.head, ...plan.content, plan.tail];
  const n = plan.content.length;
  const lastContent = n; // index of the last content event
  const resetAt = s.reset_after_chunks >= 0 ? Math.min(s.reset_after_chunks, n) : -1;

  let closed = false;
  let timer: NodeJS.Timeout | null = null;
  res.once('close', () => {
    closed = true;
    if (timer) clearTimeout(timer);
    if (!res.writableFinished) hooks.onAbort();
  });
  let i = 0;
  const writeThrough = (upTo: number) => {
    while (i <= upTo && i < events.length) {
      if (events[i]) res.write(events[i]);
      i++;
    }
  };
  const finishOrReset = (): boolean => {
    if (resetAt >= 0 && i > resetAt) {
      hooks.onFault();
      // let the written events leave before the RST
      setImmediate(() => req.socket.resetAndDestroy());
      return true;
    }
    return false;
  };
  const step = () => {
    timer = null;
    if (closed) return;
    writeThrough(i); // one content event
    if (finishOrReset()) return;
    if (i > lastContent) {
      writeThrough(events.length - 1);
      res.end();
      return;
    }
    timer = setTimeout(step, s.chunk_delay_ms);
  };
  const start = () => {
    if (closed) return;
    res.writeHead(200, {
      'content-type': plan.contentType,
      'cache-control': 'no-cache',
      ...plan.headers,
    });
    if (s.chunk_delay_ms <= 0 || n === 0) {
      res.cork();
      writeThrough(resetAt >= 0 ? resetAt : events.length - 1);
      res.uncork();
      if (!finishOrReset()) res.end();
      return;
    }
    writeThrough(0); // the head goes with the headers
    if (finishOrReset()) return;
    timer = setTimeout(step, s.chunk_delay_ms);
  };
  later(s.latency_ms, res, start);
}

/** A malformed stream: events whose data is cut-off JSON, and no proper end. */
export function garbledPlan(contentType: string, eventName?: string): StreamPlan {
  const ev = (word: string) =>
    `${eventName ? `event: ${eventName}\n` : ''}data: {"id":"x","choices":[{"delta":{"content":${JSON.stringify(word)}\n\n`;
  return {
    head: ev(''),
    content: [ev('tollgate'), ev(' mock')],
    tail: 'event without a colon\n\n',
    contentType,
  };
}

/** Splits `text` into `k` nearly equal non-empty pieces (fewer when it is shorter). */
export function splitText(text: string, k: number): string[] {
  const parts = Math.max(1, Math.min(k, text.length));
  const size = Math.ceil(text.length / parts);
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length ? out : [''];
}
