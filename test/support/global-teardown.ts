import fs from 'node:fs';

/** Removes the run's temporary data folder made by global-setup.ts. */
export default function globalTeardown(): void {
  const dir = process.env.CHAT_TEST_TMP;
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}
