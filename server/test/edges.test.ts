/**
 * Abuse and bad input: every malformed frame gets a clear error and the connection keeps
 * working; an oversized frame is closed with 1009; a client that stops reading is closed with
 * 1013 while its messages wait in storage; and the server keeps serving everyone else.
 */
import net from 'node:net';
import { CLOSE_CODES, LIMITS, type ErrorCode } from '../../contract/limits';
import { directConversationId } from '../../contract/conversations';
import { useSockets, useTestServer } from './support/fixture';
import { person, settle, TestSocket, type Person } from './support/server';

const server = useTestServer();
const newPerson = () => server.person();

/** After an error, the same connection still answers a ping. */
async function stillWorks(socket: TestSocket): Promise<void> {
  await settle(socket);
  expect(socket.ws.readyState).toBe(socket.ws.OPEN);
}

describe('malformed frames get an error and the connection stays open', () => {
  const shared = useSockets('all');
  let me: Person;
  let peer: Person;
  beforeAll(async () => {
    me = await person(server, shared);
    peer = await person(server, shared);
  });

  const longText = 'x'.repeat(LIMITS.maxTextLength + 1);
  const rows: Array<[label: string, text: () => string, code: ErrorCode, message: RegExp, ref?: string]> = [
    ['not JSON', () => '{"type": "ping"', 'bad_frame', /not JSON/],
    ['an empty text frame', () => '', 'bad_frame', /not JSON/],
    ['a JSON array', () => '[{"type":"ping"}]', 'bad_frame', /not a JSON object/],
    ['a JSON string', () => '"ping "', 'bad_frame', /not a JSON object/],
    ['JSON null', () => 'null', 'bad_frame', /not a JSON object/],
    ['a number', () => '42', 'bad_frame', /not a JSON object/],
    ['an object without type', () => '{"cid":"x1"}', 'bad_frame', /no "type"/, 'x1'],
    ['a non-string type', () => '{"type":7}', 'bad_frame', /no "type"/],
    ['an unknown type', () => '{"type":"teleport"}', 'unknown_type', /teleport/],
    ['a type from the server side', () => '{"type":"ack","cid":"a1"}', 'unknown_type', /ack/, 'a1'],
    ['a prototype name as type', () => '{"type":"constructor"}', 'unknown_type', /constructor/],
    [
      'send with a numeric body',
      () => JSON.stringify({ type: 'send', cid: 'b1', to: peer.id, kind: 'text', body: 5 }),
      'bad_frame',
      /^send: "body" must be string/,
      'b1',
    ],
    [
      'send with an unknown kind',
      () => JSON.stringify({ type: 'send', cid: 'b2', to: peer.id, kind: 'video', body: 'x' }),
      'bad_frame',
      /^send: "kind"/,
      'b2',
    ],
    [
      'send with an empty body',
      () => JSON.stringify({ type: 'send', cid: 'b3', to: peer.id, kind: 'text', body: '' }),
      'bad_frame',
      /^send: "body"/,
      'b3',
    ],
    [
      `send with a body over ${LIMITS.maxTextLength} characters`,
      () => JSON.stringify({ type: 'send', cid: 'b4', to: peer.id, kind: 'text', body: longText }),
      'bad_frame',
      /^send: "body" must NOT have more than 4000 characters/,
      'b4',
    ],
    [
      `send with a cid over ${LIMITS.maxCidLength} characters`,
      () => JSON.stringify({ type: 'send', cid: 'c'.repeat(65), to: peer.id, kind: 'text', body: 'x' }),
      'bad_frame',
      /^send: "cid"/,
      'c'.repeat(65),
    ],
    [
      'send without a cid',
      () => JSON.stringify({ type: 'send', to: peer.id, kind: 'text', body: 'x' }),
      'bad_frame',
      /cid/,
    ],
    [
      'send with a numeric to',
      () => JSON.stringify({ type: 'send', cid: 'b5', to: 12, kind: 'text', body: 'x' }),
      'bad_frame',
      /^send: "to"/,
      'b5',
    ],
    ['history without conv', () => '{"type":"history"}', 'bad_frame', /conv/],
    ['history with a negative before', () => '{"type":"history","conv":"dm:a:b","before":-1}', 'bad_frame', /before/],
    ['read with a string seq', () => '{"type":"read","conv":"dm:a:b","seq":"3"}', 'bad_frame', /^read: "seq"/],
    ['read with a fractional seq', () => '{"type":"read","conv":"dm:a:b","seq":1.5}', 'bad_frame', /^read: "seq"/],
    ['typing with an empty conv', () => '{"type":"typing","conv":""}', 'bad_frame', /^typing: "conv"/],
    ['sync without cursors', () => '{"type":"sync"}', 'bad_frame', /cursors/],
    ['sync with a non-numeric cursor', () => '{"type":"sync","cursors":{"dm:a:b":"x"}}', 'bad_frame', /cursors/],
    ['sync with an array for cursors', () => '{"type":"sync","cursors":[1]}', 'bad_frame', /cursors/],
  ];

  // Objects, not arrays: jest reads a test function with more parameters than a row has columns
  // as one that takes a `done` callback.
  const cases = rows.map(([label, text, code, message, ref]) => ({ label, text, code, message, ref }));

  it.each(cases)('$label', async ({ text, code, message, ref }) => {
    me.socket.ws.send(text());
    const error = await me.socket.next('error');
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
    expect(error.ref).toBe(ref);
    await stillWorks(me.socket);
  });

  it('drops fields a frame schema does not name instead of refusing the frame', async () => {
    me.socket.send({ type: 'ping', from: 'someone', version: 2 });
    expect(await me.socket.next('pong')).toEqual({ type: 'pong' });
  });

  it('answers a binary frame with bad_frame, even one holding valid JSON', async () => {
    me.socket.ws.send(Buffer.from(JSON.stringify({ type: 'ping' })), { binary: true });
    const error = await me.socket.next('error');
    expect(error).toMatchObject({ code: 'bad_frame', message: expect.stringMatching(/binary/) });
    await stillWorks(me.socket);
  });

  it('keeps working for real frames after a burst of garbage', async () => {
    for (let i = 0; i < 50; i++) me.socket.ws.send(`garbage ${i}`);
    const cid = 'after-garbage';
    me.socket.send({ type: 'send', cid, to: peer.id, kind: 'text', body: 'still here' });
    const ack = await me.socket.next('ack', (frame) => frame.cid === cid);
    expect(ack.conv).toBe(directConversationId(me.id, peer.id));
    expect(await peer.socket.next('message', (m) => m.cid === cid)).toMatchObject({ body: 'still here' });
    expect(me.socket.frames.filter((frame) => frame.type === 'error')).toHaveLength(50);
  });
});

