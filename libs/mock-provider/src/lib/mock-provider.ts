import { randomBytes } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  BUILT_IN_SETTINGS,
  pickSettings,
  resolveSettings,
  type MockSettings,
  type RuntimeConfig,
} from './settings';
import {
  errorJson,
  mockAnswer,
  mockEmbedding,
  mockEmbeddingTokens,
  mockPromptTokens,
  mockWord,
  usageJson,
} from './wire';

export interface MockProviderOptions {
  /** 0 (the default) picks a free port */
  port?: number;
  /** loopback by default; keep it that way */
  host?: string;
  /** when set, `Authorization: Bearer <apiKey>` must match exactly; otherwise any bearer token is accepted */
  apiKey?: string;
  /** served by `GET /v1/models` */
  models?: string[];
  /** overrides of the built-in settings */
  defaults?: Partial<MockSettings>;
}

export interface MockModelStats {
  requests: number;
  chat: number;
  chatStream: number;
  embeddings: number;
  /** answered with an injected fault */
  faults: number;
  /** streams whose connection closed before the stream ended */
  abortedStreams: number;
  /** headers and parsed body of the last request for this model */
  lastHeaders: IncomingHttpHeaders;
  lastBody: unknown;
}

export interface MockStats {
  requests: number;
  chat: number;
  chatStream: number;
  embeddings: number;
  models: number;
  unauthorized: number;
  badRequest: number;
  notFound: number;
  faults: number;
  abortedStreams: number;
  inFlight: number;
  inFlightMax: number;
  /** keyed by the model name the mock received */
  byModel: Record<string, MockModelStats>;
}

/** Body of `POST /__config` (also `configure()`): top-level settings change the runtime defaults. */
export interface MockConfigUpdate extends Partial<MockSettings> {
  /** clear every runtime setting first */
  reset?: boolean;
  defaults?: Partial<MockSettings>;
  /** per model name: settings, or null to remove them */
  models?: Record<string, Partial<MockSettings> | null>;
}

export interface RunningMockProvider {
  /** origin, e.g. `http://127.0.0.1:18000` */
  url: string;
  /** `url` + `/v1`, the base URL an OpenAI client or a channel uses */
  baseUrl: string;
  port: number;
  stats(): MockStats;
  resetStats(): void;
  configure(update: MockConfigUpdate): RuntimeConfig;
  stop(): Promise<void>;
}

const DEFAULT_MODELS = ['gpt-4o-mini', 'gpt-4o', 'text-embedding-3-small'];
const MAX_BODY = 16 * 1024 * 1024;
const MAX_TRACKED_MODELS = 1000;

const emptyModelStats = (): MockModelStats => ({
  requests: 0,
  chat: 0,
  chatStream: 0,
  embeddings: 0,
  faults: 0,
  abortedStreams: 0,
  lastHeaders: {},
  lastBody: null,
});

const emptyStats = (): MockStats => ({
  requests: 0,
  chat: 0,
  chatStream: 0,
  embeddings: 0,
  models: 0,
  unauthorized: 0,
  badRequest: 0,
  notFound: 0,
  faults: 0,
  abortedStreams: 0,
  inFlight: 0,
  inFlightMax: 0,
  byModel: {},
});

type Json = Record<string, unknown>;

