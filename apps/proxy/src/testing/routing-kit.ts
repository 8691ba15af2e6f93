import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  type ChannelProjection,
  projectionKeys,
  type UsageRecordedJobData,
} from '@tollgate/contracts';
import {
  type MockSettings,
  type RunningMockProvider,
  startMockProvider,
} from '@tollgate/mock-provider';
import { listenAndDescribe } from '@tollgate/server-kit';
import { waitFor } from '@tollgate/server-testing';
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { request } from 'undici';
import { createProxyApp } from '../app/create-proxy-app';
import { ChannelRegistry } from '../routing/channel-registry';
import { type ProxyHarness, UPSTREAM_KEY } from './proxy-harness';

/**
 * Helpers for routing tests: several mock providers (one per channel), channel sets swapped in
 * whole (fresh ids, so every test starts with fresh shared health), a second proxy replica on the
 * same Redis prefix, and raw HTTP calls that keep whatever arrived before a failure.
 */

export const MODEL = 'gpt-4o-mini';

export async function startMocks(n: number): Promise<RunningMockProvider[]> {
  return Promise.all(
    Array.from({ length: n }, () => startMockProvider({ apiKey: UPSTREAM_KEY, models: [MODEL] })),
  );
}

/** Puts every mock back to healthy defaults (plus `fault` on none) and clears its counters. */
export function resetMocks(mocks: readonly RunningMockProvider[]): void {
  for (const m of mocks) {
    m.configure({ reset: true });
    m.resetStats();
  }
}

/** A mock's default behaviour for every request from now on (a fault, usually). */
export function setFault(mock: RunningMockProvider, fault: Partial<MockSettings>): void {
  mock.configure({ reset: true, defaults: fault });
}

/** chat requests a mock received (streamed and not, faults included) */
export const chatRequests = (m: RunningMockProvider): number =>
  m.stats().byModel[MODEL]?.requests ?? 0;

/** a channel's own timeouts, as accounts projects them */
type ChannelTimeouts = Pick<
  ChannelProjection,
  'connectTimeoutMs' | 'firstByteTimeoutMs' | 'totalTimeoutMs'
>;

export interface ChannelSpec extends ChannelTimeouts {
  mock: RunningMockProvider;
  /** [MODEL] unless given */
  models?: string[];
  modelMapping?: Record<string, string>;
  priority?: number;
  weight?: number;
  /** the credential sent to the mock (UPSTREAM_KEY, the one it accepts, by default) */
  apiKey?: string;
}

/**
 * Replaces the whole channel set with new channels (new ids) and waits until every given proxy
 * app has loaded exactly these. Returns the projections in the order of `specs`.
 */
export async function replaceChannels(
  h: ProxyHarness,
  specs: readonly ChannelSpec[],
  apps: readonly NestFastifyApplication[] = [h.app],
): Promise<ChannelProjection[]> {
  await h.redis.del(projectionKeys.channels(h.prefix.prefix));
  const out: ChannelProjection[] = [];
  for (const [i, s] of specs.entries()) {
    const { mock, ...rest } = s;
    out.push(
      await h.addChannel({ name: `channel ${i}`, baseUrl: mock.baseUrl, models: [MODEL], ...rest }),
    );
  }
  const ids = out
    .map((c) => c.id)
    .sort()
    .join(',');
  await h.publish({ kind: 'channels' });
  for (const app of apps) {
    const registry = app.get(ChannelRegistry);
    await waitFor(
      () =>
        registry.table.channels
          .map((c) => c.id)
          .sort()
          .join(',') === ids,
      { timeoutMs: 3000, what: 'the new channel set loaded' },
    );
  }
  return out;
}

/** A second proxy replica: its own Nest app and memory, the same Redis prefix and queue. */
export async function startReplica(
  h: ProxyHarness,
): Promise<{ app: NestFastifyApplication; url: string }> {
  const app = await createProxyApp(h.config);
  const url = await listenAndDescribe(app, 0, '127.0.0.1');
  return { app, url };
}

export interface ProxyProcess {
  url: string;
  child: ChildProcess;
  /** SIGTERM (graceful shutdown), then waits for the exit */
  stop(): Promise<void>;
}

/**
 * A proxy replica in a process of its own, started from the sources by its real entry point with
 * the environment `h`'s in-process proxy was given (same Redis prefix, queue and encryption key).
 * Resolves once it listens.
 */
