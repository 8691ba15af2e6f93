import {
  type ChatStreamTranslator,
  CHARS_PER_TOKEN,
  estimateCompletionTokens,
  MalformedStreamError,
  openAIUsage,
  type ProviderAdapter,
  type ProviderError,
  SseParser,
  type SseEvent,
  type TokenUsage,
} from '@tollgate/providers';
import type { Dispatcher } from 'undici';
import type { Exchange } from '../v1/exchange';
import type { ProxyError } from '../v1/proxy-error';
import type { ChatOutput } from './chat-output';
import {
  MALFORMED,
  MAX_UPSTREAM_BODY_BYTES,
  providerFailure,
  type RelayDeps,
  UpstreamRelay,
  upstreamErrors,
} from './upstream-relay';

type Headers = Record<string, string | string[] | undefined>;

const contentTypeOf = (headers: Headers): string | undefined => {
  const ct = headers['content-type'];
  return Array.isArray(ct) ? ct[0] : ct;
};

export interface AdapterRelayOptions {
  adapter: ProviderAdapter;
  /** the model the client asked for (shown in the answer) */
  requestedModel: string;
  output: ChatOutput;
  /** the prompt estimate when the provider reports no usage */
  estimateInput(): number;
}

/** Reads a body whole, bounded. */
abstract class BufferingRelay extends UpstreamRelay {
  protected headers: Headers = {};
  private chunks: Buffer[] = [];
  private size = 0;

  protected collect(chunk: Buffer): void {
    this.size += chunk.length;
    if (this.size <= MAX_UPSTREAM_BODY_BYTES) this.chunks.push(chunk);
  }

  protected get tooLarge(): boolean {
    return this.size > MAX_UPSTREAM_BODY_BYTES;
  }

  protected takeText(): string {
    const text = Buffer.concat(this.chunks).toString('utf8');
    this.chunks = [];
    return text;
  }

  protected failProvider(pe: ProviderError): void {
    const { e, f } = providerFailure(pe, this.headers);
    this.fail(e, f);
  }
}

/**
 * A non-streamed chat call to a provider of another wire format (or any call whose answer the
 * client wants in another format): the provider's JSON is read whole, translated by the adapter
 * into an OpenAI completion and written in the client's format.
 */
export class AdapterJsonRelay extends BufferingRelay {
  constructor(
    ex: Exchange,
    deps: RelayDeps,
    private readonly options: AdapterRelayOptions,
  ) {
    super(ex, deps);
  }

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, headers: Headers): void {
    this.markFirstByte();
    this.status = statusCode;
    this.headers = headers;
  }

  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.finished) return;
    this.collect(chunk);
    if (this.tooLarge)
      this.fail(
        upstreamErrors.malformed(`answer larger than ${MAX_UPSTREAM_BODY_BYTES} bytes`),
        MALFORMED,
      );
  }

  onResponseEnd(): void {
    this.markUpstreamDone();
    if (this.finished) return;
    const { adapter, requestedModel, output } = this.options;
    const r = adapter.parseChatResponse(
      this.status,
      contentTypeOf(this.headers),
      this.takeText(),
      requestedModel,
    );
    if ('error' in r) {
      this.failProvider(r.error);
      return;
    }
    const usage: TokenUsage = r.usage ?? {
      inputTokens: this.options.estimateInput(),
      outputTokens: estimateCompletionTokens(r.ok),
      cachedInputTokens: 0,
    };
    // the client's format reports the usage metered, also when it had to be estimated
    if (r.ok.usage === undefined && r.usage === null) r.ok.usage = openAIUsage(usage);
    this.ex.sendJson(200, output.json(r.ok));
    this.succeed(usage, r.usage === null);
  }

  protected partialUsage(): { usage: TokenUsage | null; estimated: boolean } {
    return { usage: null, estimated: false };
  }

  protected endAfterFailure(_e: ProxyError): void {
    this.ex.res.destroy();
  }
}

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
};

