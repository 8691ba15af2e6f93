import {
  ChatStreamFilter,
  formatSseEvent,
  MalformedStreamError,
  SseParser,
  type SseEvent,
  type TokenUsage,
} from '@tollgate/providers';
import type { Dispatcher } from 'undici';
import type { Exchange } from '../v1/exchange';
import { type ProxyError, toOpenAIError } from '../v1/proxy-error';
import {
  MALFORMED,
  MAX_UPSTREAM_BODY_BYTES,
  type RelayDeps,
  UpstreamRelay,
  upstreamErrors,
} from './upstream-relay';

export interface SseRelayOptions {
  /** the client asked for `stream_options.include_usage` */
  exposeUsage: boolean;
  /** the name to show in each chunk's `model` when it differs from the upstream's; null to leave it */
  publicModel: string | null;
  estimateInput(): number;
}

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
};

/**
 * A streamed chat completion passed through as it arrives: each provider chunk is parsed into
 * events, filtered (usage recorded, usage chunk hidden when not asked for, model name rewritten
 * when mapped) and written on at once, with backpressure from the client to the provider.
 * The client's headers wait for the provider's first event, so a provider that fails before it
 * still gets a proper error status.
 */
export class SseRelay extends UpstreamRelay {
  private readonly parser = new SseParser();
  private readonly filter: ChatStreamFilter;
  /** the body of a non-200 answer, read whole */
  private errorChunks: Buffer[] | null = null;
  private errorSize = 0;
  private headers: Record<string, string | string[] | undefined> = {};
  /** the client's 200 and first events are out */
  private started = false;

  constructor(
    ex: Exchange,
    deps: RelayDeps,
    private readonly options: SseRelayOptions,
  ) {
    super(ex, deps);
    this.filter = new ChatStreamFilter({
      exposeUsage: options.exposeUsage,
      publicModel: options.publicModel,
    });
  }

  onResponseStart(
    _c: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    this.markFirstByte();
    this.status = statusCode;
    this.headers = headers;
    if (statusCode !== 200) {
      this.errorChunks = [];
      return;
    }
    const ct = headers['content-type'];
    const contentType = Array.isArray(ct) ? ct[0] : ct;
    if (contentType === undefined || !contentType.toLowerCase().includes('text/event-stream')) {
      this.fail(upstreamErrors.badContentType(contentType), MALFORMED);
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.finished) return;
    if (this.errorChunks !== null) {
      this.errorSize += chunk.length;
      if (this.errorSize <= MAX_UPSTREAM_BODY_BYTES) this.errorChunks.push(chunk);
      return;
    }
    const out = this.relay(this.parser.feed(chunk));
    if (out === null || out.length === 0) return;
    this.write(out, controller);
  }

  onResponseEnd(controller: Dispatcher.DispatchController): void {
    this.markUpstreamDone();
    if (this.finished) return;
    if (this.errorChunks !== null) {
      this.failStatus(this.status, Buffer.concat(this.errorChunks), this.headers);
      return;
    }
    const out = this.relay(this.parser.end());
    if (out === null) return;
    const f = this.filter;
    if (f.done || f.usage !== null) {
      // complete (a provider that forgets [DONE] after its usage chunk still ended properly)
      this.write(f.done ? out : `${out}data: [DONE]\n\n`, controller);
      this.ex.res.end();
      this.succeed(this.usage(), f.usage === null);
      return;
    }
    if (out.length > 0) this.write(out, controller);
    this.fail(
      f.events === 0
        ? upstreamErrors.malformed('the stream ended without any event')
        : upstreamErrors.malformed('the stream ended before it was complete'),
      MALFORMED,
    );
  }

  /** Filters parsed events into the text to send on; null when the stream failed (already answered). */
  private relay(events: SseEvent[]): string | null {
    let out = '';
    for (const e of events) {
      let data: string | null;
      try {
        data = this.filter.push(e.data);
      } catch (err) {
        if (!(err instanceof MalformedStreamError)) throw err;
        this.fail(upstreamErrors.malformed('a stream event is not valid JSON'), MALFORMED);
        return null;
      }
      if (this.filter.upstreamError !== null) {
        const msg = (this.filter.upstreamError as { message?: unknown }).message;
        this.fail(
          upstreamErrors.malformed(
            `the provider reported an error mid-stream: ${typeof msg === 'string' ? msg : 'unknown'}`,
          ),
        );
        return null;
      }
      if (data !== null)
        out += formatSseEvent(e.event === undefined && e.id === undefined ? data : { ...e, data });
    }
    return out;
  }

  private write(out: string, controller: Dispatcher.DispatchController): void {
    const res = this.ex.res;
    if (!this.started) {
      this.started = true;
      this.ex.writeHead(200, { ...SSE_HEADERS });
      this.ex.ttftMs = this.ex.elapsedMs();
    }
    if (!res.write(out) && !controller.paused) {
      controller.pause();
      res.once('drain', () => controller.resume());
    }
  }

  private usage(): TokenUsage {
    return (
      this.filter.usage ?? {
        inputTokens: this.options.estimateInput(),
        outputTokens: this.filter.estimatedOutputTokens(),
        cachedInputTokens: 0,
      }
    );
  }

  /** Once the stream has started the provider has taken the prompt: bill it and what it produced. */
  protected partialUsage(): { usage: TokenUsage | null; estimated: boolean } {
    if (this.filter.usage !== null) return { usage: this.filter.usage, estimated: false };
    if (!this.started && this.filter.estimatedOutputTokens() === 0)
      return { usage: null, estimated: false };
    return { usage: this.usage(), estimated: true };
  }

  protected endAfterFailure(e: ProxyError): void {
    const res = this.ex.res;
    if (res.destroyed || res.writableEnded) return;
    // the OpenAI clients raise an APIError for an `error` event
    res.end(formatSseEvent(JSON.stringify(toOpenAIError(e).body)));
  }
}
