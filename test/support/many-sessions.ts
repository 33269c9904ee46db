/**
 * A server process whose store already holds a user with many conversations, written through the
 * server's own compiled SQLite store (server/dist, built by jest's global setup) in a Node process
 * of its own before the server starts on that folder: sending them one by one over sockets would
 * take far longer than the tests that need them, and the app's tests run in jsdom, not Node.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { startServerProcess, type ServerProcess } from './server-process';
import { tempDataDir } from './tmp';

const STORE = path.resolve(__dirname, '../../server/dist/server/src/store/sqlite.js');

export interface ManySessions {
  server: ServerProcess;
  /** A phone's storage that logs in as the user with the conversations (its device id). */
  storage(): Map<string, string>;
  /** The conversations, most recent first (the list's order). */
  convs: string[];
  /** How many messages each conversation holds, by conv. */
  lastSeq: Map<string, number>;
}

/**
 * Run in the child: `quiet` conversations of one message each, and above them (more recent)
 * `busy` of `busyMessages` each; prints the convs, oldest first. Every loop is bounded.
 */
const FILL = `
const [store, file, deviceId, quiet, busy, busyMessages] = JSON.parse(process.argv[1]);
const { SqliteStore } = require(store);
(async () => {
  const db = new SqliteStore(file, { checkpointIntervalMs: 0 });
  const me = await db.userFor({ provider: 'dev', externalId: deviceId }, { nickname: '我' });
  const base = Date.now() - 10000000;
  const convs = [];
  for (let i = 0; i < quiet + busy; i++) {
    const peer = await db.userFor({ provider: 'dev', externalId: deviceId + '-peer-' + i }, { nickname: '好友' + i });
    const members = [me.id, peer.id].sort();
    const conv = 'dm:' + members[0] + ':' + members[1];
    const count = i < quiet ? 1 : busyMessages;
    const sends = [];
    for (let k = 0; k < count; k++) {
      sends.push(db.appendMessage({ conv, members, from: peer.id, cid: 'm' + (k + 1), kind: 'text',
        body: i + ':' + (k + 1), ts: base + i * 1000 + k }));
    }
    await Promise.all(sends);
    convs.push([conv, count]);
  }
  await db.close();
  process.stdout.write(JSON.stringify(convs));
})().catch((error) => { console.error(error); process.exit(1); });
`;

/** `quiet` conversations of one message each, and above them (more recent) `busy` of `busyMessages` each. */
export async function startWithManySessions(options: {
  quiet: number;
  busy?: number;
  busyMessages?: number;
}): Promise<ManySessions> {
  const { quiet, busy = 0, busyMessages = 0 } = options;
  const dataDir = tempDataDir();
  const deviceId = `many-sessions-${Math.random().toString(36).slice(2, 10)}`;
  const args = JSON.stringify([STORE, path.join(dataDir, 'chat.db'), deviceId, quiet, busy, busyMessages]);
  const output = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, ['-e', FILL, args], { timeout: 60_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`filling the store failed: ${stderr || error.message}`)) : resolve(stdout),
    ),
  );
  const made = JSON.parse(output) as Array<[string, number]>;
  const server = await startServerProcess({ dataDir });
  return {
    server,
    storage: () => new Map([['chat.deviceId', JSON.stringify(deviceId)]]),
    convs: made.map(([conv]) => conv).reverse(),
    lastSeq: new Map(made),
  };
}
