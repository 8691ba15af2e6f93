import type { ChatCompletionRequest, CompletionRequest, EmbeddingsRequest } from './types';
import { CHAT_ROLES } from './types';

/** What is wrong with a request, in the terms of OpenAI's error body (`message`, `param`, `code`). */
export interface RequestProblem {
  message: string;
  /** the offending parameter, e.g. `messages[0].role`, or null */
  param: string | null;
  code: string | null;
}

export type Validated<T> = { ok: true; value: T } | { ok: false; problem: RequestProblem };

type Json = Record<string, unknown>;

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a decimal';
  if (typeof v === 'boolean') return 'a boolean';
  if (typeof v === 'object') return 'an object';
  return typeof v;
}

function shown(v: unknown): string {
  const s = typeof v === 'string' ? `'${v}'` : (JSON.stringify(v) ?? String(v));
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

const fail = (
  message: string,
  param: string | null,
  code: string | null,
): { ok: false; problem: RequestProblem } => ({
  ok: false,
  problem: { message, param, code },
});

const missing = (param: string) =>
  fail(`Missing required parameter: '${param}'.`, param, 'missing_required_parameter');

const wrongType = (param: string, expected: string, v: unknown) =>
  fail(
    `Invalid type for '${param}': expected ${expected}, but got ${typeName(v)} instead.`,
    param,
    'invalid_type',
  );

const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks an optional (absent or null) field; returns a problem or null. */
type FieldCheck = (v: unknown, param: string) => { ok: false; problem: RequestProblem } | null;

const optional =
  (check: FieldCheck): FieldCheck =>
  (v, param) =>
    v === undefined || v === null ? null : check(v, param);

const bool: FieldCheck = (v, p) => (typeof v === 'boolean' ? null : wrongType(p, 'a boolean', v));
const str: FieldCheck = (v, p) => (typeof v === 'string' ? null : wrongType(p, 'a string', v));
const obj: FieldCheck = (v, p) => (isObject(v) ? null : wrongType(p, 'an object', v));
const arr: FieldCheck = (v, p) => (Array.isArray(v) ? null : wrongType(p, 'an array', v));

function int(min: number, max: number): FieldCheck {
  return (v, p) => {
    if (typeof v !== 'number' || !Number.isInteger(v)) return wrongType(p, 'an integer', v);
    if (v < min)
      return fail(
        `Invalid '${p}': integer below minimum value. Expected a value >= ${min}, but got ${v} instead.`,
        p,
        'integer_below_min_value',
      );
    if (v > max)
      return fail(
        `Invalid '${p}': integer above maximum value. Expected a value <= ${max}, but got ${v} instead.`,
        p,
        'integer_above_max_value',
      );
    return null;
  };
}

function decimal(min: number, max: number): FieldCheck {
  return (v, p) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) return wrongType(p, 'a number', v);
    if (v < min)
      return fail(
        `Invalid '${p}': decimal below minimum value. Expected a value >= ${min}, but got ${v} instead.`,
        p,
        'decimal_below_min_value',
      );
    if (v > max)
      return fail(
        `Invalid '${p}': decimal above maximum value. Expected a value <= ${max}, but got ${v} instead.`,
        p,
        'decimal_above_max_value',
      );
    return null;
  };
}

const stop: FieldCheck = (v, p) => {
  if (typeof v === 'string') return null;
  if (!Array.isArray(v)) return wrongType(p, 'a string or an array of strings', v);
  if (v.length > 4)
    return fail(
      `Invalid '${p}': array too long. Expected an array with maximum length 4, but got an array with length ${v.length} instead.`,
      p,
      'array_above_max_length',
    );
  for (let i = 0; i < v.length; i++)
    if (typeof v[i] !== 'string') return wrongType(`${p}[${i}]`, 'a string', v[i]);
  return null;
};

const CHAT_FIELDS: Record<string, FieldCheck> = {
  stream: optional(bool),
  stream_options: optional(obj),
  max_tokens: optional(int(1, Number.MAX_SAFE_INTEGER)),
  max_completion_tokens: optional(int(1, Number.MAX_SAFE_INTEGER)),
  n: optional(int(1, 128)),
  temperature: optional(decimal(0, 2)),
  top_p: optional(decimal(0, 1)),
  presence_penalty: optional(decimal(-2, 2)),
  frequency_penalty: optional(decimal(-2, 2)),
  seed: optional(int(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)),
  stop: optional(stop),
  user: optional(str),
  tools: optional(arr),
  response_format: optional(obj),
  logprobs: optional(bool),
  top_logprobs: optional(int(0, 20)),
  logit_bias: optional(obj),
  parallel_tool_calls: optional(bool),
  metadata: optional(obj),
  store: optional(bool),
};

