import { Logger } from '@nestjs/common';
import { ConfigValidationError, listenAndDescribe } from '@tollgate/server-kit';
import { createProxyApp } from './app/create-proxy-app';
import { describeProxyConfig, loadProxyConfig, type ProxyConfig } from './config/proxy.config';

async function bootstrap(): Promise<void> {
  let config: ProxyConfig;
  try {
    config = loadProxyConfig();
  } catch (e) {
    process.stderr.write(`${e instanceof ConfigValidationError ? e.message : String(e)}\n`);
    process.exit(1);
  }
  const app = await createProxyApp(config);
  app.enableShutdownHooks();
  const url = await listenAndDescribe(app, config.PORT, config.HOST);
  new Logger('Proxy').log({
    msg: `proxy listening on ${url}`,
    config: describeProxyConfig(config),
  });
}

bootstrap().catch((e: unknown) => {
  process.stderr.write(
    `${JSON.stringify({ level: 'fatal', service: 'proxy', msg: e instanceof Error ? e.stack : String(e) })}\n`,
  );
  process.exit(1);
});