/** A mock of an OpenAI-compatible provider: real HTTP, real wire format, controllable faults. */
class MockProvider {
  private stats = emptyStats();
  private runtime: RuntimeConfig = { defaults: {}, models: {} };
  private readonly base: MockSettings;
  private readonly modelsBody: string;
  private readonly idPrefix = randomBytes(4).toString('hex');
  private seq = 0;
  readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly options: MockProviderOptions) {
    this.base = { ...BUILT_IN_SETTINGS, ...pickSettings(options.defaults ?? {}) };
    this.modelsBody = JSON.stringify({
      object: 'list',
      data: (options.models ?? DEFAULT_MODELS).map((id) => ({
        id,
        object: 'model',
        created: 1700000000,
        owned_by: 'mock',
      })),
    });
    this.server = createServer({ keepAliveTimeout: 65_000, noDelay: true }, (req, res) =>
      this.handle(req, res),
    );
    this.server.headersTimeout = 66_000;
    this.server.requestTimeout = 0;
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
  }

  snapshot(): MockStats {
    return structuredClone(this.stats);
  }

  resetStats(): void {
    const inFlight = this.stats.inFlight;
    this.stats = emptyStats();
    this.stats.inFlight = inFlight;
    this.stats.inFlightMax = inFlight;
  }

  configure(update: MockConfigUpdate): RuntimeConfig {
    if (update.reset) this.runtime = { defaults: {}, models: {} };
    Object.assign(this.runtime.defaults, pickSettings(update), pickSettings(update.defaults ?? {}));
    if (update.models && typeof update.models === 'object') {
      for (const [name, cfg] of Object.entries(update.models).slice(0, MAX_TRACKED_MODELS)) {
        if (cfg === null) delete this.runtime.models[name];
        else this.runtime.models[name] = pickSettings(cfg);
      }
    }
    return structuredClone(this.runtime);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const s of this.sockets) s.destroy();
    });
  }

  private nextId(prefix: string): string {
    return `${prefix}-mock${this.idPrefix}${(++this.seq).toString(36)}`;
  }

  private modelStats(model: string): MockModelStats {
    let m = this.stats.byModel[model];
    if (!m) {
      const key = Object.keys(this.stats.byModel).length >= MAX_TRACKED_MODELS ? '(other)' : model;
      m = this.stats.byModel[key] ??= emptyModelStats();
    }
    return m;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.stats.requests++;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const method = req.method ?? 'GET';

    if (method === 'GET' && (path === '/health' || path === '/'))
      return send(res, 200, '{"ok":true}');
    if (path === '/__stats' && method === 'GET') return send(res, 200, JSON.stringify(this.stats));
    if (path === '/__stats/reset' && method === 'POST') {
      this.resetStats();
      return drain(req, () => send(res, 200, '{"ok":true}'));
    }
    if (path === '/__config' && method === 'GET')
      return send(res, 200, JSON.stringify(this.runtime));
    if (path === '/__config' && method === 'POST') {
      return readJson(req, res, (body) =>
        send(res, 200, JSON.stringify(this.configure(body as MockConfigUpdate))),
      );
    }
    if (!path.startsWith('/v1/')) {
      this.stats.notFound++;
      return drain(req, () =>
        send(res, 404, errorJson(`Invalid URL (${method} ${path})`, 'invalid_request_error', null)),
      );
    }
    const authProblem = this.checkAuth(req.headers.authorization);
    if (authProblem) {
      this.stats.unauthorized++;
      return drain(req, () => send(res, 401, authProblem));
    }
    if (method === 'GET' && path === '/v1/models') {
      this.stats.models++;
      return send(res, 200, this.modelsBody);
    }
    if (method === 'POST' && (path === '/v1/chat/completions' || path === '/v1/embeddings')) {
      return readJson(req, res, (body) => this.serve(req, res, path, body));
    }
    this.stats.notFound++;
    return drain(req, () =>
      send(res, 404, errorJson(`Invalid URL (${method} ${path})`, 'invalid_request_error', null)),
    );
  }

  private checkAuth(header: string | undefined): string | null {
    const m = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!m) {
      return errorJson(
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        'invalid_request_error',
        null,
      );
    }
    if (this.options.apiKey !== undefined && m[1] !== this.options.apiKey) {
      return errorJson('Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key');
    }
    return null;
  }

  private serve(req: IncomingMessage, res: ServerResponse, path: string, body: unknown): void {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      this.stats.badRequest++;
      return send(
        res,
        400,
        errorJson('The request body must be a JSON object.', 'invalid_request_error', null),
      );
    }
    const b = body as Json;
    const model = typeof b.model === 'string' ? b.model : '(none)';
    const s = resolveSettings(this.base, this.runtime, model, b.mock, req.headers);
    const m = this.modelStats(model);
    m.requests++;
    m.lastHeaders = { ...req.headers };
    m.lastBody = body;
    this.trackInFlight(res);

    if (this.injectFault(req, res, s, m)) return;
    if (path === '/v1/embeddings') {
      this.stats.embeddings++;
      m.embeddings++;
      return this.embeddings(res, b, model, s);
    }
    if (!Array.isArray(b.messages)) {
      this.stats.badRequest++;
      return send(
        res,
        400,
        errorJson(
          "Missing required parameter: 'messages'.",
          'invalid_request_error',
          'missing_required_parameter',
          'messages',
        ),
      );
    }
    if (b.stream === true) {
      this.stats.chatStream++;
      m.chatStream++;
      return this.chatStream(req, res, b, model, s, m);
    }
    this.stats.chat++;
    m.chat++;
    return this.chat(req, res, b, model, s);
  }

  private trackInFlight(res: ServerResponse): void {
    const st = this.stats;
    st.inFlight++;
    if (st.inFlight > st.inFlightMax) st.inFlightMax = st.inFlight;
    res.once('close', () => {
      this.stats.inFlight--;
    });
  }

  /** Faults that replace the whole answer (status, reset, wrong content type). */
  private injectFault(
    req: IncomingMessage,
    res: ServerResponse,
    s: MockSettings,
    m: MockModelStats,
  ): boolean {
    const stream = (m.lastBody as Json).stream === true;
    let act: (() => void) | null = null;
    if (s.fail_status >= 400) {
      const status = s.fail_status;
      const type =
        status === 429
          ? 'rate_limit_error'
          : status >= 500
            ? 'server_error'
            : 'invalid_request_error';
      const code =
        status === 429 ? 'rate_limit_exceeded' : status === 401 ? 'invalid_api_key' : null;
      const headers: Record<string, string> =
        status === 429 ? { 'retry-after': String(s.retry_after) } : {};
      act = () =>
        send(
          res,
          status,
          errorJson(`Injected failure (mock fail_status=${status})`, type, code),
          headers,
        );
    } else if (s.wrong_content_type) {
      act = () =>
        send(
          res,
          200,
          '<html><body><h1>Welcome to nginx!</h1></body></html>',
          {},
          'text/html; charset=utf-8',
        );
    } else if (s.reset_after_chunks >= 0 && !stream) {
      act = () => req.socket.resetAndDestroy();
    }
    if (!act) return false;
    this.stats.faults++;
    m.faults++;
    later(s.latency_ms, res, act);
    return true;
  }

  private chat(
    req: IncomingMessage,
    res: ServerResponse,
    b: Json,
    model: string,
    s: MockSettings,
  ): void {
    if (s.malformed_json) {
      this.stats.faults++;
      const cut = `{"id":"${this.nextId('chatcmpl')}","object":"chat.completion","created":${now()},"model":${JSON.stringify(model)},"choices":[{"index":0,"message":{"role":"assistant","content":"trunc`;
      return later(s.latency_ms, res, () => send(res, 200, cut));
    }
    const prompt = mockPromptTokens(b.messages);
    const usage = s.omit_usage ? '' : `,"usage":${usageJson(prompt, s.words)}`;
    const out =
      `{"id":"${this.nextId('chatcmpl')}","object":"chat.completion","created":${now()},"model":${JSON.stringify(model)},` +
      `"choices":[{"index":0,"message":{"role":"assistant","content":${JSON.stringify(mockAnswer(s.words))},"refusal":null,"annotations":[]},` +
      `"logprobs":null,"finish_reason":"stop"}]${usage},"service_tier":"default","system_fingerprint":"fp_mock"}`;
    later(s.latency_ms, res, () => send(res, 200, out, { 'x-request-id': this.nextId('req') }));
  }

  private chatStream(
    req: IncomingMessage,
    res: ServerResponse,
    b: Json,
    model: string,
    s: MockSettings,
    m: MockModelStats,
  ): void {
    const so = b.stream_options as Json | null | undefined;
    const includeUsage = !s.omit_usage && so != null && so.include_usage === true;
    const head =
      `data: {"id":"${this.nextId('chatcmpl')}","object":"chat.completion.chunk","created":${now()},` +
      `"model":${JSON.stringify(model)},"service_tier":"default","system_fingerprint":"fp_mock","choices":[`;
    const tail = `]${includeUsage ? ',"usage":null' : ''}}\n\n`;
    const choice = (delta: string, finish: string | null) =>
      `{"index":0,"delta":${delta},"logprobs":null,"finish_reason":${finish === null ? 'null' : `"${finish}"`}}`;

    // malformed: every event is cut-off JSON, and the stream never ends with [DONE]
    const garbled = (word: string) =>
      `data: {"id":"x","object":"chat.completion.chunk","choices":[{"delta":{"content":${JSON.stringify(word)}\n\n`;
    const events: string[] = [
      s.malformed_sse
        ? garbled('')
        : head + choice('{"role":"assistant","content":"","refusal":null}', null) + tail,
    ];
    const n = s.malformed_sse ? 2 : s.chunks;
    for (let i = 0; i < n; i++) {
      const word = (i === 0 ? '' : ' ') + mockWord(i);
      events.push(
        s.malformed_sse
          ? garbled(word)
          : head + choice(`{"content":${JSON.stringify(word)}}`, null) + tail,
      );
    }
    const lastContent = n; // index of the last content event
    if (s.malformed_sse) {
      this.stats.faults++;
      events.push('event without a colon\n\n');
    } else {
      events.push(head + choice('{}', 'stop') + tail);
      if (includeUsage)
        events.push(`${head}],"usage":${usageJson(mockPromptTokens(b.messages), n)}}\n\n`);
      events.push('data: [DONE]\n\n');
    }
    const resetAt = s.reset_after_chunks >= 0 ? Math.min(s.reset_after_chunks, n) : -1;

    let closed = false;
    let timer: NodeJS.Timeout | null = null;
    res.once('close', () => {
      closed = true;
      if (timer) clearTimeout(timer);
      if (!res.writableFinished) {
        this.stats.abortedStreams++;
        m.abortedStreams++;
      }
    });
    let i = 0;
    const writeThrough = (upTo: number) => {
      while (i <= upTo && i < events.length) res.write(events[i++]);
    };
    const finishOrReset = (): boolean => {
      if (resetAt >= 0 && i > resetAt) {
        this.stats.faults++;
        // let the written chunks leave before the RST
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
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        'x-request-id': this.nextId('req'),
      });
      if (s.chunk_delay_ms <= 0 || n === 0) {
        res.cork();
        writeThrough(resetAt >= 0 ? resetAt : events.length - 1);
        res.uncork();
        if (!finishOrReset()) res.end();
        return;
      }
      writeThrough(0); // the role chunk goes with the headers
      if (finishOrReset()) return;
      timer = setTimeout(step, s.chunk_delay_ms);
    };
    later(s.latency_ms, res, start);
  }

  private embeddings(res: ServerResponse, b: Json, model: string, s: MockSettings): void {
    if (s.malformed_json) {
      this.stats.faults++;
      return later(s.latency_ms, res, () =>
        send(
          res,
          200,
          '{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,',
        ),
      );
    }
    const input = b.input;
    const items: unknown[] =
      Array.isArray(input) && input.length > 0 && typeof input[0] !== 'number' ? input : [input];
    const dims =
      typeof b.dimensions === 'number' && Number.isInteger(b.dimensions)
        ? Math.min(8192, Math.max(1, b.dimensions))
        : s.embed_dim;
    const base64 = b.encoding_format === 'base64';
    const data = items.map((item, index) => {
      const v = mockEmbedding(JSON.stringify(item ?? ''), dims);
      const embedding = base64
        ? JSON.stringify(Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64'))
        : `[${Array.from(v).join(',')}]`;
      return `{"object":"embedding","index":${index},"embedding":${embedding}}`;
    });
    const tokens = mockEmbeddingTokens(input);
    const usage = s.omit_usage
      ? ''
      : `,"usage":{"prompt_tokens":${tokens},"total_tokens":${tokens}}`;
    const out = `{"object":"list","data":[${data.join(',')}],"model":${JSON.stringify(model)}${usage}}`;
    later(s.latency_ms, res, () => send(res, 200, out));
  }
}

