import type { INestApplication } from '@nestjs/common';
import type { AddressInfo } from 'node:net';

/** Listens on HOST:PORT (port 0 picks a free one) and returns the base URL actually bound. */
export async function listenAndDescribe(app: INestApplication, port: number, host: string): Promise<string> {
  await app.listen(port, host);
  const server = app.getHttpServer() as { address(): AddressInfo | string | null };
  const addr = server.address();
  const actualPort = typeof addr === 'object' && addr ? addr.port : port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return `http://${shownHost}:${actualPort}`;
}