describe('size limit', () => {
  it(`closes a connection that sends a frame over ${LIMITS.maxFrameBytes} bytes with 1009, and serves others`, async () => {
    const big = await newPerson();
    const other = await newPerson();
    const bigsOtherDevice = await big.connect();

    // Exactly at the limit is still read (and refused as a frame, not as a size).
    big.socket.ws.send('x'.repeat(LIMITS.maxFrameBytes));
    expect((await big.socket.next('error')).code).toBe('bad_frame');

    big.socket.ws.send('x'.repeat(LIMITS.maxFrameBytes + 1));
    const closed = await big.socket.closed;
    expect(closed.code).toBe(CLOSE_CODES.tooBig);

    // Everyone else, including the same user's other connection, is still served.
    const cid = 'after-1009';
    other.socket.send({ type: 'send', cid, to: big.id, kind: 'text', body: 'are you there?' });
    expect((await other.socket.next('ack', (ack) => ack.cid === cid)).seq).toBe(1);
    expect(await bigsOtherDevice.next('message', (m) => m.cid === cid)).toMatchObject({ body: 'are you there?' });

    // And the user can connect again.
    const again = await big.connect();
    await settle(again);
  });
});

describe('back-pressure', () => {
  it('closes a connection that stops reading with 1013; its messages wait in storage for its next sync', async () => {
    const reader = await newPerson();
    const writer = await newPerson();

    // A connection of the reader whose TCP socket we stop reading from after the upgrade.
    let tcp: net.Socket | undefined;
    const slow = await server.open(reader.token, {
      createConnection: (options) => {
        tcp = net.createConnection(options as net.NetConnectOpts);
        return tcp;
      },
    });
    if (!tcp) throw new Error('createConnection was not used');
    tcp.pause();

    // ~12 KB per message (4000 CJK characters are 12,000 bytes of UTF-8): enough to fill the
    // kernel's socket buffers and then the server's 1 MiB bound several times over.
    const body = '满'.repeat(LIMITS.maxTextLength);
    const total = 1500;
    // In batches, so that the healthy connection below (read by this same process) keeps up.
    const batch = 50;
    const stored = [];
    for (let start = 0; start < total; start += batch) {
      const acks = [];
      for (let i = start; i < start + batch; i++) {
        const cid = `flood-${i}`;
        writer.socket.send({ type: 'send', cid, to: reader.id, kind: 'text', body });
        acks.push(writer.socket.next('ack', (ack) => ack.cid === cid));
      }
      stored.push(...(await Promise.all(acks)));
    }
    expect(stored.map((ack) => ack.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));

    // Meanwhile the reader's healthy connection got every message and is still open.
    await settle(reader.socket);
    expect(reader.socket.frames.filter((frame) => frame.type === 'message')).toHaveLength(total);
    expect(reader.socket.ws.readyState).toBe(reader.socket.ws.OPEN);

    // The slow one, once it reads again, finds a close frame with 1013 after far fewer messages.
    tcp.resume();
    const closed = await slow.closed;
    expect(closed.code).toBe(CLOSE_CODES.tryAgainLater);
    const got = slow.frames.flatMap((frame) => (frame.type === 'message' ? [frame.seq] : []));
    expect(got.length).toBeLessThan(total);
    // What it did get was a gap-free prefix.
    expect(got).toEqual(Array.from({ length: got.length }, (_, i) => i + 1));

    // Nothing was lost: the next sync replays the newest 50 and history has all of them.
    const back = await reader.connect();
    back.send({ type: 'sync', cursors: {} });
    const { sessions } = await back.next('sessions');
    expect(sessions[0]).toMatchObject({ lastSeq: total, unread: total });
    const synced = await back.next('synced');
    expect(synced.truncated).toEqual([sessions[0].conv]);
  });
});
