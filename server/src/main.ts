import os from 'node:os';
import { startServer } from './app';
import { loadConfig } from './config';

/** Addresses a phone on the same network can use to reach this machine. */
function lanAddresses(): string[] {
  return Object.values(os.networkInterfaces())
    .flat()
    .filter((info) => info && info.family === 'IPv4' && !info.internal)
    .map((info) => (info as os.NetworkInterfaceInfo).address);
}

async function main(): Promise<void> {
  const config = loadConfig();
  const server = await startServer(config);
  const { log, port } = server;
  log.info({ port, dataDir: config.dataDir }, 'chat server listening');
  if (config.wechat) log.info(`WeChat login for app ${config.wechat.appId} (code2session at ${config.wechat.apiBase})`);
  else log.info('login is in development mode: a device id names the user (no WeChat secret is configured)');
  const hosts = ['127.0.0.1', ...lanAddresses()];
  for (const host of hosts) log.info(`  http://${host}:${port}   ws://${host}:${port}/ws`);
  log.info('open this folder in WeChat DevTools (Import project → the repository root); it runs dist/');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(`The chat server could not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
