/**
 * Issue 14: a user with 10,000 conversations, the last message of each the largest text allowed
 * (4,000 UTF-16 units, '满': 12,000 bytes of UTF-8), syncs in a few seconds. Against a baseline in
 * the same run: the same user's sync with 100 such conversations.
 *
 * The data is written before our server starts, with the server's own compiled `SqliteStore`
 * (server/dist) through its public `userFor` and `appendMessage`, into the data folder the server
 * is then started on: the rows are exactly those the server would have stored (the load generator
 * sending 10,000 messages over 10,000 logins would only take longer). Both servers then run side by
 * side with the benchmark's relaxed limits (bench/lib/proc.ts `OUR_ENV`), and each round measures
 * the two, one after the other (their order alternating), on a fresh socket:
 *
 * - **sync**: from sending `{type:"sync", cursors:{}}` to receiving `synced` — the first page of
 *   the list and the replay of its conversations' messages (a client that holds nothing);
 * - **the rest of the list**: `{type:"sessions", after: <last conv>}`, page after page, until
 *   `more: false`;
 * - the bytes received in each (the frames' payloads).
 *
 * Run by bench/run.ts in its own process; prints its result as JSON on stdout.
 */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { directConversationId } from '../../contract/conversations';
import type { ServerFrame } from '../../contract/frames';
import { LIMITS } from '../../contract/limits';
import type { NewMessage } from '../../server/src/store/types';
import { OUR_MAIN, OUT, startServer, type ServerProcess } from '../lib/proc';

export interface SyncSample {
  /** Round (1…); in each round both cases are measured, back to back. */
  round: number;
  /** Opening the fresh socket (upgrade), ms: not part of the sync. */
  connectMs: number;
  /** From sending `sync` to receiving `synced`, ms. */
  syncMs: number;
  /** Payload bytes received between the two: the first page of the list and the replayed messages. */
  syncBytes: number;
  replayedMessages: number;
  firstPageEntries: number;
  /** `sessions {after}` requests until `more: false`, one after another. */
  pages: number;
  pagesMs: number;
  pagesBytes: number;
  /** Entries over all pages, the first included: every conversation of the user. */
  entries: number;
}

export interface SyncCase {
  conversations: number;
  /** Writing the users and messages into the store before the server started, s. */
  setupSeconds: number;
  /** The data folder after the setup (database and WAL). */
  storeBytes: number;
  samples: SyncSample[];
}

export interface BigSyncResult {
  /** UTF-16 units and UTF-8 bytes of each last message. */
  bodyUnits: number;
  bodyBytes: number;
  rounds: number;
  /** The baseline (100 conversations) first, then the user with 10,000. */
  cases: SyncCase[];
}

const QUICK = process.env.BENCH_QUICK === '1';
const BASELINE = 100;
const BIG = QUICK ? 1000 : 10_000;
const ROUNDS = QUICK ? 2 : 5;
const BODY = '满'.repeat(LIMITS.maxTextLength);
const BATCH = 500;

interface SqliteStoreLike {
  userFor(identity: { provider: 'dev'; externalId: string }, defaults: { nickname: string }): Promise<{ id: string }>;
  appendMessage(message: NewMessage): Promise<unknown>;
  close(): Promise<void>;
}

function folderBytes(dir: string): number {
  return fs.readdirSync(dir).reduce((sum, name) => sum + fs.statSync(path.join(dir, name)).size, 0);
}

/** A data folder with a user and `count` peers, each of whom sent the user one largest text. */
async function prepare(count: number): Promise<{ dir: string; devId: string; setupSeconds: number }> {
  const started = performance.now();
  const dir = path.join(OUT, 'data', `sync-${process.pid}-${count}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { SqliteStore } = require(path.join(path.dirname(OUR_MAIN), 'store/sqlite.js')) as {
    SqliteStore: new (file: string) => SqliteStoreLike;
  };
  const store = new SqliteStore(path.join(dir, 'chat.db'));
  const devId = `bench-sync-${count}`;
  try {
    const user = await store.userFor({ provider: 'dev', externalId: devId }, { nickname: '我' });
    const t0 = Date.now() - count;
    for (let start = 0; start < count; start += BATCH) {
      const sends: Promise<unknown>[] = [];
      for (let i = start; i < Math.min(count, start + BATCH); i++) {
        const peer = await store.userFor(
          { provider: 'dev', externalId: `${devId}-peer-${i}` },
          { nickname: `对方${i}` },
        );
        sends.push(
          store.appendMessage({
            conv: directConversationId(peer.id, user.id),
            members: [peer.id, user.id].sort(),
            from: peer.id,
            cid: `sync-${i}`,
            kind: 'text',
            body: BODY,
            ts: t0 + i,
          }),
        );
      }
      // One batch at once: the store commits the sends of one turn in one transaction, as the server does.
      await Promise.all(sends);
    }
  } finally {
    await store.close();
  }
  return { dir, devId, setupSeconds: (performance.now() - started) / 1000 };
}

async function login(port: number, devId: string): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code: 'bench', devId }),
  });
  if (!response.ok) throw new Error(`login failed: ${response.status}`);
  return ((await response.json()) as { token: string }).token;
}

/** A fresh socket: its frames (with their payload sizes) go to whoever waits for them. */
async function open(port: number, token: string) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { authorization: `Bearer ${token}` } });
  let bytes = 0;
  let waiter: ((frame: ServerFrame) => boolean) | undefined;
  let failure: ((error: Error) => void) | undefined;
  ws.on('message', (data: Buffer) => {
    bytes += data.length;
    const frame = JSON.parse(data.toString()) as ServerFrame;
    if (frame.type === 'error') failure?.(new Error(`the server answered an error: ${data.toString()}`));
    else waiter?.(frame);
  });
  ws.on('close', (code) => failure?.(new Error(`the socket closed (${code})`)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    ws,
    bytes: () => bytes,
    /** Sends `frame`, then hands each frame to `each` until it answers true. */
    request(frame: object, each: (frame: ServerFrame) => boolean): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no answer to ${JSON.stringify(frame)} in 60 s`)), 60_000);
        failure = (error) => {
          clearTimeout(timer);
          reject(error);
        };
        waiter = (answer) => {
          if (!each(answer)) return false;
          clearTimeout(timer);
          waiter = failure = undefined;
          resolve();
          return true;
        };
        ws.send(JSON.stringify(frame));
      });
    },
  };
}

