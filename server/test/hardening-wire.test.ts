/**
 * Attacks on the wire rules of one frame (issue 14, rows 8 and 9): a second spelling of a
 * one-to-one conversation id, and a body that counts as 4,000 code points but 8,000 UTF-16 units.
 * Both are refused as bad_frame, nothing is stored, and a normal chat goes on meanwhile.
 */
import { LIMITS } from '../../contract/limits';
import { useTestServer } from './support/fixture';
import { chatStillWorks, fullHistory, settle, twoPeople } from './support/server';

const server = useTestServer();

describe('attack 8: a dm id with its two users out of order', () => {
  it('is refused as bad_frame for every frame that names it, and never stored under a second id', async () => {
    const { alice, bob, conv } = await twoPeople(server, server.sockets);
    const [smaller, larger] = [alice.id, bob.id].sort();
    const reversed = `dm:${larger}:${smaller}`;
    expect(conv).toBe(`dm:${smaller}:${larger}`);

    alice.socket.send({ type: 'send', cid: 'reversed-1', conv: reversed, kind: 'text', body: '你好' });
    expect(await alice.socket.next('error', (frame) => frame.ref === 'reversed-1')).toMatchObject({
      code: 'bad_frame',
      message: expect.stringContaining('dm:<smaller id>:<larger id>'),
    });
    for (const frame of [
      { type: 'history', conv: reversed },
      { type: 'read', conv: reversed, seq: 1 },
    ]) {
      alice.socket.send(frame);
      expect(await alice.socket.next('error')).toMatchObject({ code: 'bad_frame' });
    }
    const attack = chatStillWorks(server);
    alice.socket.send({ type: 'send', cid: 'canonical-1', conv, kind: 'text', body: '你好' });
    expect(await alice.socket.next('ack', (frame) => frame.cid === 'canonical-1')).toMatchObject({ conv, seq: 1 });
    await attack;

    // One conversation, one message: the reversed id stored nothing anywhere.
    bob.socket.send({ type: 'sync', cursors: {} });
    const sessions = await bob.socket.next('sessions');
    expect(sessions.sessions.map((session) => session.conv)).toEqual([conv]);
    expect((await fullHistory(bob.socket, conv)).map((message) => message.cid)).toEqual(['canonical-1']);
    expect(await server.store.membersOf(reversed)).toEqual([]);
  });

  it('relays no typing on the reversed id (typing is dropped unanswered), only on the canonical one', async () => {
    const { alice, bob, conv } = await twoPeople(server, server.sockets);
    const [smaller, larger] = [alice.id, bob.id].sort();
    alice.socket.send({ type: 'send', cid: 'first', conv, kind: 'text', body: '你好' });
    await bob.socket.next('message', (frame) => frame.cid === 'first');
    alice.socket.send({ type: 'typing', conv: `dm:${larger}:${smaller}` });
    alice.socket.send({ type: 'typing', conv });
    // Frames of one connection are handled in order: the reversed one came first, and was dropped.
    expect(await bob.socket.next('typing')).toEqual({ type: 'typing', conv, user: alice.id });
    await settle(alice.socket, bob.socket);
    expect(bob.socket.frames.filter((frame) => frame.type === 'typing')).toEqual([]);
    expect(alice.socket.frames.filter((frame) => frame.type === 'error')).toEqual([]);
  });
});

describe('attack 9: a body counted in code points instead of UTF-16 units', () => {
  const emoji = '😀'; // one code point, two UTF-16 units

  it('refuses 4,000 emoji (8,000 units) and stores nothing', async () => {
    const { alice, bob, conv } = await twoPeople(server, server.sockets);
    const attack = chatStillWorks(server);
    alice.socket.send({ type: 'send', cid: 'emoji-4000', to: bob.id, kind: 'text', body: emoji.repeat(4000) });
    const refusal = await alice.socket.next('error', (frame) => frame.ref === 'emoji-4000');
    expect(refusal).toMatchObject({ code: 'bad_frame', message: expect.stringContaining(`${LIMITS.maxTextLength}`) });
    await attack;
    expect(await fullHistory(alice.socket, conv)).toEqual([]);
  });

  it('takes exactly 4,000 units of emoji (2,000 of them), and refuses one unit more', async () => {
    const { alice, bob } = await twoPeople(server, server.sockets);
    const atLimit = emoji.repeat(LIMITS.maxTextLength / 2);
    expect(atLimit.length).toBe(LIMITS.maxTextLength);
    alice.socket.send({ type: 'send', cid: 'at-limit', to: bob.id, kind: 'text', body: atLimit });
    expect(await bob.socket.next('message', (frame) => frame.cid === 'at-limit')).toMatchObject({ body: atLimit });
    alice.socket.send({ type: 'send', cid: 'one-more', to: bob.id, kind: 'text', body: `${atLimit}a` });
    expect(await alice.socket.next('error', (frame) => frame.ref === 'one-more')).toMatchObject({ code: 'bad_frame' });
  });
});
