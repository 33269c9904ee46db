import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');
export const GULP = path.join(ROOT, 'node_modules/gulp/bin/gulp.js');

/** A fresh folder inside this test run's folder (removed after the run). */
export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(process.env.CHAT_TEST_TMP ?? os.tmpdir(), `${prefix}-`));
}

/** A throwaway RSA key in the format WeChat's console issues (PKCS#1 PEM). Never a real key. */
export function throwawayKey(): string {
  return crypto.generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  }).privateKey;
}

/**
 * The environment for a script under test: this process's, without anything that would make the result
 * depend on the developer's machine (their app id, key, server address, proxy, npm's options), and with an
 * empty config folder instead of the repository root (so a real .env or key there is never read).
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(WX_|SERVER_URL$|PORT$|npm_config_|NODE_EXTRA_CA_CERTS$)/.test(name)) continue;
    if (/^(https?|all|no)_proxy$/i.test(name)) continue;
    env[name] = value;
  }
  return { ...env, WX_CONFIG_DIR: tempDir('config'), ...extra };
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node <file> ...args` in the repository and collects its output. A run that outlives `timeoutMs` is
 * killed (with everything it started: it runs in a process group of its own) and fails the test.
 */
export function run(file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 90_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file, ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
      reject(
        new Error(`${path.basename(file)} ${args.join(' ')} did not finish in ${timeoutMs} ms:\n${stdout}${stderr}`),
      );
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The failure every script promises: exit 1, and one sentence on stderr (no stack trace). */
export function expectOneSentence(result: Run, prefix: string, pattern: RegExp): string {
  const message = result.stderr.trim();
  expect({ code: result.code, message }).toEqual({ code: 1, message: expect.stringMatching(pattern) });
  expect(message.split('\n')).toHaveLength(1);
  expect(message.startsWith(`${prefix}: `)).toBe(true);
  expect(message).not.toMatch(/\n\s+at |Error:/);
  expect(message).toMatch(/\.$/);
  return message;
}

/**
 * A QR code image as WeChat's preview answer carries it (a JPEG), made with the packages miniprogram-ci itself
 * depends on (qrcode-terminal's encoder, jimp).
 */
export async function qrCodeJpeg(text: string): Promise<Buffer> {
  const ciRequire = createRequire(createRequire(__filename).resolve('miniprogram-ci'));
  /* eslint-disable @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access -- untyped CommonJS packages */
  const QRCode = ciRequire('qrcode-terminal/vendor/QRCode');
  const level = ciRequire('qrcode-terminal/vendor/QRCode/QRErrorCorrectLevel');
  const Jimp = ciRequire('jimp');
  const qr = new QRCode(-1, level.L);
  qr.addData(text);
  qr.make();
  const modules: number = qr.getModuleCount();
  const scale = 6;
  const image = new Jimp((modules + 8) * scale, (modules + 8) * scale, 0xffffffff);
  for (let y = 0; y < modules; y++) {
    for (let x = 0; x < modules; x++) {
      if (!qr.isDark(y, x)) continue;
      image.scan((x + 4) * scale, (y + 4) * scale, scale, scale, (_x: number, _y: number, i: number) => {
        image.bitmap.data.writeUInt32BE(0x000000ff, i);
      });
    }
  }
  return (await image.getBufferAsync(Jimp.MIME_JPEG)) as Buffer;
  /* eslint-enable @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access */
}
