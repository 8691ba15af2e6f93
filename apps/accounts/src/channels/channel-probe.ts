import { ChannelType } from '@tollgate/contracts';
import {
  AdapterRequestError,
  type ChatCompletionRequest,
  getAdapter,
  type UpstreamTarget,
} from '@tollgate/providers';

/** What is needed to send one request in a channel's own wire format. */
export interface ProbeTarget extends UpstreamTarget {
  type: ChannelType;
}

export interface ProbeOutcome {
  ok: boolean;
  /** the provider's status; null when no answer came */
  status: number | null;
  latencyMs: number;
  error?: string;
}

/** An answer bigger than this is cut off: a test needs none of it. */
const MAX_ANSWER_BYTES = 256 * 1024;
const MAX_ERROR_CHARS = 300;

/**
 * The smallest sensible chat request. A token cap only for Anthropic (required) and Gemini;
 * OpenAI-format servers disagree on which cap field they accept.
 */
export function probeRequest(type: ChannelType, model: string): ChatCompletionRequest {
  const req: ChatCompletionRequest = {
    model,
    messages: [{ role: 'user', content: 'Reply with the single word: pong' }],
  };
  switch (type) {
    case ChannelType.Anthropic:
    case ChannelType.Gemini:
      req.max_tokens = 16;
      return req;
    case ChannelType.OpenAI:
    case ChannelType.Azure:
      // OpenAI reasoning models refuse `max_tokens` and many compatible servers lack
      // `max_completion_tokens`: leave it out, the answer is one word anyway
      return req;
  }
}

async function readBounded(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_ANSWER_BYTES) {
      await reader.cancel();
      break;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Removes every secret of the target from a text the provider wrote, and keeps it short. */
export function scrub(text: string, target: UpstreamTarget): string {
  let out = text;
  const secrets = [target.apiKey, ...Object.values(target.extraHeaders ?? {})].filter(
    (s) => s.length >= 4,
  );
  for (const secret of secrets) out = out.split(secret).join('[redacted]');
  return out.length > MAX_ERROR_CHARS ? `${out.slice(0, MAX_ERROR_CHARS)}…` : out;
}

/** a property of an error from another realm too (jest's sandbox, fetch's DOMException) */
const field = (err: unknown, key: string): unknown =>
  typeof err === 'object' && err !== null ? (err as Record<string, unknown>)[key] : undefined;

function failureOf(err: unknown, timeoutMs: number): string {
  if (err instanceof AdapterRequestError) return `the request could not be built: ${err.message}`;
  const name = field(err, 'name');
  if (name === 'TimeoutError' || name === 'AbortError')
    return `no complete answer within ${timeoutMs} ms`;
  const code = field(field(err, 'cause'), 'code');
  return `the provider could not be reached${typeof code === 'string' ? ` (${code})` : ''}`;
}

/**
 * Sends one real chat request for `model` (its public name; `target.upstreamModel` is what the
 * provider knows) and reads the answer with the channel type's adapter. Never throws; never
 * follows a redirect (it could carry the credential elsewhere); bounded by `timeoutMs` in all.
 */
export async function probeChannel(
  target: ProbeTarget,
  model: string,
  timeoutMs: number,
): Promise<ProbeOutcome> {
  const adapter = getAdapter(target.type);
  const started = performance.now();
  const elapsed = () => Math.max(0, Math.round(performance.now() - started));
  let status: number | null = null;
  try {
    const request = adapter.buildChatRequest(
      probeRequest(target.type, target.upstreamModel),
      target,
    );
    const res = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    status = res.status;
    const text = await readBounded(res);
    const latencyMs = elapsed();
    const parsed = adapter.parseChatResponse(
      res.status,
      res.headers.get('content-type') ?? undefined,
      text,
      model,
    );
    if ('ok' in parsed) return { ok: true, status, latencyMs };
    return { ok: false, status, latencyMs, error: scrub(parsed.error.body.error.message, target) };
  } catch (err) {
    return {
      ok: false,
      status,
      latencyMs: elapsed(),
      error: scrub(failureOf(err, timeoutMs), target),
    };
  }
}
