/**
 * Recorded-shape fixtures of generativelanguage.googleapis.com (v1beta): `generateContent` JSON
 * and `streamGenerateContent?alt=sse` events, CRLF-separated as the API sends them; every event
 * a whole GenerateContentResponse with cumulative `usageMetadata`, no end marker.
 */

export const GENERATE_JSON = `{
  "candidates": [
    {
      "content": {
        "parts": [
          {
            "text": "Hello! How can I help you today? 😀"
          }
        ],
        "role": "model"
      },
      "finishReason": "STOP",
      "avgLogprobs": -0.0412
    }
  ],
  "usageMetadata": {
    "promptTokenCount": 1030,
    "candidatesTokenCount": 11,
    "totalTokenCount": 1061,
    "cachedContentTokenCount": 1024,
    "thoughtsTokenCount": 20,
    "promptTokensDetails": [
      {
        "modality": "TEXT",
        "tokenCount": 1030
      }
    ]
  },
  "modelVersion": "gemini-2.5-flash",
  "responseId": "mAitaLmkHPPlz7IPvtfUqQ4"
}
`;

export const FUNCTION_CALL_JSON =
  '{"candidates":[{"content":{"parts":[{"functionCall":{"name":"get_weather","args":{"location":"Paris","unit":"celsius"}}},' +
  '{"functionCall":{"name":"get_time","args":{"tz":"CET"}}}],"role":"model"},"finishReason":"STOP","index":0}],' +
  '"usageMetadata":{"promptTokenCount":70,"candidatesTokenCount":24,"totalTokenCount":94},"modelVersion":"gemini-2.0-flash","responseId":"fc1"}';

export const BLOCKED_JSON =
  '{"promptFeedback":{"blockReason":"SAFETY","safetyRatings":[]},"usageMetadata":{"promptTokenCount":9,"totalTokenCount":9},"modelVersion":"gemini-2.0-flash"}';

const ev = (data: string) => `data: ${data}\r\n\r\n`;

export const TEXT_STREAM =
  ev(
    '{"candidates": [{"content": {"parts": [{"text": "Hello"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 8,"candidatesTokenCount": 1,"totalTokenCount": 9},"modelVersion": "gemini-2.0-flash","responseId": "resp1"}',
  ) +
  ev(
    '{"candidates": [{"content": {"parts": [{"text": ", wörld! ☕ and"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 8,"candidatesTokenCount": 6,"totalTokenCount": 14},"modelVersion": "gemini-2.0-flash","responseId": "resp1"}',
  ) +
  ev(
    '{"candidates": [{"content": {"parts": [{"text": " more."}],"role": "model"},"finishReason": "STOP","index": 0}],"usageMetadata": {"promptTokenCount": 8,"candidatesTokenCount": 8,"totalTokenCount": 16,"cachedContentTokenCount": 4,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 8}]},"modelVersion": "gemini-2.0-flash","responseId": "resp1"}',
  );

export const TOOL_STREAM = ev(
  '{"candidates": [{"content": {"parts": [{"functionCall": {"name": "get_weather","args": {"location": "Paris"}}}],"role": "model"},"finishReason": "STOP","index": 0}],"usageMetadata": {"promptTokenCount": 70,"candidatesTokenCount": 5,"totalTokenCount": 75},"modelVersion": "gemini-2.0-flash","responseId": "resp2"}',
);

export const MAX_TOKENS_STREAM = ev(
  '{"candidates": [{"content": {"parts": [{"text": "cut"}],"role": "model"},"finishReason": "MAX_TOKENS","index": 0}],"usageMetadata": {"promptTokenCount": 3,"candidatesTokenCount": 1,"totalTokenCount": 4},"modelVersion": "gemini-2.0-flash"}',
);

export const errorJson = (code: number, status: string, message: string) =>
  `{\n  "error": {\n    "code": ${code},\n    "message": "${message}",\n    "status": "${status}"\n  }\n}\n`;

export const API_KEY_INVALID_JSON =
  '{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT",' +
  '"details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com",' +
  '"metadata":{"service":"generativelanguage.googleapis.com"}}]}}';
