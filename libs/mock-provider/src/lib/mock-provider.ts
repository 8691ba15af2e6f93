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
import { anthropicErrorJson, anthropicMessages, anthropicProblem } from './anthropic-surface';
import { HTML_PAGE, type MockExchange, type MockSurface } from './exchange';
import {
  GEMINI_KEY_INVALID,
  geminiErrorJson,
  geminiGenerate,
  geminiProblem,
} from './gemini-surface';
import { drain, isObject, later, readJson, send } from './http';
import {
  AZURE_ACCESS_DENIED,
  openAIChat,
  openAICompletions,
  openAIEmbeddings,
  openAIFault,
} from './openai-surface';
import { errorJson } from './wire';

export interface MockProviderOptions {
  /** 0 (the default) picks a free port */
  port?: number;
  /** loopback by default; keep it that way */
  host?: string;
  /**
   * when set, the credential must match exactly (OpenAI `Authorization: Bearer`, Azure `api-key`,
   * Anthropic `x-api-key`, Gemini `x-goog-api-key`); otherwise any non-empty one is accepted
   */
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
  /** legacy text completions, streamed or not */
  completions: number;
  /** answered with an injected fault */
  faults: number;
  /** streams whose connection closed before the stream ended */
  abortedStreams: number;
  /** headers, URL (path and query) and parsed body of the last request for this model */
  lastHeaders: IncomingHttpHeaders;
  lastPath: string;
  lastBody: unknown;
}

export interface MockStats {
  requests: number;
  chat: number;
  chatStream: number;
  embeddings: number;
  completions: number;
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
const MAX_TRACKED_MODELS = 1000;

const emptyModelStats = (): MockModelStats => ({
  requests: 0,
  chat: 0,
  chatStream: 0,
  embeddings: 0,
  completions: 0,
  faults: 0,
  abortedStreams: 0,
  lastHeaders: {},
  lastPath: '',
  lastBody: null,
});

const emptyStats = (): MockStats => ({
  requests: 0,
  chat: 0,
  chatStream: 0,
  embeddings: 0,
  completions: 0,
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

/**
 * A mock model provider: real HTTP, each provider's real wire format (OpenAI chat, legacy
 * completions and embeddings; Azure OpenAI deployments; Anthropic Messages; Gemini
 * generateContent), controllable faults.
 */
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
    const query = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
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
      return readJson(req, res, openAIProblem, (body) =>
        send(res, 200, JSON.stringify(this.configure(body as MockConfigUpdate))),
      );
    }
    const route = routeOf(method, path, query);
    if (route === null) {
      this.stats.notFound++;
      return drain(req, () => send(res, 404, notFoundBody(path, method)));
    }
    const authProblem = this.checkAuth(route.surface, req.headers, query);
    if (authProblem) {
      this.stats.unauthorized++;
      return drain(req, () => send(res, authProblem.status, authProblem.body));
    }
    if (route.op === 'models') {
      this.stats.models++;
      return send(res, 200, this.modelsBody);
    }
    if (route.surface === 'azure' && !query.get('api-version') && !route.v1) {
      this.stats.badRequest++;
      return drain(req, () =>
        send(res, 404, JSON.stringify({ error: { code: '404', message: 'Resource not found' } })),
      );
    }
    const problem = (status: number, message: string) =>
      surfaceError(route.surface, status, message);
    return readJson(req, res, problem, (body) => this.serve(req, res, route, body));
  }

