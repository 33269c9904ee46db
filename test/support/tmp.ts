import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A fresh folder for one server's data, inside this test run's folder (removed after the run). */
export function tempDataDir(): string {
  const parent = process.env.CHAT_TEST_TMP ?? os.tmpdir();
  return fs.mkdtempSync(path.join(parent, 'data-'));
}