/**
 * A streamed chat call through an adapter: each provider event is translated into OpenAI chunks
 * and written on at once in the client's format, with backpressure from the client to the
 * provider. As in SseRelay, the client's headers wait for the first translated output, so a
 * provider failing before it can still be retried elsewhere.
 */
export class AdapterSseRelay extends BufferingRelay {
  private readonly parser = new SseParser();
  private readonly translator: ChatStreamTranslator;
  /** a non-200 answer: its body is read whole */
  private erroring = false;
  private events = 0;
  private started = false;

  constructor(
    ex: Exchange,
    deps: RelayDeps,
    private readonly options: AdapterRelayOptions & { includeUsage: boolean },
  ) {
    super(ex, deps);
    this.translator = options.adapter.createChatStreamTranslator(options.requestedModel, {
      includeUsage: options.includeUsage,
    });
  }

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, headers: Headers): void {
    this.markFirstByte();
    this.status = statusCode;
    this.headers = headers;
    if (statusCode !== 200) {
      this.erroring = true;
      return;
    }
    const ct = contentTypeOf(headers);
    if (ct === undefined || !ct.toLowerCase().includes('text/event-stream'))
      this.fail(upstreamErrors.badContentType(ct), MALFORMED);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.finished) return;
    if (this.erroring) {
      this.collect(chunk);
      return;
    }
    const out = this.translate(this.parser.feed(chunk));
    if (out !== null && out.length > 0) this.write(out, controller);
  }

  onResponseEnd(controller: Dispatcher.DispatchController): void {
    this.markUpstreamDone();
    if (this.finished) return;
    const { adapter, output } = this.options;
    if (this.erroring) {
      this.failProvider(
        adapter.parseErrorResponse(this.status, contentTypeOf(this.headers), this.takeText()),
      );
      return;
    }
    let out = this.translate(this.parser.end());
    if (out === null) return;
    const t = this.translator;
    out += output.chunks(t.finish());
    if (t.complete) {
      this.write(out + output.end(), controller);
      this.ex.res.end();
      this.succeed(this.usage(), t.usage === null);
      return;
    }
    if (out.length > 0) this.write(out, controller);
    this.fail(
      this.events === 0
        ? upstreamErrors.malformed('the stream ended without any event')
        : upstreamErrors.malformed('the stream ended before it was complete'),
      MALFORMED,
    );
  }

  /** Translated output for parsed events; null when the stream failed (already answered). */
  private translate(events: SseEvent[]): string | null {
    let out = '';
    const t = this.translator;
    for (const e of events) {
      this.events++;
      try {
        out += this.options.output.chunks(t.push(e));
      } catch (err) {
        if (!(err instanceof MalformedStreamError)) throw err;
        this.fail(upstreamErrors.malformed('a stream event is not valid JSON'), MALFORMED);
        return null;
      }
      if (t.error !== null) {
        this.failProvider(t.error);
        return null;
      }
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

  private estimatedOutput(): number {
    return Math.ceil(this.translator.textChars / CHARS_PER_TOKEN);
  }

  private usage(): TokenUsage {
    return (
      this.translator.usage ?? {
        inputTokens: this.options.estimateInput(),
        outputTokens: this.estimatedOutput(),
        cachedInputTokens: 0,
      }
    );
  }

  /** Once the stream has started the provider has taken the prompt: bill it and what it produced. */
  protected partialUsage(): { usage: TokenUsage | null; estimated: boolean } {
    const u = this.translator.usage;
    if (!this.started && u === null && this.translator.textChars === 0)
      return { usage: null, estimated: false };
    if (u !== null && this.translator.complete) return { usage: u, estimated: false };
    // a partial count (Anthropic reports input first): keep it, estimate what is missing
    const base = this.usage();
    return {
      usage: { ...base, outputTokens: Math.max(base.outputTokens, this.estimatedOutput()) },
      estimated: true,
    };
  }

  protected endAfterFailure(e: ProxyError): void {
    const res = this.ex.res;
    if (res.destroyed || res.writableEnded) return;
    res.end(this.options.output.streamError(e));
  }
}