  private checkAuth(
    surface: MockSurface,
    headers: IncomingHttpHeaders,
    query: URLSearchParams,
  ): { status: number; body: string } | null {
    const expected = this.options.apiKey;
    switch (surface) {
      case 'openai': {
        const header = headers.authorization;
        const m = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
        if (!m)
          return {
            status: 401,
            body: errorJson(
              "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
              'invalid_request_error',
              null,
            ),
          };
        if (expected !== undefined && m[1] !== expected)
          return {
            status: 401,
            body: errorJson(
              'Incorrect API key provided.',
              'invalid_request_error',
              'invalid_api_key',
            ),
          };
        return null;
      }
      case 'azure': {
        const key = headers['api-key'];
        if (typeof key !== 'string' || !key || (expected !== undefined && key !== expected))
          return { status: 401, body: AZURE_ACCESS_DENIED };
        return null;
      }
      case 'anthropic': {
        const key = headers['x-api-key'];
        if (typeof key !== 'string' || !key)
          return { status: 401, body: anthropicErrorJson(401, 'x-api-key header is required') };
        if (expected !== undefined && key !== expected)
          return { status: 401, body: anthropicErrorJson(401, 'invalid x-api-key') };
        if (typeof headers['anthropic-version'] !== 'string')
          return {
            status: 400,
            body: anthropicErrorJson(400, 'anthropic-version: header is required'),
          };
        return null;
      }
      case 'gemini': {
        const h = headers['x-goog-api-key'];
        const key = typeof h === 'string' ? h : query.get('key');
        if (!key)
          return {
            status: 403,
            body: geminiErrorJson(
              403,
              "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
            ),
          };
        if (expected !== undefined && key !== expected)
          return { status: 400, body: GEMINI_KEY_INVALID };
        return null;
      }
    }
  }

  private serve(req: IncomingMessage, res: ServerResponse, route: Route, body: unknown): void {
    const surface = route.surface;
    if (!isObject(body)) {
      this.stats.badRequest++;
      return send(res, 400, surfaceError(surface, 400, 'The request body must be a JSON object.'));
    }
    const b = body;
    const model = route.model ?? (typeof b.model === 'string' ? b.model : '(none)');
    const s = resolveSettings(this.base, this.runtime, model, b.mock, req.headers);
    const m = this.modelStats(model);
    m.requests++;
    m.lastHeaders = { ...req.headers };
    m.lastBody = body;
    m.lastPath = req.url ?? '';
    this.trackInFlight(res);
    const stream = route.op === 'stream' || (route.op !== 'embeddings' && b.stream === true);
    const x: MockExchange = {
      req,
      res,
      body: b,
      model,
      s,
      stream,
      nextId: (prefix) => this.nextId(prefix),
      fault: () => {
        this.stats.faults++;
        m.faults++;
      },
      hooks: {
        onFault: () => {
          this.stats.faults++;
          m.faults++;
        },
        onAbort: () => {
          this.stats.abortedStreams++;
          m.abortedStreams++;
        },
      },
    };
    if (this.injectFault(x, surface)) return;
    const invalid = (message: string, param: string | null = null) => {
      this.stats.badRequest++;
      const text =
        surface === 'openai' || surface === 'azure'
          ? errorJson(message, 'invalid_request_error', 'missing_required_parameter', param)
          : surfaceError(surface, 400, message);
      send(res, 400, text);
    };
    switch (route.op) {
      case 'embeddings':
        this.stats.embeddings++;
        m.embeddings++;
        return openAIEmbeddings(x);
      case 'completions':
        if (b.prompt === undefined)
          return invalid("Missing required parameter: 'prompt'.", 'prompt');
        this.count(m, stream, 'completions');
        return openAICompletions(x);
      case 'chat':
        if (!Array.isArray(b.messages))
          return invalid("Missing required parameter: 'messages'.", 'messages');
        this.count(m, stream, 'chat');
        return openAIChat(x, surface === 'azure');
      case 'messages': {
        const p = anthropicProblem(b);
        if (p !== null) return invalid(p);
        this.count(m, stream, 'chat');
        return anthropicMessages(x);
      }
      case 'generate':
      case 'stream': {
        const p = geminiProblem(b);
        if (p !== null) return invalid(p);
        this.count(m, stream, 'chat');
        return geminiGenerate(x);
      }
      case 'models':
        return;
    }
  }

