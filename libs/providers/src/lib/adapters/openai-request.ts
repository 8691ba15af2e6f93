import type { ChatCompletionRequest, ChatContentPart, ChatMessage } from '../openai/types';
import { AdapterRequestError } from './provider-adapter';

/**
 * Readers for the parts of an OpenAI chat request that the translators need and that the
 * request validation leaves loosely typed (tools, tool_choice, response_format, content parts).
 * Each throws AdapterRequestError, naming the parameter, for a shape it cannot translate.
 */

export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A function tool: name, description and JSON Schema parameters. */
export interface FunctionTool {
  name: string;
  description?: string;
  parameters?: Json;
  /** OpenAI `strict` */
  strict?: boolean;
}

export function readTools(req: ChatCompletionRequest): FunctionTool[] {
  const tools = req.tools;
  if (tools === undefined || tools === null) return [];
  if (!Array.isArray(tools))
    throw new AdapterRequestError("'tools' must be an array.", 'tools', 'invalid_type');
  return tools.map((t, i) => {
    const p = `tools[${i}]`;
    if (!isObject(t) || (t.type !== undefined && t.type !== 'function'))
      throw new AdapterRequestError(
        `Only function tools can be sent to this provider; '${p}.type' is ${JSON.stringify(isObject(t) ? t.type : t)}.`,
        `${p}.type`,
      );
    const fn = t.function;
    if (!isObject(fn) || typeof fn.name !== 'string' || fn.name.length === 0)
      throw new AdapterRequestError(
        `Missing required parameter: '${p}.function.name'.`,
        `${p}.function.name`,
        'missing_required_parameter',
      );
    if (fn.parameters !== undefined && fn.parameters !== null && !isObject(fn.parameters))
      throw new AdapterRequestError(
        `'${p}.function.parameters' must be an object.`,
        `${p}.function.parameters`,
        'invalid_type',
      );
    const tool: FunctionTool = { name: fn.name };
    if (typeof fn.description === 'string') tool.description = fn.description;
    if (isObject(fn.parameters)) tool.parameters = fn.parameters;
    if (typeof fn.strict === 'boolean') tool.strict = fn.strict;
    return tool;
  });
}

export type ToolChoice =
  { kind: 'auto' } | { kind: 'none' } | { kind: 'required' } | { kind: 'function'; name: string };

/** `tool_choice`, or null when absent. */
export function readToolChoice(req: ChatCompletionRequest): ToolChoice | null {
  const tc = req.tool_choice;
  if (tc === undefined || tc === null) return null;
  if (tc === 'auto' || tc === 'none' || tc === 'required') return { kind: tc };
  if (
    isObject(tc) &&
    tc.type === 'function' &&
    isObject(tc.function) &&
    typeof tc.function.name === 'string'
  )
    return { kind: 'function', name: tc.function.name };
  throw new AdapterRequestError(
    "Invalid 'tool_choice': expected 'none', 'auto', 'required' or {type: 'function', function: {name}}.",
    'tool_choice',
    'invalid_value',
  );
}

export type ResponseFormat =
  | { kind: 'text' }
  | { kind: 'json_object' }
  | { kind: 'json_schema'; name: string; schema: Json; strict: boolean };

export function readResponseFormat(req: ChatCompletionRequest): ResponseFormat {
  const rf = req.response_format;
  if (rf === undefined || rf === null) return { kind: 'text' };
  if (!isObject(rf))
    throw new AdapterRequestError(
      "'response_format' must be an object.",
      'response_format',
      'invalid_type',
    );
  switch (rf.type) {
    case 'text':
      return { kind: 'text' };
    case 'json_object':
      return { kind: 'json_object' };
    case 'json_schema': {
      const js = rf.json_schema;
      if (!isObject(js) || typeof js.name !== 'string')
        throw new AdapterRequestError(
          "Missing required parameter: 'response_format.json_schema.name'.",
          'response_format.json_schema.name',
          'missing_required_parameter',
        );
      const schema = isObject(js.schema) ? js.schema : { type: 'object' };
      return { kind: 'json_schema', name: js.name, schema, strict: js.strict === true };
    }
    default:
      throw new AdapterRequestError(
        `Invalid 'response_format.type': ${JSON.stringify(rf.type)}. Supported values are: 'text', 'json_object' and 'json_schema'.`,
        'response_format.type',
        'invalid_value',
      );
  }
}