function checkModel(body: Json): { ok: false; problem: RequestProblem } | null {
  const model = body.model;
  if (model === undefined || model === null || model === '') {
    return fail('you must provide a model parameter', 'model', 'missing_required_parameter');
  }
  if (typeof model !== 'string') return wrongType('model', 'a string', model);
  if (model.length > 256)
    return fail(
      "Invalid 'model': string too long. Expected a string with maximum length 256.",
      'model',
      'string_above_max_length',
    );
  return null;
}

function checkContent(v: unknown, p: string, required: boolean) {
  if (v === undefined || v === null) return required ? missing(p) : null;
  if (typeof v === 'string') return null;
  if (!Array.isArray(v)) return wrongType(p, 'a string or an array of content parts', v);
  for (let i = 0; i < v.length; i++) {
    const part = v[i];
    if (!isObject(part)) return wrongType(`${p}[${i}]`, 'an object', part);
    if (typeof part.type !== 'string') return missing(`${p}[${i}].type`);
    if (part.type === 'text' && typeof part.text !== 'string')
      return wrongType(`${p}[${i}].text`, 'a string', part.text);
  }
  return null;
}

function checkMessage(m: unknown, i: number) {
  const p = `messages[${i}]`;
  if (!isObject(m)) return wrongType(p, 'an object', m);
  const role = m.role;
  if (role === undefined) return missing(`${p}.role`);
  if (typeof role !== 'string' || !(CHAT_ROLES as readonly string[]).includes(role)) {
    return fail(
      `Invalid value: ${shown(role)}. Supported values are: ${CHAT_ROLES.map((r) => `'${r}'`).join(', ')}.`,
      `${p}.role`,
      'invalid_value',
    );
  }
  // an assistant turn may carry only tool calls; every other role needs content
  const contentProblem = checkContent(m.content, `${p}.content`, role !== 'assistant');
  if (contentProblem) return contentProblem;
  if (m.name !== undefined && typeof m.name !== 'string')
    return wrongType(`${p}.name`, 'a string', m.name);
  if (m.tool_calls !== undefined && m.tool_calls !== null && !Array.isArray(m.tool_calls)) {
    return wrongType(`${p}.tool_calls`, 'an array', m.tool_calls);
  }
  if (role === 'tool' && typeof m.tool_call_id !== 'string') {
    return m.tool_call_id === undefined
      ? missing(`${p}.tool_call_id`)
      : wrongType(`${p}.tool_call_id`, 'a string', m.tool_call_id);
  }
  return null;
}

const NOT_AN_OBJECT = (what: string) =>
  fail(`The body of a ${what} request must be a JSON object.`, null, 'invalid_type');

/**
 * Validates a `POST /v1/chat/completions` body the way OpenAI does for the fields Tollgate relies on
 * (and the common sampling fields), with OpenAI-style messages. Unknown fields are allowed and kept.
 */
export function validateChatCompletionRequest(body: unknown): Validated<ChatCompletionRequest> {
  if (!isObject(body)) return NOT_AN_OBJECT('chat completion');
  const modelProblem = checkModel(body);
  if (modelProblem) return modelProblem;
  const messages = body.messages;
  if (messages === undefined || messages === null) return missing('messages');
  if (!Array.isArray(messages)) return wrongType('messages', 'an array', messages);
  if (messages.length === 0) {
    return fail(
      "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
      'messages',
      'empty_array',
    );
  }
  for (let i = 0; i < messages.length; i++) {
    const problem = checkMessage(messages[i], i);
    if (problem) return problem;
  }
  for (const field in CHAT_FIELDS) {
    const v = body[field];
    if (v === undefined) continue;
    const problem = CHAT_FIELDS[field](v, field);
    if (problem) return problem;
  }
  const so = body.stream_options;
  if (so !== undefined && so !== null) {
    if (body.stream !== true) {
      return fail(
        "Invalid value for 'stream_options': 'stream_options' is only allowed when 'stream' is enabled.",
        'stream_options',
        'invalid_value',
      );
    }
    const problem = optional(bool)((so as Json).include_usage, 'stream_options.include_usage');
    if (problem) return problem;
  }
  return { ok: true, value: body as unknown as ChatCompletionRequest };
}

const MAX_EMBEDDING_INPUTS = 2048;