  private count(m: MockModelStats, stream: boolean, kind: 'chat' | 'completions'): void {
    if (kind === 'completions') {
      this.stats.completions++;
      m.completions++;
    } else if (stream) {
      this.stats.chatStream++;
      m.chatStream++;
    } else {
      this.stats.chat++;
      m.chat++;
    }
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
  private injectFault(x: MockExchange, surface: MockSurface): boolean {
    const { s, res, req } = x;
    let act: (() => void) | null = null;
    if (s.fail_status >= 400) {
      const status = s.fail_status;
      const headers: Record<string, string> =
        status === 429 ? { 'retry-after': String(s.retry_after) } : {};
      const message = `Injected failure (mock fail_status=${status})`;
      const body =
        surface === 'openai' || surface === 'azure'
          ? openAIFault(status)
          : surfaceError(surface, status, message);
      act = () => send(res, status, body, headers);
    } else if (s.wrong_content_type) {
      act = () => send(res, 200, HTML_PAGE, {}, 'text/html; charset=utf-8');
    } else if (s.reset_after_chunks >= 0 && !x.stream) {
      act = () => req.socket.resetAndDestroy();
    }
    if (!act) return false;
    x.fault();
    later(s.latency_ms, res, act);
    return true;
  }
}

type Op = 'chat' | 'completions' | 'embeddings' | 'models' | 'messages' | 'generate' | 'stream';

interface Route {
  surface: MockSurface;
  op: Op;
  /** the model named by the path (Azure deployment, Gemini model) */
  model: string | null;
  /** Azure's v1 API (no api-version needed) */
  v1?: boolean;
}

const OPENAI_OPS: Record<string, Op> = {
  'chat/completions': 'chat',
  completions: 'completions',
  embeddings: 'embeddings',
};

/** Which surface and operation a request path names; null for an unknown route. */
function routeOf(method: string, path: string, _query: URLSearchParams): Route | null {
  if (method === 'GET' && path === '/v1/models')
    return { surface: 'openai', op: 'models', model: null };
  if (method !== 'POST') return null;
  if (path === '/v1/messages') return { surface: 'anthropic', op: 'messages', model: null };
  if (path.startsWith('/v1/')) {
    const op = OPENAI_OPS[path.slice(4)];
    return op ? { surface: 'openai', op, model: null } : null;
  }
  const gemini =
    /^\/v1(?:beta|alpha)?\/models\/([^/:]+):(generateContent|streamGenerateContent)$/.exec(path);
  if (gemini)
    return {
      surface: 'gemini',
      op: gemini[2] === 'generateContent' ? 'generate' : 'stream',
      model: decodeURIComponent(gemini[1]),
    };
  const azure = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|completions|embeddings)$/.exec(
    path,
  );
  if (azure)
    return { surface: 'azure', op: OPENAI_OPS[azure[2]], model: decodeURIComponent(azure[1]) };
  const azureV1 = /^\/openai\/v1\/(chat\/completions|completions|embeddings)$/.exec(path);
  if (azureV1) return { surface: 'azure', op: OPENAI_OPS[azureV1[1]], model: null, v1: true };
  return null;
}

/** An error body in a surface's own format. */
function surfaceError(surface: MockSurface, status: number, message: string): string {
  switch (surface) {
    case 'openai':
    case 'azure':
      return errorJson(message, status >= 500 ? 'server_error' : 'invalid_request_error', null);
    case 'anthropic':
      return anthropicErrorJson(status, message);
    case 'gemini':
      return geminiErrorJson(status, message);
  }
}

const openAIProblem = (status: number, message: string) => surfaceError('openai', status, message);

function notFoundBody(path: string, method: string): string {
  if (path.startsWith('/v1beta/')) return geminiErrorJson(404, `Method not found: ${path}`);
  return errorJson(`Invalid URL (${method} ${path})`, 'invalid_request_error', null);
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
