import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { JsonLogger } from '@tollgate/server-kit';
import { randomUUID } from 'node:crypto';
import type { ProxyConfig } from '../config/proxy.config';
import { V1Routes } from '../v1/v1-routes';
import { ProxyAppModule } from './proxy-app.module';

/**
 * Builds the proxy (not yet listening): Nest for wiring, health and lifecycle; the /v1 routes
 * directly on Fastify. Used by main.ts and by the tests.
 */
export async function createProxyApp(config: ProxyConfig): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: config.MAX_BODY_BYTES,
    // the request id is the usage event's job id: never taken from the client
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    logger: false,
    skipMiddie: true,
    keepAliveTimeout: 65_000,
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    ProxyAppModule.forRoot(config),
    adapter,
    {
      logger: new JsonLogger('proxy', config.LOG_LEVEL),
      abortOnError: false,
    },
  );
  const fastify = app.getHttpAdapter().getInstance();
  // /v1 handlers write their own headers; this covers everything Fastify or Nest answers
  fastify.addHook('onSend', (request, reply, payload, done) => {
    void reply.header('x-request-id', request.id);
    done(null, payload);
  });
  await fastify.register(app.get(V1Routes).plugin, { prefix: '/v1' });
  await app.init();
  return app;
}
