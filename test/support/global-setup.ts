import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Before any test: build the server and its console (app tests run it as a process, from the current sources)
 * and make one temporary folder for this run's data, removed again by global-teardown.ts.
 */
export default function globalSetup(): void {
  const root = path.resolve(__dirname, '../..');
  execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'server/tsconfig.json'], {
    cwd: root,
    stdio: 'inherit',
  });
  // The moderation console's bundle (served at /admin), as `npm run build:server` makes it.
  execFileSync(process.execPath, [path.join(root, 'scripts/build-admin.js')], { cwd: root, stdio: 'inherit' });
  // Test workers start after this and inherit the variable.
  process.env.CHAT_TEST_TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-tests-'));
}
