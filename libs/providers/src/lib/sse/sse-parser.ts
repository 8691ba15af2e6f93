/** One server-sent event (https://html.spec.whatwg.org/multipage/server-sent-events.html). */
export interface SseEvent {
  /** the data lines joined by `\n` */
  data: string;
  /** the `event:` field, when present */
  event?: string;
  /** the `id:` field, when present */
  id?: string;
  /** the `retry:` field, when present */
  retry?: number;
}

/**
 * Incremental SSE parser: feed it bytes as they arrive, split anywhere (inside a line, inside a
 * CRLF pair, inside a multi-byte UTF-8 character), and it returns the events completed so far.
 * Lines end with LF, CRLF or CR; comments (`:` lines) and unknown fields are ignored; an event is
 * dispatched on a blank line when it has data. An incomplete event at the end of the stream is
 * discarded, as the specification says.
 */
export class SseParser {
  private readonly decoder = new TextDecoder('utf-8');
  /** text after the last complete line (already CR-normalised, except for a trailing held CR) */
  private pending = '';
  private data = '';
  private hasData = false;
  private event: string | undefined;
  private id: string | undefined;
  private retry: number | undefined;
  private firstChunk = true;

  feed(chunk: Uint8Array | string): SseEvent[] {
    let text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    if (this.firstChunk && text.length > 0) {
      this.firstChunk = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    text = this.pending + text;
    let hold = '';
    if (text.indexOf('\r') !== -1) {
      // a CR at the very end may be the first half of a CRLF: decide when the next byte arrives
      if (text.charCodeAt(text.length - 1) === 13) {
        hold = '\r';
        text = text.slice(0, -1);
      }
      text = text.replace(/\r\n?/g, '\n');
    }
    const out: SseEvent[] = [];
    let start = 0;
    let nl: number;
    while ((nl = text.indexOf('\n', start)) !== -1) {
      this.line(text.slice(start, nl), out);
      start = nl + 1;
    }
    this.pending = (start === 0 ? text : text.slice(start)) + hold;
    return out;
  }

  /** Ends the stream: returns an event only when the last one was properly terminated. */
  end(): SseEvent[] {
    const rest = this.decoder.decode();
    const out = rest ? this.feed(rest) : [];
    const p = this.pending;
    this.pending = '';
    // a held CR was a line end after all
    if (p.charCodeAt(p.length - 1) === 13) this.line(p.slice(0, -1), out);
    this.reset();
    return out;
  }

  private line(line: string, out: SseEvent[]): void {
    if (line.length === 0) {
      if (this.hasData) {
        const e: SseEvent = { data: this.data };
        if (this.event !== undefined) e.event = this.event;
        if (this.id !== undefined) e.id = this.id;
        if (this.retry !== undefined) e.retry = this.retry;
        out.push(e);
      }
      this.reset();
      return;
    }
    if (line.charCodeAt(0) === 58 /* : */) return;
    const colon = line.indexOf(':');
    let field: string;
    let value: string;
    if (colon === -1) {
      field = line;
      value = '';
    } else {
      field = line.slice(0, colon);
      value = line.charCodeAt(colon + 1) === 32 ? line.slice(colon + 2) : line.slice(colon + 1);
    }
    switch (field) {
      case 'data':
        if (this.hasData) this.data += '\n' + value;
        else {
          this.data = value;
          this.hasData = true;
        }
        break;
      case 'event':
        this.event = value;
        break;
      case 'id':
        if (value.indexOf('\0') === -1) this.id = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
      default:
        break;
    }
  }

  private reset(): void {
    this.data = '';
    this.hasData = false;
    this.event = undefined;
    this.id = undefined;
    this.retry = undefined;
  }
}

/** Serialises one event in the form OpenAI uses (`data: …` lines, then a blank line). */
export function formatSseEvent(e: SseEvent | string): string {
  const data = typeof e === 'string' ? e : e.data;
  let head = '';
  if (typeof e !== 'string') {
    if (e.event !== undefined) head += `event: ${e.event}\n`;
    if (e.id !== undefined) head += `id: ${e.id}\n`;
    if (e.retry !== undefined) head += `retry: ${e.retry}\n`;
  }
  if (data.indexOf('\n') === -1) return `${head}data: ${data}\n\n`;
  return `${head}${data
    .split('\n')
    .map((l) => `data: ${l}`)
    .join('\n')}\n\n`;
}
