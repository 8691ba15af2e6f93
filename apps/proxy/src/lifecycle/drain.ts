import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { ServerResponse, Server } from 'node:http';
import type { Socket } from 'node:net';
import { PROXY_CONFIG, type ProxyConfig } from '../config/proxy.config';

/** Something in flight that can be cut short when the drain period ends. */
export interface Interruptible {
  interrupt(): void;
}

/**
 * Graceful shutdown: once shutdown begins the proxy reports not-ready, keeps serving what is in
 * flight (streams included) while the HTTP server stops taking connections, closes connections as
 * they fall idle, and after `SHUTDOWN_DRAIN_TIMEOUT_MS` cuts whatever is still running.
 */
@Injectable()
export class DrainService
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly active = new Set<Interruptible>();
  /** every open client connection: Node's own idle tracking misses some that clients abandoned mid-response */
  private readonly sockets = new Set<Socket>();
  private draining = false;
  private deadline: NodeJS.Timeout | null = null;
  private idleSweep: NodeJS.Timeout | null = null;

  constructor(
    @Inject(PROXY_CONFIG) private readonly config: ProxyConfig,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  get isDraining(): boolean {
    return this.draining;
  }

  get inFlight(): number {
    return this.active.size;
  }

  track(x: Interruptible): void {
    this.active.add(x);
  }

  untrack(x: Interruptible): void {
    this.active.delete(x);
  }

  private server(): Server | undefined {
    return this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
  }

  onApplicationBootstrap(): void {
    this.server()?.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  beforeApplicationShutdown(): void {
    this.draining = true;
    // keep-alive connections whose last response finished would otherwise hold the close until they time out
    this.idleSweep = setInterval(() => this.closeIdle(), 100);
    this.deadline = setTimeout(() => {
      for (const x of [...this.active]) x.interrupt();
    }, this.config.SHUTDOWN_DRAIN_TIMEOUT_MS);
  }

  private closeIdle(): void {
    this.server()?.closeIdleConnections();
    if (this.active.size > 0) return;
    for (const socket of this.sockets) {
      const res = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
      if (!res || res.writableEnded) socket.destroy();
    }
  }

  onApplicationShutdown(): void {
    if (this.deadline) clearTimeout(this.deadline);
    if (this.idleSweep) clearInterval(this.idleSweep);
    this.deadline = null;
    this.idleSweep = null;
  }
}
