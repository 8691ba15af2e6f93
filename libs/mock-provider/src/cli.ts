#!/usr/bin/env node
// The mock provider as a process, for the local stack, the benchmark and by-hand tests:
//   node dist/libs/mock-provider/libs/mock-provider/src/cli.js
// Environment (the only place the mock reads it): MOCK_PORT (18000), MOCK_HOST (127.0.0.1),
// MOCK_API_KEY (any bearer token when unset), MOCK_MODELS (comma-separated), and defaults for the
// settings: MOCK_LATENCY_MS, MOCK_STREAM_CHUNKS, MOCK_CHUNK_DELAY_MS, MOCK_CONTENT_WORDS,
// MOCK_EMBED_DIM, MOCK_FAIL_STATUS.
import { startMockProvider } from './lib/mock-provider';
import { pickSettings } from './lib/settings';

const env = process.env;

async function main(): Promise<void> {
  const mock = await startMockProvider({
    port: env.MOCK_PORT ? Number(env.MOCK_PORT) : 18000,
    host: env.MOCK_HOST || '127.0.0.1',
    apiKey: env.MOCK_API_KEY || undefined,
    models: env.MOCK_MODELS
      ? env.MOCK_MODELS.split(',')
          .map((m) => m.trim())
          .filter(Boolean)
      : undefined,
    defaults: pickSettings({
      latency_ms: env.MOCK_LATENCY_MS,
      chunks: env.MOCK_STREAM_CHUNKS,
      chunk_delay_ms: env.MOCK_CHUNK_DELAY_MS,
      words: env.MOCK_CONTENT_WORDS,
      embed_dim: env.MOCK_EMBED_DIM,
      fail_status: env.MOCK_FAIL_STATUS,
    }),
  });
  process.stdout.write(
    `${JSON.stringify({ t: new Date().toISOString(), level: 'log', service: 'mock-provider', msg: `listening on ${mock.url}` })}\n`,
  );
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(0), 2000);
    force.unref();
    void mock.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e: unknown) => {
  process.stderr.write(
    `${JSON.stringify({ level: 'error', service: 'mock-provider', msg: String(e) })}\n`,
  );
  process.exit(1);
});
