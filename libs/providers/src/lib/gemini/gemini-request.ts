import {
  imageUrlOf,
  isObject,
  type Json,
  mediaTypeOfUrl,
  parseDataUrl,
  partsOf,
  readMaxTokens,
  readResponseFormat,
  readStop,
  readToolChoice,
  readTools,
  rejectLegacyFunctions,
  textOf,
} from '../adapters/openai-request';
import { AdapterRequestError } from '../adapters/provider-adapter';
import type { ChatCompletionRequest, ChatContentPart, ChatMessage } from '../openai/types';

/**
 * Google Gemini API wire format (`models/{model}:generateContent`), as far as Tollgate writes it.
 * https://ai.google.dev/api/generate-content
 */
export interface GeminiPart {
  text?: string;
  thought?: boolean;
  inlineData?: { mimeType: string; data: string };
  fileData?: { mimeType: string; fileUri: string };
  functionCall?: { name: string; args: Json; id?: string };
  functionResponse?: { name: string; response: Json; id?: string };
  [field: string]: unknown;
}

export interface GeminiContent {
  role: 'user' | 'model';
  parts: GeminiPart[];
}

export interface GeminiGenerateContentRequest {
  contents: GeminiContent[];
  systemInstruction?: { parts: GeminiPart[] };
  tools?: { functionDeclarations: { name: string; description?: string; parameters?: Json }[] }[];
  toolConfig?: {
    functionCallingConfig: { mode: 'AUTO' | 'ANY' | 'NONE'; allowedFunctionNames?: string[] };
  };
  generationConfig?: Json;
  [field: string]: unknown;
}

/** JSON Schema keywords the Gemini `Schema` object (an OpenAPI 3.0 subset) understands. */
const SCHEMA_KEYS = new Set([
  'type',
  'format',
  'title',
  'description',
  'nullable',
  'enum',
  'maxItems',
  'minItems',
  'properties',
  'required',
  'minProperties',
  'maxProperties',
  'minLength',
  'maxLength',
  'pattern',
  'example',
  'anyOf',
  'propertyOrdering',
  'default',
  'items',
  'minimum',
  'maximum',
]);

/**
 * A JSON Schema reduced to what Gemini's `Schema` accepts: unknown keywords (`$schema`,
 * `additionalProperties`, `strict`…) are dropped, `type: ['string', 'null']` becomes
 * `type: 'string', nullable: true`. Gemini answers 400 for the keywords it does not know.
 */
export function geminiSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(geminiSchema);
  if (!isObject(schema)) return schema;
  const out: Json = {};
  for (const [k, v] of Object.entries(schema)) {
    if (!SCHEMA_KEYS.has(k)) continue;
    if (k === 'type' && Array.isArray(v)) {
      const types = v.filter((t) => t !== 'null');
      if (types.length < v.length) out.nullable = true;
      out.type = types[0] ?? 'string';
    } else if (k === 'properties' && isObject(v)) {
      out.properties = Object.fromEntries(
        Object.entries(v).map(([name, s]) => [name, geminiSchema(s)]),
      );
    } else if (k === 'items' || k === 'anyOf') out[k] = geminiSchema(v);
    else out[k] = v;
  }
  return out;
}

/** Gemini function names: letters, digits, `_`, `.`, `-`, up to 64 characters. */
function checkFunctionName(name: string, param: string): void {
  if (!/^[a-zA-Z_][a-zA-Z0-9_.-]{0,63}$/.test(name))
    throw new AdapterRequestError(
      `Invalid '${param}': this provider wants a function name of letters, digits, '_', '.' or '-', at most 64 characters.`,
      param,
      'invalid_value',
    );
}

function mediaPart(url: string, param: string, fallbackType: string): GeminiPart {
  const data = parseDataUrl(url);
  if (data) return { inlineData: { mimeType: data.mediaType, data: data.base64 } };
  if (url.startsWith('data:'))
    throw new AdapterRequestError('A data URL must be base64-encoded.', param, 'invalid_image_url');
  // Gemini fetches Files API, Cloud Storage and YouTube URIs (and, on newer models, public URLs)
  return { fileData: { mimeType: mediaTypeOfUrl(url, fallbackType), fileUri: url } };
}

function userParts(content: ChatMessage['content'], param: string): GeminiPart[] {
  const parts: GeminiPart[] = [];
  partsOf(content).forEach((part: ChatContentPart, j) => {
    const p = `${param}[${j}]`;
    switch (part.type) {
      case 'text':
        if (typeof part.text === 'string' && part.text.length > 0) parts.push({ text: part.text });
        break;
      case 'image_url':
        parts.push(mediaPart(imageUrlOf(part, p), `${p}.image_url.url`, 'image/jpeg'));
        break;
      case 'input_audio': {
        const a = isObject(part.input_audio) ? part.input_audio : {};
        if (typeof a.data !== 'string')
          throw new AdapterRequestError(
            `Missing required parameter: '${p}.input_audio.data'.`,
            `${p}.input_audio.data`,
            'missing_required_parameter',
          );
        parts.push({
          inlineData: { mimeType: a.format === 'mp3' ? 'audio/mp3' : 'audio/wav', data: a.data },
        });
        break;
      }
      case 'file': {
        const f = isObject(part.file) ? part.file : {};
        if (typeof f.file_data !== 'string')
          throw new AdapterRequestError(
            'Only files given inline as a base64 data URL (file.file_data) can be sent to this provider.',
            `${p}.file`,
          );
        parts.push(mediaPart(f.file_data, `${p}.file.file_data`, 'application/pdf'));
        break;
      }
      default:
        throw new AdapterRequestError(
          `Content parts of type '${part.type}' are not supported by this provider.`,
          `${p}.type`,
        );
    }
  });
  return parts;
}

