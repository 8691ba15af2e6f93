import { ChatStreamFilter, deltaTextChars, MalformedStreamError } from './chat-stream';
import { chatStreamEvents } from './fixtures.spec-helper';

function run(sut: ChatStreamFilter, events: string[]): (string | null)[] {
  return events.map((e) => sut.push(e));
}

describe('ChatStreamFilter', () => {
  it('passes every event through untouched when the client asked for usage and names agree', () => {
    const events = chatStreamEvents();
    const sut = new ChatStreamFilter({ exposeUsage: true, publicModel: null });
    const out = run(sut, events);
    expect(out).toEqual(events);
    out.forEach((o, i) => expect(o).toBe(events[i]));
    expect(sut.usage).toEqual({ inputTokens: 9, outputTokens: 3, cachedInputTokens: 4 });
    expect(sut.done).toBe(true);
  });

  it('hides the usage-only chunk from a client that did not ask, but still records the usage', () => {
    const events = chatStreamEvents();
    const sut = new ChatStreamFilter({ exposeUsage: false, publicModel: null });
    const out = run(sut, events).filter((o): o is string => o !== null);
    expect(out).toHaveLength(events.length - 1);
    // neither the usage chunk nor the `usage: null` the provider added to the others
    expect(out.some((d) => d.includes('"usage"'))).toBe(false);
    expect(out.slice(0, -1).map((d) => JSON.parse(d))).toEqual(
      chatStreamEvents(false)
        .slice(0, -1)
        .map((d) => JSON.parse(d)),
    );
    expect(sut.usage?.outputTokens).toBe(3);
  });

  it('strips usage from a chunk that also carries choices instead of dropping it', () => {
    const sut = new ChatStreamFilter({ exposeUsage: false, publicModel: null });
    sut.push(chatStreamEvents()[0]);
    const out = sut.push(
      '{"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":2,"completion_tokens":1,"total_tokens":3}}',
    );
    expect(JSON.parse(out!)).toEqual({
      id: 'x',
      object: 'chat.completion.chunk',
      created: 1,
      model: 'm',
      choices: [{ index: 0, delta: { content: 'hi' }, finish_reason: 'stop' }],
    });
    expect(sut.usage).toEqual({ inputTokens: 2, outputTokens: 1, cachedInputTokens: 0 });
  });

  it('shows the public model name in every chunk when it differs from the upstream name', () => {
    const sut = new ChatStreamFilter({ exposeUsage: true, publicModel: 'team-gpt' });
    const out = run(sut, chatStreamEvents());
    for (const d of out.slice(0, -1)) expect(JSON.parse(d!).model).toBe('team-gpt');
    expect(out[out.length - 1]).toBe('[DONE]');
  });

  it('meters the text produced so far for an estimate when no usage arrives', () => {
    const sut = new ChatStreamFilter({ exposeUsage: false, publicModel: null });
    run(sut, chatStreamEvents(false).slice(0, 4));
    expect(sut.usage).toBeNull();
    expect(sut.textChars).toBe('Hello there!'.length);
    expect(sut.textChunks).toBe(3);
    expect(sut.estimatedOutputTokens()).toBe(3);
    expect(sut.done).toBe(false);
  });

  it('refuses a first event that is not JSON', () => {
    const sut = new ChatStreamFilter({ exposeUsage: true, publicModel: null });
    expect(() => sut.push('<html>oops</html>')).toThrow(MalformedStreamError);
  });

  it('records an error object sent inside the stream and drops that event', () => {
    const sut = new ChatStreamFilter({ exposeUsage: true, publicModel: null });
    sut.push(chatStreamEvents()[0]);
    expect(
      sut.push('{"error":{"message":"overloaded","type":"server_error","param":null,"code":null}}'),
    ).toBeNull();
    expect(sut.upstreamError).toEqual({
      message: 'overloaded',
      type: 'server_error',
      param: null,
      code: null,
    });
  });
});

describe('deltaTextChars', () => {
  it('counts the characters of content and tool-call arguments, escapes as one', () => {
    expect(deltaTextChars('{"choices":[{"delta":{"content":"a\\"b\\u00e9c"}}]}')).toBe(5);
    expect(
      deltaTextChars(
        '{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\\"x\\":1}"}}]}}]}',
      ),
    ).toBe(7);
    expect(deltaTextChars('{"choices":[{"delta":{"role":"assistant","content":""}}]}')).toBe(0);
  });
});
