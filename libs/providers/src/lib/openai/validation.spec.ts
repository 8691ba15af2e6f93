import {
  validateChatCompletionRequest,
  validateCompletionRequest,
  validateEmbeddingsRequest,
} from './validation';

const chat = (over: Record<string, unknown> = {}) => ({
  model: 'gpt-4o-mini',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
  ],
  ...over,
});

const problemOf = (r: ReturnType<typeof validateChatCompletionRequest>) =>
  r.ok ? null : r.problem;

describe('validateChatCompletionRequest', () => {
  it('accepts a valid request and keeps unknown fields', () => {
    const body = chat({
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.2,
      custom_field: { a: 1 },
    });
    const sut = validateChatCompletionRequest(body);
    expect(sut).toEqual({ ok: true, value: body });
  });

  it('accepts an assistant turn that carries only tool calls, and a tool result', () => {
    const body = chat({
      messages: [
        { role: 'user', content: 'weather?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'w', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: 'c1', content: 'sunny' },
      ],
    });
    expect(validateChatCompletionRequest(body).ok).toBe(true);
  });

  it.each([
    [[1, 2], null, 'invalid_type'],
    [chat({ model: undefined }), 'model', 'missing_required_parameter'],
    [chat({ model: 42 }), 'model', 'invalid_type'],
    [chat({ messages: undefined }), 'messages', 'missing_required_parameter'],
    [chat({ messages: 'hi' }), 'messages', 'invalid_type'],
    [chat({ messages: [] }), 'messages', 'empty_array'],
    [chat({ messages: [{ role: 'wizard', content: 'x' }] }), 'messages[0].role', 'invalid_value'],
    [chat({ messages: [{ content: 'x' }] }), 'messages[0].role', 'missing_required_parameter'],
    [chat({ messages: [{ role: 'user' }] }), 'messages[0].content', 'missing_required_parameter'],
    [chat({ messages: [{ role: 'user', content: 5 }] }), 'messages[0].content', 'invalid_type'],
    [
      chat({ messages: [{ role: 'user', content: [{ type: 'text', text: 1 }] }] }),
      'messages[0].content[0].text',
      'invalid_type',
    ],
    [
      chat({ messages: [{ role: 'tool', content: 'x' }] }),
      'messages[0].tool_call_id',
      'missing_required_parameter',
    ],
    [chat({ stream: 'yes' }), 'stream', 'invalid_type'],
    [chat({ stream_options: { include_usage: true } }), 'stream_options', 'invalid_value'],
    [
      chat({ stream: true, stream_options: { include_usage: 'y' } }),
      'stream_options.include_usage',
      'invalid_type',
    ],
    [chat({ max_tokens: 1.5 }), 'max_tokens', 'invalid_type'],
    [chat({ max_tokens: 0 }), 'max_tokens', 'integer_below_min_value'],
    [chat({ temperature: 3 }), 'temperature', 'decimal_above_max_value'],
    [chat({ temperature: '0.5' }), 'temperature', 'invalid_type'],
    [chat({ stop: ['a', 'b', 'c', 'd', 'e'] }), 'stop', 'array_above_max_length'],
    [chat({ n: 0 }), 'n', 'integer_below_min_value'],
  ])('refuses %j with param %s (%s)', (body, param, code) => {
    const problem = problemOf(validateChatCompletionRequest(body));
    expect(problem).toMatchObject({ param, code });
    expect(problem?.message.length).toBeGreaterThan(10);
  });

  it('names the offending type in the message', () => {
    expect(problemOf(validateChatCompletionRequest(chat({ messages: 'hi' })))?.message).toBe(
      "Invalid type for 'messages': expected an array, but got a string instead.",
    );
  });
});

describe('validateEmbeddingsRequest', () => {
  it.each([['a text'], [['one', 'two']], [[1, 2, 3]], [[[1, 2], [3]]]])(
    'accepts input %j',
    (input) => {
      expect(
        validateEmbeddingsRequest({ model: 'e', input, encoding_format: 'base64', dimensions: 8 })
          .ok,
      ).toBe(true);
    },
  );

  it.each([
    [{ input: 'x' }, 'model', 'missing_required_parameter'],
    [{ model: 'e' }, 'input', 'missing_required_parameter'],
    [{ model: 'e', input: '' }, 'input', 'empty_string'],
    [{ model: 'e', input: [] }, 'input', 'empty_array'],
    [{ model: 'e', input: ['a', 2] }, 'input[1]', 'invalid_type'],
    [{ model: 'e', input: { a: 1 } }, 'input', 'invalid_type'],
    [{ model: 'e', input: 'x', encoding_format: 'hex' }, 'encoding_format', 'invalid_value'],
    [{ model: 'e', input: 'x', dimensions: -1 }, 'dimensions', 'integer_below_min_value'],
  ])('refuses %j with param %s (%s)', (body, param, code) => {
    const r = validateEmbeddingsRequest(body);
    expect(r.ok ? null : r.problem).toMatchObject({ param, code });
  });
});

describe('validateCompletionRequest', () => {
  it('accepts a text prompt, prompts and token arrays, keeping unknown fields', () => {
    for (const prompt of ['Say hi', ['a', 'b'], [1, 2, 3], [[1], [2]]]) {
      const body = { model: 'instruct', prompt, suffix: '!', custom: 1 };
      expect(validateCompletionRequest(body)).toEqual({ ok: true, value: body });
    }
  });

  it.each([
    [{ prompt: 'x' }, 'model', 'missing_required_parameter'],
    [{ model: 'instruct' }, 'prompt', 'missing_required_parameter'],
    [{ model: 'instruct', prompt: 5 }, 'prompt', 'invalid_type'],
    [{ model: 'instruct', prompt: ['a', 2] }, 'prompt[1]', 'invalid_type'],
    [{ model: 'instruct', prompt: 'x', max_tokens: -1 }, 'max_tokens', 'integer_below_min_value'],
    [{ model: 'instruct', prompt: 'x', logprobs: 9 }, 'logprobs', 'integer_above_max_value'],
    [
      { model: 'instruct', prompt: 'x', stream_options: { include_usage: true } },
      'stream_options',
      'invalid_value',
    ],
  ])('refuses %j with param %s (%s)', (body, param, code) => {
    const r = validateCompletionRequest(body);
    expect(r.ok ? null : r.problem).toMatchObject({ param, code });
  });
});
