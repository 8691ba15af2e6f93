import type { IncomingMessage, ServerResponse } from 'node:http';

export type Json = Record<string, unknown>;

export const MAX_BODY = 16 * 1024 * 1024;

export const now = (): number => Math.floor(Date.now() / 1000);

export const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Runs `fn` after `ms` unless the response closed first. */
export function later(ms: number, res: ServerResponse, fn: () => void): void {
  if (ms <= 0) return fn();
  const t = setTimeout(() => {
    if (!res.destroyed) fn();
  }, ms);
  res.once('close', () => clearTimeout(t));
}

export function send(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
  type = 'application/json',
): void {
  if (res.headersSent || res.destroyed) return;
  const buf = Buffer.from(body);
  res.writeHead(status, { 'content-type': type, 'content-length': String(buf.length), ...headers });
  res.end(buf);
}

export function drain(req: IncomingMessage, then: () => void): void {
  req.resume();
  if (req.readableEnded) then();
  else req.once('end', then);
}

/**
 * Reads a JSON body (at most MAX_BODY bytes). `problem(status, message)` renders an error in the
 * caller's surface format for a body too large (413) or not JSON (400).
 */
export function readJson(
  req: IncomingMessage,
  res: ServerResponse,
  problem: (status: number, message: string) => string,
  then: (body: unknown) => void,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size > MAX_BODY) {
      send(res, 413, problem(413, 'Request body too large.'));
      req.destroy();
      return;
    }
    chunks.push(c);
  });
  req.once('end', () => {
    if (size > MAX_BODY) return;
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks, size).toString('utf8'));
    } catch (e) {
      return send(
        res,
        400,
        problem(400, `We could not parse the JSON body of your request: ${(e as Error).message}`),
      );
    }
    then(body);
  });
}
