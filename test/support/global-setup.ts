import { execFileSync } from 'node:child_process';
import path from 'node:path';

/** App tests run the real server as a process: build it first, from the current sources. */
export default function globalSetup(): void {
  const root = path.resolve(__dirname, '../..');
  execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'server/tsconfig.json'], {
    cwd: root,
    stdio: 'inherit',
  });
}
