// The gulp build as a process (into temporary folders, never the dist/ DevTools runs): the server address it
// writes into the app for each environment, and the package size it reports. (A production build that takes
// its address from .env is in cli.test.ts, as part of the upload; the address rules are in units.test.ts.)
import fs from 'node:fs';
import path from 'node:path';
import { cleanEnv, GULP, run, tempDir } from './support';
import { lanAddress } from '../../scripts/wechat/server-url';

function builtServerUrl(dest: string): string {
  const config = fs.readFileSync(path.join(dest, 'config.js'), 'utf8');
  const match = /exports\.SERVER_URL = '([^']*)'/.exec(config);
  if (!match) throw new Error(`no SERVER_URL in ${dest}/config.js:\n${config}`);
  return match[1];
}

it("development: writes this machine's LAN address into dist/config.js and reports the package size", async () => {
  const dest = path.join(tempDir('build-dev'), 'dist');
  const result = await run(GULP, ['build', '--dest', dest], cleanEnv());
  expect(result.code).toBe(0);
  const expected = `http://${lanAddress()}:3000`;
  expect(builtServerUrl(dest)).toBe(expected);
  expect(result.stdout).toContain(`server address: ${expected} (development:`);
  expect(result.stdout).toMatch(/package size: main package \d+(\.\d+)? KB of 2 MB \(\d+%\), \d+ files/);
  expect(fs.existsSync(path.join(dest, 'miniprogram_npm'))).toBe(true);
}, 120_000);

it('production: refuses a missing or non-TLS SERVER_URL with one sentence, before touching the output', async () => {
  const dest = path.join(tempDir('build-prod'), 'dist');
  fs.mkdirSync(dest);
  fs.writeFileSync(path.join(dest, 'keep.txt'), 'still here');

  const plain = await run(
    GULP,
    ['build', '--production', '--dest', dest],
    cleanEnv({ SERVER_URL: 'http://chat.example.com' }),
  );
  expect(plain.code).toBe(1);
  expect(plain.stderr).toContain(
    'SERVER_URL "http://chat.example.com" (from the environment) is not a TLS address: a production build needs wss:// or https://',
  );
  expect(plain.stdout + plain.stderr).not.toMatch(/\n\s+at /);

  const none = await run(GULP, ['build', '--production', '--dest', dest], cleanEnv());
  expect(none.code).toBe(1);
  expect(none.stderr).toContain("A production build needs the chat server's public address: set SERVER_URL in .env");
  expect(fs.readFileSync(path.join(dest, 'keep.txt'), 'utf8')).toBe('still here');
}, 60_000);
