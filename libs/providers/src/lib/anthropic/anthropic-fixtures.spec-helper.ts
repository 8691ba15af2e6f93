/**
 * Recorded-shape fixtures of api.anthropic.com (Messages API, anthropic-version 2023-06-01):
 * bodies and event streams in the form the API sends them (field order, `ping`, the usage in
 * `message_start` and the cumulative `output_tokens` in `message_delta`). Ids and text made up.
 */

export const MESSAGE_JSON =
  '{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",' +
  '"content":[{"type":"text","text":"Hello! How can I help you today? 😀"}],"stop_reason":"end_turn","stop_sequence":null,' +
  '"usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":2048,' +
  '"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},"output_tokens":14,"service_tier":"standard"}}';

export const TOOL_USE_MESSAGE_JSON =
  '{"id":"msg_01Aq9w938a90dw8q","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",' +
  '"content":[{"type":"text","text":"I\'ll check the weather."},{"type":"tool_use","id":"toolu_01A09q90qw90lq917835lq9",' +
  '"name":"get_weather","input":{"location":"San Francisco, CA","unit":"celsius"}}],"stop_reason":"tool_use","stop_sequence":null,' +
  '"usage":{"input_tokens":472,"cache_creation_input_tokens":100,"cache_read_input_tokens":0,"output_tokens":89}}';

export const JSON_TOOL_MESSAGE_JSON =
  '{"id":"msg_01J","type":"message","role":"assistant","model":"claude-haiku-4-5","content":[{"type":"tool_use",' +
  '"id":"toolu_01J","name":"tollgate_json_response","input":{"answer":42}}],"stop_reason":"tool_use","stop_sequence":null,' +
  '"usage":{"input_tokens":30,"output_tokens":12}}';

const ev = (type: string, data: string) => `event: ${type}\ndata: ${data}\n\n`;

export const TEXT_STREAM =
  ev(
    'message_start',
    '{"type":"message_start","message":{"id":"msg_01Stream","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",' +
      '"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"cache_creation_input_tokens":0,' +
      '"cache_read_input_tokens":100,"output_tokens":1,"service_tier":"standard"}}}',
  ) +
  ev(
    'content_block_start',
    '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}',
  ) +
  ev('ping', '{"type": "ping"}') +
  ev(
    'content_block_delta',
    '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}',
  ) +
  ev(
    'content_block_delta',
    '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":", wörld! ☕"}}',
  ) +
  ev('content_block_stop', '{"type":"content_block_stop","index":0}') +
  ev(
    'message_delta',
    '{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}',
  ) +
  ev('message_stop', '{"type":"message_stop"}');

export const TOOL_STREAM =
  ev(
    'message_start',
    '{"type":"message_start","message":{"id":"msg_014p7gG3wDgGV9EUtLvnow3U","type":"message","role":"assistant",' +
      '"model":"claude-sonnet-4-5-20250929","stop_sequence":null,"usage":{"input_tokens":472,"output_tokens":2},' +
      '"content":[],"stop_reason":null}}',
  ) +
  ev(
    'content_block_start',
    '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}',
  ) +
  ev('ping', '{"type": "ping"}') +
  ev(
    'content_block_delta',
    '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Okay, let me check."}}',
  ) +
  ev('content_block_stop', '{"type":"content_block_stop","index":0}') +
  ev(
    'content_block_start',
    '{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","name":"get_weather","input":{}}}',
  ) +
  ev(
    'content_block_delta',
    '{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}',
  ) +
  ev(
    'content_block_delta',
    '{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\\"location\\": \\"San Fra"}}',
  ) +
  ev(
    'content_block_delta',
    '{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"ncisco, CA\\"}"}}',
  ) +
  ev('content_block_stop', '{"type":"content_block_stop","index":1}') +
  ev(
    'content_block_start',
    '{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_02","name":"get_time","input":{}}}',
  ) +
  ev(
    'content_block_delta',
    '{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\\"tz\\":\\"PST\\"}"}}',
  ) +
  ev('content_block_stop', '{"type":"content_block_stop","index":2}') +
  ev(
    'message_delta',
    '{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}}',
  ) +
  ev('message_stop', '{"type":"message_stop"}');

export const OVERLOADED_STREAM =
  ev(
    'message_start',
    '{"type":"message_start","message":{"id":"msg_01O","type":"message","role":"assistant","model":"claude-sonnet-4-5",' +
      '"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":1}}}',
  ) + ev('error', '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}');

export const errorJson = (type: string, message: string) =>
  `{"type":"error","error":{"type":"${type}","message":"${message}"},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}`;