export function startProxyProcess(
  h: ProxyHarness,
  env: Record<string, string>,
  startTimeoutMs = 30_000,
): Promise<ProxyProcess> {
  const child = spawn(process.execPath, [path.join(__dirname, 'run-from-source.cjs')], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: '0',
      REDIS_URL: h.config.REDIS_URL,
      TOLLGATE_REDIS_PREFIX: h.config.TOLLGATE_REDIS_PREFIX,
      TOLLGATE_QUEUE_PREFIX: h.config.TOLLGATE_QUEUE_PREFIX,
      TOLLGATE_ENCRYPTION_KEY: h.config.TOLLGATE_ENCRYPTION_KEY,
      USAGE_FLUSH_INTERVAL_MS: '5',
      // `log` for the one line that says where it listens; nothing is logged per request
      LOG_LEVEL: 'log',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString('utf8')).slice(-4000);
  });
  return new Promise<ProxyProcess>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`the proxy process did not start in ${startTimeoutMs} ms: ${stderr}`));
    }, startTimeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the proxy process exited (${String(code)}): ${stderr}`));
    });
    child.stdout?.on('data', (d: Buffer) => {
      out = (out + d.toString('utf8')).slice(-4000);
      const m = /proxy listening on (http:\/\/[0-9.:]+)/.exec(out);
      if (m === null) return;
      clearTimeout(timer);
      child.stdout?.removeAllListeners('data');
      child.stdout?.resume();
      resolve({ url: m[1], child, stop });
    });
  });
}

export interface ProxyAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** the body as far as it arrived */
  text: string;
  requestId: string;
  /** the body failed to arrive whole (connection cut) */
  bodyError: unknown;
  elapsedMs: number;
}

export interface PostOptions {
  url?: string;
  /** `/v1/chat/completions` unless given */
  path?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** called with the text received so far after every chunk */
  onChunk?: (textSoFar: string) => void;
}

/** POSTs a chat completion request (or `body` as it is to `options.path`) and reads whatever comes back. */
export async function postChat(
  h: ProxyHarness,
  secret: string,
  body: Record<string, unknown>,
  options: PostOptions = {},
): Promise<ProxyAnswer> {
  const started = Date.now();
  const res = await request(`${options.url ?? h.url}${options.path ?? '/v1/chat/completions'}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${secret}`,
      ...options.headers,
    },
    body: JSON.stringify(
      options.path === undefined
        ? { model: MODEL, messages: [{ role: 'user', content: 'hi' }], ...body }
        : { model: MODEL, ...body },
    ),
    signal: options.signal,
  });
  let text = '';
  let bodyError: unknown = null;
  try {
    for await (const chunk of res.body) {
      text += (chunk as Buffer).toString('utf8');
      options.onChunk?.(text);
    }
  } catch (err) {
    bodyError = err;
  }
  return {
    status: res.statusCode,
    headers: res.headers,
    text,
    requestId: String(res.headers['x-request-id']),
    bodyError,
    elapsedMs: Date.now() - started,
  };
}

/** The `data:` payloads of an event stream's text, JSON-parsed (`[DONE]` kept as the string). */
export function sseData(text: string): unknown[] {
  const out: unknown[] = [];
  for (const block of text.split('\n\n')) {
    const data = block
      .split('\n')
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).trimStart())
      .join('\n');
    if (data === '') continue;
    out.push(data === '[DONE]' ? data : JSON.parse(data));
  }
  return out;
}

/** The OpenAI error object of a JSON error answer or of a stream's error event; null without one. */
export function openAIErrorOf(a: ProxyAnswer): { code: string | null; type: string } | null {
  const isError = (v: unknown): v is { error: { code: string | null; type: string } } =>
    typeof v === 'object' && v !== null && 'error' in v;
  if (String(a.headers['content-type']).startsWith('application/json')) {
    const v: unknown = JSON.parse(a.text);
    return isError(v) ? v.error : null;
  }
  const ev = sseData(a.text).find(isError);
  return ev ? ev.error : null;
}

/** Waits until the proxy has enqueued the request's event, then a little, and counts the queue. */
export async function settleEvents(
  h: ProxyHarness,
  requestIds: readonly string[],
): Promise<number> {
  for (const id of requestIds) await h.usage(id);
  await new Promise((r) => setTimeout(r, 100));
  return h.jobCount();
}

/** The ids of every usage event in the test's queue. */
export async function eventIds(h: ProxyHarness): Promise<Set<string>> {
  const jobs = await h.queue.getJobs(['waiting', 'delayed', 'paused', 'prioritized'], 0, -1);
  return new Set(jobs.map((j) => String(j.id)));
}

/** The events enqueued since `before` was taken (for requests whose id the client never saw). */
export async function eventsSince(
  h: ProxyHarness,
  before: ReadonlySet<string>,
): Promise<UsageRecordedJobData[]> {
  await new Promise((r) => setTimeout(r, 100));
  const jobs = await h.queue.getJobs(['waiting', 'delayed', 'paused', 'prioritized'], 0, -1);
  return jobs.filter((j) => !before.has(String(j.id))).map((j) => j.data);
}
