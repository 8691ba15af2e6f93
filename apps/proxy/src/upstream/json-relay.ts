import { type TokenUsage, usageOfResponse } from '@tollgate/providers';
import type { Dispatcher } from 'undici';
import type { Exchange } from '../v1/exchange';
import type { ProxyError } from '../v1/proxy-error';
import {
  MALFORMED,
  MAX_UPSTREAM_BODY_BYTES,
  type RelayDeps,
  UpstreamRelay,
  upstreamErrors,
  upstreamStatusError,
} from './upstream-relay';

export interface JsonRelayOptions {
  /** the name to show in `model` when it differs from the upstream's (a mapped model); null to leave it */
  publicModel: string | null;
  /** estimates when the provider reports no usage */
  estimateInput(): number;
  estimateOutput(body: unknown): number;
}

/**
 * A non-streamed call: the provider's JSON answer is read whole (it is not a stream), checked,
 * its usage taken, and sent on as the same bytes unless the model name must be rewritten.
 */
export class JsonRelay extends UpstreamRelay {
  private chunks: Buffer[] = [];
  private size = 0;
  private headers: Record<string, string | string[] | undefined> = {};

  constructor(
    ex: Exchange,
    deps: RelayDeps,
    private readonly options: JsonRelayOptions,
  ) {
    super(ex, deps);
  }

  onResponseStart(
    _c: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    this.markFirstByte();
    this.status = statusCode;
    this.headers = headers;
  }

  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.finished) return;
    this.size += chunk.length;
    if (this.size > MAX_UPSTREAM_BODY_BYTES) {
      this.fail(
        upstreamErrors.malformed(`answer larger than ${MAX_UPSTREAM_BODY_BYTES} bytes`),
        MALFORMED,
      );
      return;
    }
    this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    this.markUpstreamDone();
    if (this.finished) return;
    const body = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.size);
    this.chunks = [];
    if (this.status < 200 || this.status >= 300) {
      this.failStatus(this.status, body, this.headers);
      return;
    }
    const ct = this.headers['content-type'];
    const contentType = Array.isArray(ct) ? ct[0] : ct;
    if (contentType !== undefined && !contentType.toLowerCase().includes('json')) {
      this.fail(upstreamErrors.badContentType(contentType), MALFORMED);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      this.fail(upstreamErrors.malformed('the JSON body does not parse'), MALFORMED);
      return;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      this.fail(upstreamErrors.malformed('the body is not a JSON object'), MALFORMED);
      return;
    }
    const answer = parsed as Record<string, unknown>;
    if (answer.error != null && answer.choices === undefined && answer.data === undefined) {
      this.fail(upstreamStatusError(502, body, this.headers));
      return;
    }
    let usage: TokenUsage | null = usageOfResponse(answer);
    const estimated = usage === null;
    if (usage === null) {
      usage = {
        inputTokens: this.options.estimateInput(),
        outputTokens: this.options.estimateOutput(answer),
        cachedInputTokens: 0,
      };
    }
    let payload: string | Buffer = body;
    const publicModel = this.options.publicModel;
    if (publicModel !== null && answer.model !== publicModel) {
      answer.model = publicModel;
      payload = JSON.stringify(answer);
    }
    this.ex.sendJson(this.status, payload);
    this.succeed(usage, estimated);
  }

  protected partialUsage(): { usage: TokenUsage | null; estimated: boolean } {
    return { usage: null, estimated: false };
  }

  protected endAfterFailure(_e: ProxyError): void {
    // a JSON answer is sent in one piece, so headers are never out before a failure; close defensively
    this.ex.res.destroy();
  }
}