/** A tool result as Gemini's `response` object: a JSON object as is, anything else wrapped. */
function toolResponse(m: ChatMessage): Json {
  const text = textOf(m.content);
  try {
    const v: unknown = JSON.parse(text);
    if (isObject(v)) return v;
    return { result: v };
  } catch {
    return { result: text };
  }
}

function push(contents: GeminiContent[], role: 'user' | 'model', parts: GeminiPart[]): void {
  if (parts.length === 0) return;
  const last = contents[contents.length - 1];
  // a turn's function responses must arrive together, in the turn after the calls
  if (last && last.role === role) last.parts.push(...parts);
  else contents.push({ role, parts });
}

/**
 * An OpenAI chat request as a Gemini `generateContent` request. System and developer messages
 * become `systemInstruction`; assistant tool calls become `functionCall` parts and tool results
 * `functionResponse` parts (named after the call they answer); `response_format` becomes
 * `responseMimeType`/`responseSchema`. Throws AdapterRequestError.
 */
export function toGeminiRequest(req: ChatCompletionRequest): GeminiGenerateContentRequest {
  rejectLegacyFunctions(req);
  const system: GeminiPart[] = [];
  const contents: GeminiContent[] = [];
  const callNames = new Map<string, string>();
  req.messages.forEach((m, i) => {
    switch (m.role) {
      case 'system':
      case 'developer': {
        const text = textOf(m.content);
        if (text) system.push({ text });
        break;
      }
      case 'user':
        push(contents, 'user', userParts(m.content, `messages[${i}].content`));
        break;
      case 'assistant': {
        const parts: GeminiPart[] = [];
        const text = textOf(m.content);
        if (text) parts.push({ text });
        (m.tool_calls ?? []).forEach((call, j) => {
          const p = `messages[${i}].tool_calls[${j}]`;
          if (!isObject(call) || !isObject(call.function) || typeof call.function.name !== 'string')
            throw new AdapterRequestError(`'${p}' must have a function name.`, p, 'invalid_value');
          if (typeof call.id === 'string') callNames.set(call.id, call.function.name);
          let args: unknown = {};
          try {
            args = call.function.arguments ? JSON.parse(call.function.arguments) : {};
          } catch {
            throw new AdapterRequestError(
              `'${p}.function.arguments' is not valid JSON.`,
              `${p}.function.arguments`,
              'invalid_value',
            );
          }
          parts.push({
            functionCall: { name: call.function.name, args: isObject(args) ? args : {} },
          });
        });
        push(contents, 'model', parts);
        break;
      }
      case 'tool': {
        const name = callNames.get(m.tool_call_id ?? '');
        if (name === undefined)
          throw new AdapterRequestError(
            `'messages[${i}].tool_call_id' does not answer any tool call of an earlier assistant message.`,
            `messages[${i}].tool_call_id`,
            'invalid_value',
          );
        push(contents, 'user', [{ functionResponse: { name, response: toolResponse(m) } }]);
        break;
      }
      case 'function':
        break; // rejected above
    }
  });

  const body: GeminiGenerateContentRequest = { contents };
  if (system.length > 0) body.systemInstruction = { parts: system };
  const tools = readTools(req);
  if (tools.length > 0) {
    body.tools = [
      {
        functionDeclarations: tools.map((t, i) => {
          checkFunctionName(t.name, `tools[${i}].function.name`);
          const d: { name: string; description?: string; parameters?: Json } = { name: t.name };
          if (t.description) d.description = t.description;
          // Gemini refuses an object schema without properties
          if (t.parameters && isObject(t.parameters.properties)) {
            if (Object.keys(t.parameters.properties).length > 0)
              d.parameters = geminiSchema(t.parameters) as Json;
          }
          return d;
        }),
      },
    ];
    const choice = readToolChoice(req);
    if (choice !== null) {
      const mode =
        choice.kind === 'auto' ? 'AUTO' : choice.kind === 'none' ? 'NONE' : ('ANY' as const);
      body.toolConfig = { functionCallingConfig: { mode } };
      if (choice.kind === 'function')
        body.toolConfig.functionCallingConfig.allowedFunctionNames = [choice.name];
    }
  }

  const gc: Json = {};
  if (typeof req.temperature === 'number') gc.temperature = req.temperature;
  if (typeof req.top_p === 'number') gc.topP = req.top_p;
  const max = readMaxTokens(req);
  if (max !== null) gc.maxOutputTokens = max;
  const stop = readStop(req);
  if (stop.length > 0) gc.stopSequences = stop;
  if (typeof req.n === 'number' && req.n > 1) gc.candidateCount = req.n;
  if (typeof req.presence_penalty === 'number') gc.presencePenalty = req.presence_penalty;
  if (typeof req.frequency_penalty === 'number') gc.frequencyPenalty = req.frequency_penalty;
  if (typeof req.seed === 'number') gc.seed = req.seed;
  const format = readResponseFormat(req);
  if (format.kind !== 'text') gc.responseMimeType = 'application/json';
  if (format.kind === 'json_schema') gc.responseSchema = geminiSchema(format.schema);
  if (Object.keys(gc).length > 0) body.generationConfig = gc;
  return body;
}
