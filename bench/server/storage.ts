/**
 * Our store alone, no sockets: what storing one message costs in our SQLite store, measured with
 * the server's own compiled `SqliteStore` (server/dist) through its public `appendMessage`, so the
 * statements and the transaction policy are exactly the server's. Sends arrive either one at a
 * time (each awaited before the next) or B at once in one event-loop turn, as they do under load;
 * the store does with them whatever it does (one transaction per turn, see
 * server/src/store/sqlite.ts). With the WAL checkpoints as the server runs them (the store's
 * worker thread, server/src/store/checkpointer.ts) and without that worker (SQLite's automatic
 * checkpoint inside commits, the store's `checkpointIntervalMs: 0`), to show what the worker saves.
 *
 * Run by bench/run.ts in its own process; prints its result as JSON on stdout.
 */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { NewMessage } from '../../server/src/store/types';
import { OUT, OUR_MAIN } from '../lib/proc';

export interface StorageCase {
  /** Sends arriving together in one event-loop turn. */
  batch: number;
  /**
   * True: SQLite's automatic WAL checkpoint (every 1,000 pages) inside commits, the store with
   * `checkpointIntervalMs: 0`; false: the store's checkpoint worker, as the server runs it.
   */
  autoCheckpoint: boolean;
  messages: number;
  microsPerMessage: number;
  messagesPerSecond: number;
  /** Time to store one turn's sends (all of them acknowledged), ms: median, 99th percentile, max. */
  transactionP50Ms: number;
  transactionP99Ms: number;
  transactionMaxMs: number;
}

export interface StorageResult {
  cases: StorageCase[];
  /** The `getUser` lookup `send` makes for its `to`, per call. */
  getUserMicros: number;
}

interface SqliteStoreLike {
  userFor(identity: { provider: 'dev'; externalId: string }, defaults: { nickname: string }): Promise<{ id: string }>;
  getUser(id: string): Promise<unknown>;
  appendMessage(message: NewMessage): Promise<unknown>;
  close(): Promise<void>;
}

const STORE = path.join(path.dirname(OUR_MAIN), 'store/sqlite.js');
const BODY = 'x'.repeat(100);
const USERS = 1000;

async function measure(batch: number, autoCheckpoint: boolean, messages: number): Promise<StorageCase> {
  const dir = path.join(OUT, 'data', `storage-${process.pid}-${batch}-${autoCheckpoint}`);
  fs.rmSync(dir, { recursive: true, force: true });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { SqliteStore } = require(STORE) as {
    SqliteStore: new (file: string, options?: { checkpointIntervalMs?: number }) => SqliteStoreLike;
  };
  const store = new SqliteStore(path.join(dir, 'chat.db'), autoCheckpoint ? { checkpointIntervalMs: 0 } : {});
  const ids: string[] = [];
  for (let i = 0; i < USERS; i++) {
    ids.push((await store.userFor({ provider: 'dev', externalId: `storage-${i}` }, { nickname: `u${i}` })).id);
  }
  let k = 0;
  const next = (): NewMessage => {
    const from = ids[k % USERS];
    const to = ids[(k % USERS) ^ 1];
    const members = [from, to].sort();
    const message: NewMessage = {
      conv: `dm:${members[0]}:${members[1]}`,
      members,
      from,
      cid: `c${k}`,
      kind: 'text',
      body: BODY,
      ts: Date.now(),
    };
    k++;
    return message;
  };
  const times: number[] = [];
  const run = async (count: number) => {
    for (let done = 0; done < count; done += batch) {
      const list = Array.from({ length: Math.min(batch, count - done) }, next);
      const start = performance.now();
      await Promise.all(list.map((message) => store.appendMessage(message)));
      times.push(performance.now() - start);
    }
  };
  await run(Math.min(5000, messages)); // warm-up: every conversation exists, the JIT has seen it all
  times.length = 0;
  const started = performance.now();
  await run(messages);
  const seconds = (performance.now() - started) / 1000;
  times.sort((x, y) => x - y);
  const at = (q: number) => times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)];
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return {
    batch,
    autoCheckpoint,
    messages,
    microsPerMessage: (seconds * 1e6) / messages,
    messagesPerSecond: messages / seconds,
    transactionP50Ms: at(0.5),
    transactionP99Ms: at(0.99),
    transactionMaxMs: times[times.length - 1],
  };
}

async function getUserMicros(): Promise<number> {
  const dir = path.join(OUT, 'data', `storage-${process.pid}-users`);
  fs.rmSync(dir, { recursive: true, force: true });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { SqliteStore } = require(STORE) as { SqliteStore: new (file: string) => SqliteStoreLike };
  const store = new SqliteStore(path.join(dir, 'chat.db'));
  const ids: string[] = [];
  for (let i = 0; i < USERS; i++) {
    ids.push((await store.userFor({ provider: 'dev', externalId: `storage-${i}` }, { nickname: `u${i}` })).id);
  }
  const calls = 50_000;
  for (let i = 0; i < 5000; i++) await store.getUser(ids[i % USERS]);
  const started = performance.now();
  for (let i = 0; i < calls; i++) await store.getUser(ids[i % USERS]);
  const micros = ((performance.now() - started) * 1000) / calls;
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return micros;
}

async function main(): Promise<void> {
  const quick = process.env.BENCH_QUICK === '1';
  const messages = quick ? 5000 : 30000;
  const cases: StorageCase[] = [];
  for (const [batch, autoCheckpoint] of [
    [1, true],
    [10, true],
    [100, true],
    [1, false],
    [10, false],
    [100, false],
  ] as Array<[number, boolean]>) {
    cases.push(await measure(batch, autoCheckpoint, messages));
  }
  const result: StorageResult = { cases, getUserMicros: await getUserMicros() };
  process.stdout.write(JSON.stringify(result));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