/** `max_completion_tokens` wins over the older `max_tokens`. */
export function readMaxTokens(req: ChatCompletionRequest): number | null {
  const v = req.max_completion_tokens ?? req.max_tokens;
  return typeof v === 'number' ? v : null;
}

export function readStop(req: ChatCompletionRequest): string[] {
  const s = req.stop;
  if (typeof s === 'string') return s.length > 0 ? [s] : [];
  return Array.isArray(s)
    ? s.filter((x): x is string => typeof x === 'string' && x.length > 0)
    : [];
}

/** The text of a message's content: the string, or its text parts joined. */
export function textOf(content: ChatMessage['content']): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let out = '';
  for (const part of content) {
    if (part.type === 'text' && typeof part.text === 'string') out += part.text;
    else if (part.type === 'refusal' && typeof part.refusal === 'string') out += part.refusal;
  }
  return out;
}

/** Content as a list of parts (a string is one text part). */
export function partsOf(content: ChatMessage['content']): ChatContentPart[] {
  if (typeof content === 'string')
    return content.length > 0 ? [{ type: 'text', text: content }] : [];
  return Array.isArray(content) ? content : [];
}

export interface DataUrl {
  mediaType: string;
  base64: string;
}

/** `data:<type>;base64,<data>`, or null for any other URL. */
export function parseDataUrl(url: string): DataUrl | null {
  if (!url.startsWith('data:')) return null;
  const comma = url.indexOf(',');
  if (comma === -1) return null;
  const meta = url.slice(5, comma);
  if (!meta.endsWith(';base64')) return null;
  const mediaType = meta.slice(0, -7).split(';')[0] || 'application/octet-stream';
  return { mediaType: mediaType.toLowerCase(), base64: url.slice(comma + 1) };
}

/** The URL of an `image_url` part (`{image_url: {url}}`, or the older `{image_url: "..."}`). */
export function imageUrlOf(part: ChatContentPart, param: string): string {
  const iu = part.image_url;
  const url = typeof iu === 'string' ? iu : isObject(iu) ? iu.url : undefined;
  if (typeof url !== 'string' || url.length === 0)
    throw new AdapterRequestError(
      `Missing required parameter: '${param}.image_url.url'.`,
      `${param}.image_url.url`,
      'missing_required_parameter',
    );
  return url;
}

const EXTENSION_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  heic: 'image/heic',
  heif: 'image/heif',
  pdf: 'application/pdf',
  mp3: 'audio/mp3',
  wav: 'audio/wav',
  mp4: 'video/mp4',
};

/** A media type guessed from a URL's extension (for providers that need one with a URL). */
export function mediaTypeOfUrl(url: string, fallback: string): string {
  const path = url.split(/[?#]/)[0];
  const dot = path.lastIndexOf('.');
  if (dot === -1 || dot < path.lastIndexOf('/')) return fallback;
  return EXTENSION_TYPES[path.slice(dot + 1).toLowerCase()] ?? fallback;
}

/** Parses a tool call's `arguments` into the object providers other than OpenAI want. */
export function parseToolArguments(args: unknown, param: string): Json {
  if (args === undefined || args === null || args === '') return {};
  if (typeof args !== 'string')
    throw new AdapterRequestError(`'${param}' must be a string of JSON.`, param, 'invalid_type');
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch {
    throw new AdapterRequestError(`'${param}' is not valid JSON.`, param, 'invalid_value');
  }
  if (!isObject(parsed))
    throw new AdapterRequestError(`'${param}' must be a JSON object.`, param, 'invalid_value');
  return parsed;
}

/** Rejects what no non-OpenAI provider here can do with a chat request. */
export function rejectLegacyFunctions(req: ChatCompletionRequest): void {
  if (req.functions !== undefined || req.function_call !== undefined)
    throw new AdapterRequestError(
      "'functions' and 'function_call' are deprecated and not translated for this provider; use 'tools' and 'tool_choice'.",
      req.functions !== undefined ? 'functions' : 'function_call',
    );
  req.messages.forEach((m, i) => {
    if (m.role === 'function')
      throw new AdapterRequestError(
        "Messages with role 'function' are not translated for this provider; use role 'tool'.",
        `messages[${i}].role`,
      );
  });
}
