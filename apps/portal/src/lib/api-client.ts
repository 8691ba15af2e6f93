import { ApiError, problemFromResponseBody, unreachableProblem, type ServiceName } from './problem';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface ApiRequest {
  service: ServiceName;
  /** service base URL, e.g. http://127.0.0.1:3001 */
  baseUrl: string;
  /** path under /api/v1, starting with a slash */
  path: string;
  method?: HttpMethod;
  /** access token, sent as a Bearer token */
  token?: string;
  /** JSON request body */
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  accept?: string;
  timeoutMs: number;
  /** for tests */
  fetchImpl?: typeof fetch;
}

export const API_PREFIX = '/api/v1';

export function buildApiUrl(
  baseUrl: string,
  path: string,
  query?: Record<string, string | number | undefined>,
): string {
  const url = new URL(`${baseUrl.replace(/\/+$/, '')}${API_PREFIX}${path}`);
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
  }
  return url.toString();
}

/** One path segment from an id or name, so user input can never change the path. */
export function seg(value: string): string {
  return encodeURIComponent(value);
}

function isTimeout(err: unknown): boolean {
  // fetch rejects with the signal's DOMException, which need not be an `Error` of this realm
  const name =
    typeof err === 'object' && err !== null ? (err as { name?: unknown }).name : undefined;
  return name === 'TimeoutError' || name === 'AbortError';
}

/** Sends the request; any non-2xx answer or transport failure becomes an ApiError. */
export async function callApi(req: ApiRequest): Promise<Response> {
  const headers: Record<string, string> = { accept: req.accept ?? 'application/json' };
  if (req.token) headers.authorization = `Bearer ${req.token}`;
  let body: string | undefined;
  if (req.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(req.body);
  }
  const doFetch = req.fetchImpl ?? fetch;
  let res: Response;
  try {
    res = await doFetch(buildApiUrl(req.baseUrl, req.path, req.query), {
      method: req.method ?? 'GET',
      headers,
      body,
      cache: 'no-store',
      redirect: 'manual',
      signal: AbortSignal.timeout(req.timeoutMs),
    });
  } catch (err) {
    throw new ApiError(unreachableProblem(req.service, isTimeout(err)));
  }
  if (res.status >= 200 && res.status < 300) return res;
  let text = '';
  try {
    text = await res.text();
  } catch {
    text = '';
  }
  throw new ApiError(problemFromResponseBody(res.status, res.headers.get('content-type'), text));
}

/** A JSON call; 204 resolves to undefined. */
export async function requestJson<T>(req: ApiRequest): Promise<T> {
  const res = await callApi(req);
  if (res.status === 204) return undefined as T;
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    throw new ApiError(unreachableProblem(req.service, isTimeout(err)));
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError({
      type: 'about:blank',
      title: `The ${req.service} service sent an unreadable answer`,
      status: 502,
      code: 'bad_backend_response',
    });
  }
}