const now = () => Math.floor(Date.now() / 1000);

function later(ms: number, res: ServerResponse, fn: () => void): void {
  if (ms <= 0) return fn();
  const t = setTimeout(() => {
    if (!res.destroyed) fn();
  }, ms);
  res.once('close', () => clearTimeout(t));
}

function send(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
  type = 'application/json',
): void {
  if (res.headersSent || res.destroyed) return;
  const buf = Buffer.from(body);
  res.writeHead(status, { 'content-type': type, 'content-length': String(buf.length), ...headers });
  res.end(buf);
}

function drain(req: IncomingMessage, then: () => void): void {
  req.resume();
  if (req.readableEnded) then();
  else req.once('end', then);
}

function readJson(req: IncomingMessage, res: ServerResponse, then: (body: unknown) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size > MAX_BODY) {
      send(res, 413, errorJson('Request body too large.', 'invalid_request_error', null));
      req.destroy();
      return;
    }
    chunks.push(c);
  });
  req.once('end', () => {
    if (size > MAX_BODY) return;
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks, size).toString('utf8'));
    } catch (e) {
      return send(
        res,
        400,
        errorJson(
          `We could not parse the JSON body of your request: ${(e as Error).message}`,
          'invalid_request_error',
          null,
        ),
      );
    }
    then(body);
  });
}

/** Starts a mock provider and resolves once it listens. */
export async function startMockProvider(
  options: MockProviderOptions = {},
): Promise<RunningMockProvider> {
  const mock = new MockProvider(options);
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    mock.server.once('error', reject);
    mock.server.listen(options.port ?? 0, host, () => {
      mock.server.off('error', reject);
      resolve();
    });
  });
  const port = (mock.server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    url,
    baseUrl: `${url}/v1`,
    port,
    stats: () => mock.snapshot(),
    resetStats: () => mock.resetStats(),
    configure: (update) => mock.configure(update),
    stop: () => mock.stop(),
  };
}
