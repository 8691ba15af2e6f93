import { chatStreamEvents, chatStreamText } from '../openai/fixtures.spec-helper';
import { formatSseEvent, SseParser, type SseEvent } from './sse-parser';

function parseInPieces(bytes: Buffer, cuts: number[]): SseEvent[] {
  const sut = new SseParser();
  const out: SseEvent[] = [];
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    out.push(...sut.feed(bytes.subarray(at, cut)));
    at = cut;
  }
  out.push(...sut.end());
  return out;
}

describe('SseParser', () => {
  it('parses a recorded OpenAI stream into its events', () => {
    const sut = new SseParser();
    const events = [...sut.feed(Buffer.from(chatStreamText())), ...sut.end()];
    expect(events.map((e) => e.data)).toEqual(chatStreamEvents());
  });

  it('gives the same events however the bytes are split, including inside UTF-8 characters', () => {
    const text = 'data: {"content":"héllo wörld ✓ 🦊"}\n\ndata: second\r\n\r\ndata: [DONE]\n\n';
    const bytes = Buffer.from(text);
    const expected = ['{"content":"héllo wörld ✓ 🦊"}', 'second', '[DONE]'];
    for (let a = 0; a <= bytes.length; a++) {
      const got = parseInPieces(bytes, [a]).map((e) => e.data);
      expect(got).toEqual(expected);
    }
    // and byte by byte
    const oneByOne = Array.from({ length: bytes.length - 1 }, (_, i) => i + 1);
    expect(parseInPieces(bytes, oneByOne).map((e) => e.data)).toEqual(expected);
  });

  it('accepts LF, CRLF and CR line ends, even a CRLF split across chunks', () => {
    const bytes = Buffer.from('data: a\r\n\r\ndata: b\r\rdata: c\n\n');
    for (let a = 0; a <= bytes.length; a++) {
      expect(parseInPieces(bytes, [a]).map((e) => e.data)).toEqual(['a', 'b', 'c']);
    }
  });

  it('joins multi-line data, keeps event/id/retry, ignores comments and unknown fields', () => {
    const sut = new SseParser();
    const events = sut.feed(
      ': keep-alive\n\nevent: message\nid: 7\nretry: 1500\nfoo: bar\ndata: one\ndata:two\n\n',
    );
    expect(events).toEqual([{ data: 'one\ntwo', event: 'message', id: '7', retry: 1500 }]);
  });

  it('does not dispatch an event without data, nor an unterminated one at the end', () => {
    const sut = new SseParser();
    expect(sut.feed('event: ping\n\ndata: {"partial":')).toEqual([]);
    expect(sut.end()).toEqual([]);
  });

  it('strips a leading byte-order mark', () => {
    const sut = new SseParser();
    expect(sut.feed(Buffer.from('\ufeffdata: x\n\n'))).toEqual([{ data: 'x' }]);
  });

  it('dispatches an event whose blank line is a CR at the very end of the stream', () => {
    const sut = new SseParser();
    expect(sut.feed('data: x\r')).toEqual([]);
    expect(sut.feed('\r')).toEqual([]);
    expect(sut.end()).toEqual([{ data: 'x' }]);
  });
});

describe('formatSseEvent', () => {
  it('writes OpenAI-style data events that parse back to themselves', () => {
    const e = { data: 'line1\nline2', event: 'x', id: '3' };
    const sut = formatSseEvent(e);
    expect(sut).toBe('event: x\nid: 3\ndata: line1\ndata: line2\n\n');
    expect(new SseParser().feed(sut)).toEqual([e]);
    expect(formatSseEvent('[DONE]')).toBe('data: [DONE]\n\n');
  });
});
