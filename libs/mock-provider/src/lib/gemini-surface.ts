import { type MockExchange, truncated } from './exchange';
import { isObject, later, send, type Json } from './http';
import { reportedPromptTokens } from './settings';
import { garbledPlan, writeStream } from './stream';
import {
  mockAnswer,
  mockGeminiPromptTokens,
  mockToolCallTokens,
  mockToolDecision,
  mockWord,
  type MockToolCall,
  type MockToolChoice,
} from './wire';

const RPC_STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

/** Google's error body: `{"error":{"code":…,"message":…,"status":…}}`. */
export function geminiErrorJson(status: number, message: string, details?: unknown[]): string {
  const error: Json = {
    code: status,
    message,
    status: RPC_STATUS[status] ?? (status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION'),
  };
  if (details) error.details = details;
  return JSON.stringify({ error });
}

/** What Gemini answers for a wrong API key: 400 with reason API_KEY_INVALID. */
export const GEMINI_KEY_INVALID = geminiErrorJson(
  400,
  'API key not valid. Please pass a valid API key.',
  [
    {
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: 'API_KEY_INVALID',
      domain: 'googleapis.com',
      metadata: { service: 'generativelanguage.googleapis.com' },
    },
  ],
);

/** The function call the mock makes for a generateContent request, if any. */
export function geminiToolCall(b: Json): MockToolCall | null {
  const tools: { name: string; schema: unknown }[] = [];
  if (Array.isArray(b.tools))
    for (const t of b.tools as unknown[])
      if (isObject(t) && Array.isArray(t.functionDeclarations))
        for (const f of t.functionDeclarations as unknown[])
          if (isObject(f) && typeof f.name === 'string')
            tools.push({ name: f.name, schema: f.parameters ?? f.parametersJsonSchema });
  const cfg =
    isObject(b.toolConfig) && isObject(b.toolConfig.functionCallingConfig)
      ? b.toolConfig.functionCallingConfig
      : {};
  let choice: MockToolChoice = 'auto';
  let named: string | null = null;
  if (cfg.mode === 'NONE') choice = 'none';
  else if (cfg.mode === 'ANY') {
    choice = 'forced';
    const allowed = cfg.allowedFunctionNames;
    if (Array.isArray(allowed) && typeof allowed[0] === 'string') named = allowed[0];
  }
  const contents = Array.isArray(b.contents) ? b.contents : [];
  const last: unknown = contents[contents.length - 1];
  const userText =
    isObject(last) &&
    (last.role === 'user' || last.role === undefined) &&
    Array.isArray(last.parts) &&
    !last.parts.some((p: unknown) => isObject(p) && p.functionResponse !== undefined);
  return mockToolDecision(tools, choice, named, userText);
}

export function geminiProblem(b: Json): string | null {
  if (!Array.isArray(b.contents) || b.contents.length === 0)
    return '* GenerateContentRequest.contents: contents is not specified';
  return null;
}

function usageMetadata(prompt: number, output: number | null, cached: number): Json {
  const u: Json = { promptTokenCount: prompt };
  if (output !== null) u.candidatesTokenCount = output;
  u.totalTokenCount = prompt + (output ?? 0);
  const read = Math.min(cached, prompt);
  if (read > 0) u.cachedContentTokenCount = read;
  u.promptTokensDetails = [{ modality: 'TEXT', tokenCount: prompt }];
  return u;
}

/** `:generateContent` and `:streamGenerateContent?alt=sse`. */
export function geminiGenerate(x: MockExchange): void {
  const { req, res, body: b, model, s } = x;
  const prompt = reportedPromptTokens(s, () => mockGeminiPromptTokens(b));
  const call = s.tool_calls ? geminiToolCall(b) : null;
  const responseId = x.nextId('resp');
  const candidate = (parts: Json[], finish: boolean): Json => {
    const c: Json = { content: { parts, role: 'model' } };
    if (finish) c.finishReason = 'STOP';
    c.index = 0;
    return c;
  };
  const answer = (candidates: Json[], usage: Json | null): string => {
    const r: Json = { candidates };
    if (usage !== null && !s.omit_usage) r.usageMetadata = usage;
    r.modelVersion = model;
    r.responseId = responseId;
    return JSON.stringify(r);
  };
  const callPart = (c: MockToolCall): Json => ({
    functionCall: { name: c.name, args: JSON.parse(c.arguments) as unknown },
  });
  if (!x.stream) {
    const output = call ? mockToolCallTokens(call.arguments) : s.words;
    const out = answer(
      [candidate(call ? [callPart(call)] : [{ text: mockAnswer(s.words) }], true)],
      usageMetadata(prompt, output, s.cached_tokens),
    );
    if (s.malformed_json) x.fault();
    return later(s.latency_ms, res, () => send(res, 200, s.malformed_json ? truncated(out) : out));
  }
  const contentType = 'text/event-stream';
  if (s.malformed_sse) {
    x.fault();
    return writeStream(req, res, garbledPlan(contentType), s, x.hooks);
  }
  // Gemini separates its events with CRLF pairs
  const ev = (json: string) => `data: ${json}\r\n\r\n`;
  const content: string[] = [];
  let tail: string;
  if (call) {
    content.push(ev(answer([candidate([callPart(call)], false)], usageMetadata(prompt, null, 0))));
    tail = ev(
      answer(
        [candidate([{ text: '' }], true)],
        usageMetadata(prompt, mockToolCallTokens(call.arguments), s.cached_tokens),
      ),
    );
  } else {
    const n = Math.max(1, s.chunks);
    for (let i = 0; i < n - 1; i++)
      content.push(
        ev(
          answer(
            [candidate([{ text: (i === 0 ? '' : ' ') + mockWord(i) }], false)],
            usageMetadata(prompt, null, 0),
          ),
        ),
      );
    // Gemini's last event carries the last text, the finish reason and the whole usage
    tail = ev(
      answer(
        [candidate([{ text: (n === 1 ? '' : ' ') + mockWord(n - 1) }], true)],
        usageMetadata(prompt, n, s.cached_tokens),
      ),
    );
  }
  writeStream(req, res, { head: '', content, tail, contentType }, s, x.hooks);
}
