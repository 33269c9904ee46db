import { spawn, type ChildProcess } from 'node:child_process';
import { TEST_SERVER_ENV } from './server-settings';
import path from 'node:path';
import { inspectorUrl } from './inspector';
import { tempDataDir } from './tmp';

const MAIN = path.resolve(__dirname, '../../server/dist/server/src/main.js');

export interface ServerProcess {
  url: string;
  port: number;
  dataDir: string;
  child: ChildProcess;
  /** The server's log lines at warn level or above (JSON, as pino writes them), as they come. */
  warnings: string[];
  /** Its inspector's address, when started with `INSPECT_ARG` (test/support/inspector.ts). */
  inspectorUrl(): string | undefined;
  /** SIGTERM, and wait for the exit. */
  stop(): Promise<void>;
  /** SIGKILL, and wait for the exit: a crash. */
  kill(): Promise<void>;
}

/**
 * The real server as its own process (built by jest's global setup) on a free port over a
 * fresh SQLite folder, or over `dataDir` to restart on the same data.
 */
export function startServerProcess(
  options: { dataDir?: string; port?: number; env?: Record<string, string>; nodeArgs?: string[] } = {},
): Promise<ServerProcess> {
  const dataDir = options.dataDir ?? tempDataDir();
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), MAIN], {
    env: {
      ...process.env,
      // SQLite unless a test asks for the run's PostgreSQL and Redis (server/test/cluster.test.ts).
      DATABASE_URL: '',
      REDIS_URL: '',
      PORT: String(options.port ?? 0),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      ...TEST_SERVER_ENV,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));

  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`the server did not start:\n${stderr}`)), 15_000);
    const early = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`the server exited with ${code} before listening:\n${stderr}`));
    };
    child.once('exit', early);
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const match = /"port":(\d+)[^\n]*"msg":"chat server listening"/.exec(buffered);
      if (!match) return;
      clearTimeout(timer);
      child.off('exit', early);
      child.stdout?.removeAllListeners('data');
      const warnings: string[] = [];
      let partial = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        const lines = (partial + chunk.toString()).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) if (/"level":(40|50|60)/.test(line)) warnings.push(line);
      });
      const port = Number(match[1]);
      resolve({
        url: `http://127.0.0.1:${port}`,
        port,
        dataDir,
        child,
        warnings,
        inspectorUrl: () => inspectorUrl(stderr),
        async stop() {
          if (child.exitCode === null) child.kill('SIGTERM');
          await exited;
        },
        async kill() {
          if (child.exitCode === null) child.kill('SIGKILL');
          await exited;
        },
      });
    });
  });
}
