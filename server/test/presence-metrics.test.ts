/** Presence frames to the people one shares a conversation with, and the /metrics endpoint. */
import { useTestServer } from './support/fixture';
import { closeAll } from './support/server';
import { TEST_METRICS_TOKEN } from '../../test/support/server-settings';
import { sleep } from './support/wait';

// A server of its own for each test: the metrics count from zero.
const server = useTestServer({}, 'each');

describe('presence', () => {
  it('tells peers when a user comes online and when their last connection closes', async () => {
    const alice = await server.person();
    const bob = await server.person();
    const stranger = await server.person();
    alice.socket.send({ type: 'send', cid: 'p1', to: bob.id, kind: 'text', body: 'hi' });
    await alice.socket.next('ack');

    // Bob opens a second device: no news, he was online already.
    const bobPhone = await bob.connect();
    await sleep(100);
    expect(alice.socket.frames.filter((frame) => frame.type === 'presence')).toHaveLength(0);

    bob.socket.close();
    await sleep(100);
    expect(alice.socket.frames.filter((frame) => frame.type === 'presence')).toHaveLength(0);
    bobPhone.close();
    expect(await alice.socket.next('presence')).toEqual({ type: 'presence', user: bob.id, online: false });

    await bob.connect();
    expect(await alice.socket.next('presence')).toEqual({ type: 'presence', user: bob.id, online: true });
    // Someone who shares no conversation with bob hears nothing of him.
    expect(stranger.socket.frames.filter((frame) => frame.type === 'presence')).toHaveLength(0);
  });
});

describe('presence in the session list', () => {
  it("a dm entry of `sessions` says whether the peer is online now (an addition); groups' entries do not", async () => {
    const alice = await server.person();
    const bob = await server.person();
    alice.socket.send({ type: 'send', cid: 'o1', to: bob.id, kind: 'text', body: 'hi' });
    await alice.socket.next('ack');
    const sessionsNow = async (): Promise<unknown> => {
      const socket = await alice.connect();
      socket.send({ type: 'sync', cursors: {} });
      const frame = await socket.next('sessions');
      socket.close();
      return frame.type === 'sessions' ? frame.sessions : [];
    };
    expect(await sessionsNow()).toEqual([
      expect.objectContaining({ peer: expect.objectContaining({ id: bob.id }), online: true }),
    ]);
    bob.socket.close();
    await sleep(100);
    expect(await sessionsNow()).toEqual([expect.objectContaining({ online: false })]);
  });
});

describe('GET /metrics', () => {
  async function metrics(): Promise<string> {
    const response = await fetch(`${server.url}/metrics`, {
      headers: { authorization: `Bearer ${TEST_METRICS_TOKEN}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    return response.text();
  }

  function value(text: string, name: string): number {
    const line = text
      .split('\n')
      .find((candidate) => candidate.startsWith(name + ' ') || candidate.startsWith(name + '{'));
    if (!line) throw new Error(`no metric ${name}`);
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }

  it('counts connections, stored and delivered messages, syncs and errors by code', async () => {
    const alice = await server.person();
    const bob = await server.person();
    await bob.connect();
    let text = await metrics();
    expect(value(text, 'chat_connections_open')).toBe(3);

    alice.socket.send({ type: 'send', cid: 'm1', to: bob.id, kind: 'text', body: 'one' });
    await alice.socket.next('ack');
    alice.socket.send({ type: 'send', cid: 'm1', to: bob.id, kind: 'text', body: 'one again' });
    await alice.socket.next('ack');
    alice.socket.send({ type: 'sync', cursors: {} });
    await alice.socket.next('synced');
    alice.socket.send({ type: 'nonsense' });
    alice.socket.send({ type: 'send', cid: 'x', to: bob.id, kind: 'video', body: 'x' });
    await alice.socket.next('error');
    await alice.socket.next('error');

    text = await metrics();
    // A resent cid is stored once; bob's two devices each got the message once.
    expect(value(text, 'chat_messages_stored_total')).toBe(1);
    expect(value(text, 'chat_messages_delivered_total')).toBe(2);
    expect(value(text, 'chat_sync_duration_seconds_count')).toBe(1);
    expect(text).toContain('chat_errors_total{code="unknown_type"} 1');
    expect(text).toContain('chat_errors_total{code="bad_frame"} 1');
    expect(text).toContain('process_resident_memory_bytes');

    closeAll(server.sockets);
    await sleep(100);
    expect(value(await metrics(), 'chat_connections_open')).toBe(0);
  });
});
