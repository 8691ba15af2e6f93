// Container health probe used by the images' HEALTHCHECK and by docker-compose: GET /health/live on
// this container's own port (HEALTH_PORT for the billing worker, else PORT, else MOCK_PORT), 2 s budget.
// Exit 0 when the answer is 2xx (redirects not followed), 1 otherwise. Plain CommonJS, so it runs in any
// image without a build.
'use strict';

const port = process.env.HEALTH_PORT || process.env.PORT || process.env.MOCK_PORT;
const path = process.argv[2] || process.env.HEALTH_PATH || '/health/live';

if (!port) {
  console.error('healthcheck: no HEALTH_PORT, PORT or MOCK_PORT in the environment');
  process.exit(1);
}

// A redirect is not health (the portal sends unknown paths to its login page): only a direct 2xx counts.
fetch(`http://127.0.0.1:${port}${path}`, { redirect: 'manual', signal: AbortSignal.timeout(2000) })
  .then(async (res) => {
    await res.arrayBuffer();
    process.exit(res.ok ? 0 : 1);
  })
  .catch((err) => {
    console.error(`healthcheck: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
