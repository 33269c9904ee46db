/**
 * The server as its own process, as it runs in production: an acked message survives kill -9,
 * and SIGTERM finishes in-flight sends, closes sockets with 1001 and exits 0.
 */
import { CLOSE_CODES } from '../../contract/limits';
import { directConversationId } from '../../contract/conversations';
import { startServerProcess, type ServerProcess } from '../../test/support/server-process';
import { useSockets } from './support/fixture';
import { endpoints, fullHistory, person, type Person } from './support/server';

const sockets = useSockets();

// Rate limits off: these tests push sends as fast as a socket takes them.
const UNLIMITED = { SEND_RATE: '1000000', SEND_BURST: '1000000', FRAME_RATE: '1000000', FRAME_BURST: '1000000' };

/**
 * A server process with alice and bob connected (each device named after `label`), and alice
 * firing `count` sends at bob at once, cids `<label>-0`, `<label>-1` …
 */
async function aliceFloodsBob(
  label: string,
  count: number,
  env: Record<string, string> = {},
): Promise<{ server: ServerProcess; alice: Person; bob: Person }> {
  const server = await startServerProcess({ env: { ...UNLIMITED, ...env } });
  const alice = await person(endpoints(server.url), sockets, `device-alice-${label}`);
  const bob = await person(endpoints(server.url), sockets, `device-bob-${label}`);
  for (let i = 0; i < count; i++) {
    alice.socket.send({ type: 'send', cid: `${label}-${i}`, to: bob.id, kind: 'text', body: `message ${i}` });
  }
  return { server, alice, bob };
}

/** Restarts the server on the data `dataDir` holds, and reads alice and bob's conversation as alice. */
async function historyAfterRestart(dataDir: string, label: string, bobId: string) {
  const restarted = await startServerProcess({ dataDir, env: UNLIMITED });
  try {
    const again = await person(endpoints(restarted.url), sockets, `device-alice-${label}`);
    return { aliceId: again.id, history: await fullHistory(again.socket, directConversationId(again.id, bobId)) };
  } finally {
    await restarted.stop();
  }
}

// The SQLite store writes messages on the main thread by default (SQLITE_WRITER=main), or in a
// worker thread: an ack means the message is in the file either way.
it.each(['thread', 'main'])('keeps a message acked just before kill -9 (SQLITE_WRITER=%s)', async (writer) => {
  // Fire a stream of sends and kill the server the moment the first ack arrives.
  const { server, alice, bob } = await aliceFloodsBob('k', 200, { SQLITE_WRITER: writer });
  const firstAck = await alice.socket.next('ack');
  await server.kill();
  await alice.socket.closed;
  const acked = [firstAck, ...alice.socket.frames.flatMap((frame) => (frame.type === 'ack' ? [frame] : []))];

  const { aliceId, history } = await historyAfterRestart(server.dataDir, 'k', bob.id);
  expect(aliceId).toBe(alice.id);
  // Every acked message is there with the seq its ack named; seqs have no gap.
  const stored = new Map(history.map((message) => [message.cid, message.seq]));
  for (const ack of acked) expect(stored.get(ack.cid)).toBe(ack.seq);
  expect(history.map((message) => message.seq)).toEqual(history.map((_, i) => i + 1));
  expect(history.length).toBeGreaterThanOrEqual(acked.length);
});

it('on SIGTERM stores and acks what it received, closes sockets with 1001 and exits 0', async () => {
  const { server, alice, bob } = await aliceFloodsBob('t', 300);
  await alice.socket.next('ack');
  server.child.kill('SIGTERM');
  const [aliceClose, bobClose] = await Promise.all([alice.socket.closed, bob.socket.closed]);
  const exitCode = await new Promise<number | null>((resolve) => {
    if (server.child.exitCode !== null) resolve(server.child.exitCode);
    else server.child.once('exit', (code) => resolve(code));
  });
  expect(aliceClose.code).toBe(CLOSE_CODES.goingAway);
  expect(bobClose.code).toBe(CLOSE_CODES.goingAway);
  expect(exitCode).toBe(0);

  const ackedCids = alice.socket.frames.flatMap((frame) => (frame.type === 'ack' ? [frame.cid] : []));
  const { history } = await historyAfterRestart(server.dataDir, 't', bob.id);
  // Exactly the acked messages were stored (plus the first ack, consumed above): nothing
  // stored without its ack, nothing acked and lost.
  expect(ackedCids.length).toBeGreaterThan(0);
  expect(history.length).toBe(ackedCids.length + 1);
  expect(new Set(history.map((message) => message.cid))).toEqual(new Set([...ackedCids, 't-0']));
});
