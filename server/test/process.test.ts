/**
 * The server as its own process, as it runs in production: an acked message survives kill -9,
 * and SIGTERM finishes in-flight sends, closes sockets with 1001 and exits 0.
 */
import { CLOSE_CODES, LIMITS } from '../../contract/limits';
import { directConversationId } from '../../contract/conversations';
import type { ChatMessage } from '../../contract/frames';
import { startServerProcess } from '../../test/support/server-process';
import { closeAll, person, TestSocket } from './support/server';

const sockets: TestSocket[] = [];
afterEach(() => closeAll(sockets));

// Rate limits off: these tests push sends as fast as a socket takes them.
const UNLIMITED = { SEND_RATE: '1000000', SEND_BURST: '1000000', FRAME_RATE: '1000000', FRAME_BURST: '1000000' };

function endpoints(url: string) {
  return { url, wsUrl: url.replace(/^http/, 'ws') + '/ws' };
}

async function fullHistory(socket: TestSocket, conv: string): Promise<ChatMessage[]> {
  const messages: ChatMessage[] = [];
  let before: number | undefined;
  for (;;) {
    socket.send({ type: 'history', conv, limit: LIMITS.historyMax, ...(before === undefined ? {} : { before }) });
    const page = await socket.next('history', (frame) => frame.conv === conv);
    messages.unshift(...page.messages);
    if (!page.hasMore || page.messages.length === 0) return messages;
    before = page.messages[0].seq;
  }
}

it('keeps a message acked just before kill -9', async () => {
  const server = await startServerProcess({ env: UNLIMITED });
  const alice = await person(endpoints(server.url), sockets, 'device-alice-1');
  const bob = await person(endpoints(server.url), sockets, 'device-bob-01');
  // Fire a stream of sends and kill the server the moment the first ack arrives.
  for (let i = 0; i < 200; i++) {
    alice.socket.send({ type: 'send', cid: `k-${i}`, to: bob.id, kind: 'text', body: `message ${i}` });
  }
  const firstAck = await alice.socket.next('ack');
  await server.kill();
  await alice.socket.closed;
  const acked = [firstAck, ...alice.socket.frames.flatMap((frame) => (frame.type === 'ack' ? [frame] : []))];

  const restarted = await startServerProcess({ dataDir: server.dataDir, env: UNLIMITED });
  try {
    const again = await person(endpoints(restarted.url), sockets, 'device-alice-1');
    expect(again.id).toBe(alice.id);
    const history = await fullHistory(again.socket, directConversationId(alice.id, bob.id));
    // Every acked message is there with the seq its ack named; seqs have no gap.
    const stored = new Map(history.map((message) => [message.cid, message.seq]));
    for (const ack of acked) expect(stored.get(ack.cid)).toBe(ack.seq);
    expect(history.map((message) => message.seq)).toEqual(history.map((_, i) => i + 1));
    expect(history.length).toBeGreaterThanOrEqual(acked.length);
  } finally {
    await restarted.stop();
  }
});

it('on SIGTERM stores and acks what it received, closes sockets with 1001 and exits 0', async () => {
  const server = await startServerProcess({ env: UNLIMITED });
  const alice = await person(endpoints(server.url), sockets, 'device-alice-2');
  const bob = await person(endpoints(server.url), sockets, 'device-bob-02');
  for (let i = 0; i < 300; i++) {
    alice.socket.send({ type: 'send', cid: `t-${i}`, to: bob.id, kind: 'text', body: `message ${i}` });
  }
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
  const restarted = await startServerProcess({ dataDir: server.dataDir, env: UNLIMITED });
  try {
    const again = await person(endpoints(restarted.url), sockets, 'device-alice-2');
    const history = await fullHistory(again.socket, directConversationId(alice.id, bob.id));
    // Exactly the acked messages were stored (plus the first ack, consumed above): nothing
    // stored without its ack, nothing acked and lost.
    expect(ackedCids.length).toBeGreaterThan(0);
    expect(history.length).toBe(ackedCids.length + 1);
    expect(new Set(history.map((message) => message.cid))).toEqual(new Set([...ackedCids, 't-0']));
  } finally {
    await restarted.stop();
  }
});