async function measure(server: ServerProcess, token: string, round: number, expected: number): Promise<SyncSample> {
  const connectStarted = performance.now();
  const socket = await open(server.port, token);
  const connectMs = performance.now() - connectStarted;
  try {
    let replayedMessages = 0;
    const entries: string[] = [];
    let more = false;
    const syncFrom = socket.bytes();
    const syncStarted = performance.now();
    await socket.request({ type: 'sync', cursors: {} }, (frame) => {
      if (frame.type === 'message') replayedMessages++;
      if (frame.type === 'sessions' && frame.after === undefined) {
        entries.push(...frame.sessions.map((entry) => entry.conv));
        more = frame.more;
      }
      return frame.type === 'synced';
    });
    const syncMs = performance.now() - syncStarted;
    const syncBytes = socket.bytes() - syncFrom;
    const firstPageEntries = entries.length;

    let pages = 0;
    const pagesFrom = socket.bytes();
    const pagesStarted = performance.now();
    while (more) {
      const after = entries[entries.length - 1];
      await socket.request({ type: 'sessions', after }, (frame) => {
        if (frame.type !== 'sessions' || frame.after !== after) return false;
        entries.push(...frame.sessions.map((entry) => entry.conv));
        more = frame.more;
        return true;
      });
      pages++;
    }
    const pagesMs = performance.now() - pagesStarted;
    if (entries.length !== expected || new Set(entries).size !== expected) {
      throw new Error(`the list had ${entries.length} entries (${new Set(entries).size} distinct), not ${expected}`);
    }
    return {
      round,
      connectMs,
      syncMs,
      syncBytes,
      replayedMessages,
      firstPageEntries,
      pages,
      pagesMs,
      pagesBytes: socket.bytes() - pagesFrom,
      entries: entries.length,
    };
  } finally {
    socket.ws.terminate();
  }
}

async function main(): Promise<void> {
  const prepared = [];
  for (const count of [BASELINE, BIG]) {
    const data = await prepare(count);
    console.error(`[big-sync] ${count} conversations written in ${data.setupSeconds.toFixed(1)} s`);
    prepared.push({ count, ...data });
  }
  const servers: ServerProcess[] = [];
  try {
    const cases: Array<SyncCase & { server: ServerProcess; token: string }> = [];
    for (const data of prepared) {
      const storeBytes = folderBytes(data.dir);
      const server = await startServer('ours', { dataDir: data.dir });
      servers.push(server);
      const token = await login(server.port, data.devId);
      cases.push({
        conversations: data.count,
        setupSeconds: data.setupSeconds,
        storeBytes,
        samples: [],
        server,
        token,
      });
    }
    for (let round = 1; round <= ROUNDS; round++) {
      // A different order each round: neither case always goes first.
      const order = round % 2 ? cases : [...cases].reverse();
      for (const c of order) {
        const sample = await measure(c.server, c.token, round, c.conversations);
        c.samples.push(sample);
        console.error(
          `[big-sync] round ${round}, ${c.conversations} conversations: sync ${sample.syncMs.toFixed(0)} ms ` +
            `(${(sample.syncBytes / 2 ** 20).toFixed(2)} MiB), the rest of the list ${sample.pagesMs.toFixed(0)} ms ` +
            `(${sample.pages} pages, ${(sample.pagesBytes / 2 ** 20).toFixed(2)} MiB)`,
        );
      }
    }
    const result: BigSyncResult = {
      bodyUnits: BODY.length,
      bodyBytes: Buffer.byteLength(BODY),
      rounds: ROUNDS,
      cases: cases.map(({ server: _server, token: _token, ...c }) => c),
    };
    process.stdout.write(JSON.stringify(result));
  } finally {
    for (const server of servers) await server.stop();
    for (const data of prepared) fs.rmSync(data.dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
