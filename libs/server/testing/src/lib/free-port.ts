import { createServer } from 'node:net';

/**
 * A loopback port that nothing listens on right now (the OS picks it, we release it): for a server
 * a test starts next, or for a client that must find nothing there.
 */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
