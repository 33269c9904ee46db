/**
 * Row 11: idle and slow connections. 200 TCP connections that send nothing (the issue: 4,000) and
 * one upload that sends a byte every 2 s, held open for at most `--idle-wait` seconds (default:
 * the default HTTP_IDLE_TIMEOUT_MS, 30 s, plus 15). Held when the server has closed every idle
 * connection and cut the upload (`408 too_slow`, or the connection closed; UPLOAD_MIN_BYTES_PER_S
 * judges it after its first 10 s) by then. It waits on the server's own timeout, longer than all
 * the other rows together, so it runs only with `--slow` (or `--idle-wait`).
 */
import type net from 'node:net';
import { login } from '../kit/accounts';
import { during } from '../kit/chat';
import { connectRaw } from '../kit/http';
import { Findings, Skip } from '../kit/outcome';
import { delay, inParallel } from '../kit/pool';
import type { AttackRow } from '../kit/row';
import type { Scope } from '../kit/scope';
import type { Target } from '../kit/target';

const IDLE = 200;
const BYTE_EVERY_MS = 2000;
const DECLARED_BYTES = 100_000;

/** A connection the row watches: when the server closed it, and what it answered first. */
interface Watched {
  socket: net.Socket;
  closedAfterMs?: number;
  firstLine?: string;
}

function watch(scope: Scope, target: Target, started: number): Promise<Watched> {
  const socket = scope.track(connectRaw(target));
  const watched: Watched = { socket };
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(watched));
    socket.once('secureConnect', () => resolve(watched));
    socket.once('error', reject);
    socket.on('data', (chunk: Buffer) => {
      watched.firstLine ??= chunk.toString('latin1').split('\r\n')[0];
    });
    socket.on('close', () => {
      watched.closedAfterMs ??= Date.now() - started;
    });
  }).then(() => {
    // Errors after the connect show up as its close.
    socket.on('error', () => {});
    return watched;
  });
}

export const row: AttackRow = {
  row: 11,
  name: 'idle connections, slow upload',
  budgetMs: (options) => options.idleWaitS * 1000 + 60_000,
  async run({ target, scope, options }) {
    if (!options.slow) {
      throw new Skip(`waits the server's idle timeout (${options.idleWaitS} s): run with --slow or --idle-wait <s>`);
    }
    const account = await login(target);
    const started = Date.now();
    const idle = await inParallel(IDLE, 50, () => watch(scope, target, started));
    const upload = await watch(scope, target, started);
    const boundary = '----attack-replay';
    upload.socket.write(
      `POST /api/upload HTTP/1.1\r\nHost: ${target.host}:${target.port}\r\n` +
        `Authorization: Bearer ${account.token}\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\n` +
        `Content-Length: ${DECLARED_BYTES}\r\n\r\n--${boundary}\r\n` +
        'Content-Disposition: form-data; name="file"; filename="slow.png"\r\nContent-Type: image/png\r\n\r\n',
    );
    const trickle = setInterval(() => {
      if (!upload.socket.destroyed && upload.closedAfterMs === undefined) upload.socket.write('x');
    }, BYTE_EVERY_MS);
    const deadline = started + options.idleWaitS * 1000;
    const { chat } = await during(
      target,
      async () => {
        // Done early once everything is closed; otherwise at the deadline.
        while (Date.now() < deadline) {
          const open = idle.filter((one) => one.closedAfterMs === undefined).length;
          if (open === 0 && upload.closedAfterMs !== undefined) return;
          await delay(500);
        }
      },
      { afterMs: 1000 },
    );
    clearInterval(trickle);
    const findings = new Findings();
    const closed = idle.filter((one) => one.closedAfterMs !== undefined);
    const latest = Math.max(0, ...closed.map((one) => one.closedAfterMs ?? 0));
    findings.check(
      closed.length === IDLE,
      `${closed.length}/${IDLE} idle connections closed within ${options.idleWaitS} s` +
        (closed.length > 0 ? ` (last after ${(latest / 1000).toFixed(1)} s)` : ''),
    );
    const cut = upload.closedAfterMs !== undefined || upload.firstLine !== undefined;
    const after = upload.closedAfterMs ?? Date.now() - started;
    findings.check(
      cut,
      cut
        ? `the slow upload was cut after ${(after / 1000).toFixed(1)} s${upload.firstLine ? ` (${upload.firstLine})` : ''}`
        : `the slow upload (a byte every ${BYTE_EVERY_MS / 1000} s) still open after ${options.idleWaitS} s`,
    );
    findings.check(chat.ok, chat.note);
    return findings.outcome();
  },
};