function checkEmbeddingInput(input: unknown, name = 'input') {
  if (input === undefined || input === null) return missing(name);
  if (typeof input === 'string') {
    return input.length === 0
      ? fail(`Invalid '${name}': empty string. Expected a non-empty string.`, name, 'empty_string')
      : null;
  }
  if (!Array.isArray(input)) return wrongType(name, 'a string or an array', input);
  if (input.length === 0) {
    return fail(
      `Invalid '${name}': empty array. Expected an array with minimum length 1, but got an empty array instead.`,
      name,
      'empty_array',
    );
  }
  if (input.length > MAX_EMBEDDING_INPUTS) {
    return fail(
      `Invalid '${name}': array too long. Expected an array with maximum length ${MAX_EMBEDDING_INPUTS}, but got an array with length ${input.length} instead.`,
      name,
      'array_above_max_length',
    );
  }
  const first = input[0];
  // string[], number[] (one tokenised input) or number[][] (several)
  const kind =
    typeof first === 'string'
      ? 'string'
      : typeof first === 'number'
        ? 'number'
        : Array.isArray(first)
          ? 'tokens'
          : 'bad';
  for (let i = 0; i < input.length; i++) {
    const v = input[i];
    const p = `${name}[${i}]`;
    if (kind === 'string') {
      if (typeof v !== 'string') return wrongType(p, 'a string', v);
      if (v.length === 0)
        return fail(
          `Invalid '${p}': empty string. Expected a non-empty string.`,
          p,
          'empty_string',
        );
    } else if (kind === 'number') {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
        return wrongType(p, 'a non-negative integer token', v);
    } else if (kind === 'tokens') {
      if (!Array.isArray(v) || v.length === 0)
        return wrongType(p, 'a non-empty array of integer tokens', v);
      for (const t of v)
        if (typeof t !== 'number' || !Number.isInteger(t) || t < 0)
          return wrongType(p, 'an array of integer tokens', v);
    } else {
      return wrongType(p, 'a string, an integer token or an array of integer tokens', v);
    }
  }
  return null;
}

/** Validates a `POST /v1/embeddings` body. Unknown fields are allowed and kept. */
export function validateEmbeddingsRequest(body: unknown): Validated<EmbeddingsRequest> {
  if (!isObject(body)) return NOT_AN_OBJECT('embeddings');
  const modelProblem = checkModel(body);
  if (modelProblem) return modelProblem;
  const inputProblem = checkEmbeddingInput(body.input);
  if (inputProblem) return inputProblem;
  const ef = body.encoding_format;
  if (ef !== undefined && ef !== null && ef !== 'float' && ef !== 'base64') {
    return fail(
      `Invalid value: ${shown(ef)}. Supported values are: 'float' and 'base64'.`,
      'encoding_format',
      'invalid_value',
    );
  }
  const problem =
    optional(int(1, 65536))(body.dimensions, 'dimensions') ?? optional(str)(body.user, 'user');
  if (problem) return problem;
  return { ok: true, value: body as unknown as EmbeddingsRequest };
}

const COMPLETION_FIELDS: Record<string, FieldCheck> = {
  stream: optional(bool),
  stream_options: optional(obj),
  max_tokens: optional(int(0, Number.MAX_SAFE_INTEGER)),
  n: optional(int(1, 128)),
  best_of: optional(int(0, 20)),
  temperature: optional(decimal(0, 2)),
  top_p: optional(decimal(0, 1)),
  presence_penalty: optional(decimal(-2, 2)),
  frequency_penalty: optional(decimal(-2, 2)),
  seed: optional(int(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)),
  stop: optional(stop),
  suffix: optional(str),
  echo: optional(bool),
  logprobs: optional(int(0, 5)),
  logit_bias: optional(obj),
  user: optional(str),
};

/** Validates a legacy `POST /v1/completions` body. Unknown fields are allowed and kept. */
export function validateCompletionRequest(body: unknown): Validated<CompletionRequest> {
  if (!isObject(body)) return NOT_AN_OBJECT('completion');
  const modelProblem = checkModel(body);
  if (modelProblem) return modelProblem;
  const prompt = body.prompt;
  if (prompt === undefined || prompt === null) return missing('prompt');
  const inputProblem = checkEmbeddingInput(prompt, 'prompt');
  if (inputProblem) return inputProblem;
  for (const field in COMPLETION_FIELDS) {
    const v = body[field];
    if (v === undefined) continue;
    const problem = COMPLETION_FIELDS[field](v, field);
    if (problem) return problem;
  }
  const so = body.stream_options;
  if (so !== undefined && so !== null) {
    if (body.stream !== true)
      return fail(
        "Invalid value for 'stream_options': 'stream_options' is only allowed when 'stream' is enabled.",
        'stream_options',
        'invalid_value',
      );
    const problem = optional(bool)((so as Json).include_usage, 'stream_options.include_usage');
    if (problem) return problem;
  }
  return { ok: true, value: body as unknown as CompletionRequest };
}
