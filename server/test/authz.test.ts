/**
 * Who may do what: the one place that lists every refusal of the protocol's authorization rules,
 * each against a real server over real sockets. Each refusal is checked three ways: the documented
 * code, nothing stored (the owners' history is unchanged), nothing leaked (no frame reached the
 * intruder but its error, no frame reached the owners).
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Tokens } from '../src/auth/tokens';
import type { ServerFrame } from '../../contract/frames';
import { useTestServer } from './support/fixture';
import { api, refusedUpgrade, settle, TestSocket, type Person, type TestServer as Server } from './support/server';

const SECRET = 'authz-test-secret-0123456789abcdef';
const UPLOAD_LIMIT = 2048;

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

async function upload(
  server: Server,
  token: string,
  bytes: Buffer,
  type: string,
): Promise<{ status: number; body: unknown }> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(bytes)], { type }), 'x.png');
  const response = await fetch(`${server.url}/api/upload`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** GET with the path sent exactly as written (fetch would normalise `..` away). */
function rawGet(server: Server, rawPath: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port: server.port, path: rawPath, method: 'GET' }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('latin1') }),
      );
    });
    request.on('error', reject);
    request.end();
  });
}

/** The frames a socket got, but pongs. */
function seen(socket: TestSocket): ServerFrame[] {
  return socket.frames.filter((frame) => frame.type !== 'pong');
}

/** The whole history of `conv` as `reader` gets it (at most 100 messages). */
async function historyOf(reader: Person, conv: string): Promise<Array<{ seq: number; body: string; from: string }>> {
  const socket = await reader.connect();
  socket.send({ type: 'history', conv, limit: 100 });
  const page = await socket.next('history');
  socket.close();
  return page.messages.map(({ seq, body, from }) => ({ seq, body, from }));
}

describe('authorization: nobody gets in, nothing stored, nothing leaked', () => {
  const server = useTestServer({
    tokenSecret: SECRET,
    uploadMaxBytes: UPLOAD_LIMIT,
    uploadAudioMaxBytes: UPLOAD_LIMIT,
  });

  /** Alice and bob with two messages between them; mallory, a third user, outside. */
  async function threeUsers(): Promise<{ alice: Person; bob: Person; mallory: Person; conv: string }> {
    const alice = await server.person();
    const bob = await server.person();
    const mallory = await server.person();
    alice.socket.send({ type: 'send', cid: 'a1', to: bob.id, kind: 'text', body: 'secret 1' });
    const ack = await alice.socket.next('ack');
    bob.socket.send({ type: 'send', cid: 'b1', conv: ack.conv, kind: 'text', body: 'secret 2' });
    await bob.socket.next('ack');
    await alice.socket.next('message');
    await settle(alice.socket, bob.socket, mallory.socket);
    alice.socket.frames.length = 0;
    bob.socket.frames.length = 0;
    return { alice, bob, mallory, conv: ack.conv };
  }

  it('no token: the socket upgrade and every Bearer route answer 401', async () => {
    expect(await refusedUpgrade(server.wsUrl)).toMatchObject({
      status: 401,
      body: { error: { code: 'unauthorized' } },
    });
    for (const [method, route] of [
      ['GET', '/api/users'],
      ['GET', '/api/me'],
      ['PUT', '/api/profile'],
    ] as const) {
      const answer = await api(server.url, method, route, method === 'PUT' ? { json: { nickname: 'x' } } : {});
      expect(answer).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
    }
    const response = await fetch(`${server.url}/api/upload`, { method: 'POST', body: new FormData() });
    expect(response.status).toBe(401);
  });

  it('a forged signature and an expired token: 401 on the socket and over HTTP', async () => {
    const victim = await server.person();
    const forged = (await new Tokens('some-other-secret', 3600).issue(victim.id)).token;
    const expired = (await new Tokens(SECRET, -1).issue(victim.id)).token;
    const unsigned = victim.token.split('.').slice(0, 2).join('.') + '.';
    for (const token of [forged, expired, unsigned, victim.token.slice(0, -4) + 'AAAA']) {
      const upgrade = await refusedUpgrade(server.wsUrl, { authorization: `Bearer ${token}` });
      expect(upgrade).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
      const query = await refusedUpgrade(`${server.wsUrl}?token=${encodeURIComponent(token)}`);
      expect(query.status).toBe(401);
      const answer = await api(server.url, 'GET', '/api/users', { token });
      expect(answer).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
    }
    const old = await refusedUpgrade(server.wsUrl, { authorization: `Bearer ${expired}` });
    expect((old.body as { error: { message: string } }).error.message).toMatch(/expired/);
  });

  it("another user's conversation: history, send by conv and read are forbidden, typing dropped; nothing stored or leaked", async () => {
    const { alice, bob, mallory, conv } = await threeUsers();
    const before = await historyOf(alice, conv);
    expect(before.map((message) => message.body)).toEqual(['secret 1', 'secret 2']);

    mallory.socket.frames.length = 0;
    mallory.socket.send({ type: 'history', conv });
    mallory.socket.send({ type: 'history', conv, before: 3, limit: 100 });
    mallory.socket.send({ type: 'send', cid: 'm1', conv, kind: 'text', body: 'intruder' });
    mallory.socket.send({ type: 'read', conv, seq: 2 });
    mallory.socket.send({ type: 'typing', conv });
    await settle(mallory.socket);
    const errors = seen(mallory.socket);
    // Four refusals: `typing` is a hint, dropped without a word for a non-member.
    expect(errors).toHaveLength(4);
    for (const frame of errors) expect(frame).toMatchObject({ type: 'error', code: 'forbidden' });
    expect(errors.find((frame) => frame.type === 'error' && frame.ref === 'm1')).toBeDefined();
    expect(mallory.socket.texts.join('\n')).not.toContain('secret');

    // Nothing reached the owners, nothing was stored, no seq was used.
    await settle(alice.socket, bob.socket);
    expect(seen(alice.socket)).toEqual([]);
    expect(seen(bob.socket)).toEqual([]);
    expect(await historyOf(bob, conv)).toEqual(before);
    alice.socket.send({ type: 'send', cid: 'a2', conv, kind: 'text', body: 'next' });
    expect((await alice.socket.next('ack')).seq).toBe(3);

    // Mallory's own sync lists nothing of theirs.
    const again = await mallory.connect();
    again.send({ type: 'sync', cursors: { [conv]: 0 } });
    const sessions = await again.next('sessions');
    await again.next('synced');
    expect(sessions.sessions).toEqual([]);
    expect(seen(again)).toEqual([]);
    // A made-up dm naming mallory and a user that does not exist: not_found, not a way in.
    mallory.socket.frames.length = 0;
    const ghost = [mallory.id, 'uAAAAAAAAAAAA'].sort().join(':');
    mallory.socket.send({ type: 'history', conv: `dm:${ghost}` });
    mallory.socket.send({ type: 'history', conv: 'group:anything' });
    await settle(mallory.socket);
    expect(seen(mallory.socket).map((frame) => (frame.type === 'error' ? frame.code : frame.type))).toEqual([
      'not_found',
      'forbidden',
    ]);
  });

  it('a spoofed from is ignored: the message is from the authenticated sender', async () => {
    const { alice, bob, mallory, conv } = await threeUsers();
    mallory.socket.send({ type: 'send', cid: 'spoof', to: bob.id, kind: 'text', body: 'hi', from: alice.id });
    const ack = await mallory.socket.next('ack');
    expect(ack.conv).not.toBe(conv);
    const delivered = await bob.socket.next('message', (frame) => frame.cid === 'spoof');
    expect(delivered.from).toBe(mallory.id);
    expect(delivered.conv).toBe(ack.conv);
    await settle(alice.socket);
    expect(seen(alice.socket)).toEqual([]);
    expect((await historyOf(alice, conv)).map((message) => message.from)).toEqual([alice.id, bob.id]);
  });

  it('a read cursor moved backwards changes nothing and sends no states', async () => {
    // Alice's own cursor is at 1 (her message); bob's message is seq 2.
    const { alice, bob, conv } = await threeUsers();
    alice.socket.send({ type: 'read', conv, seq: 2 });
    const states = await bob.socket.next('states');
    expect(states).toMatchObject({ conv, user: alice.id, readSeq: 2 });
    for (const seq of [1, 0, 2]) alice.socket.send({ type: 'read', conv, seq });
    await settle(bob.socket, alice.socket);
    expect(seen(alice.socket)).toEqual([]);
    expect(seen(bob.socket)).toEqual([]);
    const check = await alice.connect();
    check.send({ type: 'sync', cursors: { [conv]: 2 } });
    const sessions = await check.next('sessions');
    expect(sessions.sessions.find((session) => session.conv === conv)).toMatchObject({ readSeq: 2, unread: 0 });
  });

  it('uploads: a non-image is 415, an oversized image 413, and neither leaves a file', async () => {
    const user = await server.person();
    const uploads = path.join(server.dataDir, 'uploads');
    const files = () => (fs.existsSync(uploads) ? fs.readdirSync(uploads) : []);
    const before = files();
    const text = await upload(server, user.token, Buffer.from('#!/bin/sh\necho pwned\n'), 'image/png');
    expect(text).toMatchObject({ status: 415, body: { error: { code: 'unsupported_type' } } });
    const html = await upload(server, user.token, Buffer.from('<svg onload="alert(1)"></svg>'), 'image/svg+xml');
    expect(html.status).toBe(415);
    const big = Buffer.concat([PNG, Buffer.alloc(UPLOAD_LIMIT, 0x41)]);
    expect(await upload(server, user.token, big, 'image/png')).toMatchObject({
      status: 413,
      body: { error: { code: 'too_large' } },
    });
    expect(files()).toEqual(before);
    // A real image within the limit still goes through.
    expect((await upload(server, user.token, PNG, 'image/png')).status).toBe(200);
  });

  it('path traversal in file URLs: 404 JSON, never a file from outside uploads/', async () => {
    const user = await server.person();
    const stored = await upload(server, user.token, PNG, 'image/png');
    const name = new URL((stored.body as { url: string }).url).pathname.split('/').pop() as string;
    expect((await rawGet(server, `/uploads/${name}`)).status).toBe(200);
    for (const attempt of [
      '/uploads/../chat.db',
      '/uploads/..%2Fchat.db',
      '/uploads/%2e%2e%2fchat.db',
      '/uploads/..%2F..%2F..%2Fetc%2Fpasswd',
      '/uploads/....//chat.db',
      '/uploads/%2Fetc%2Fpasswd',
      '/uploads/token-secret',
      '/uploads/..%5Ctoken-secret',
      `/uploads/${name}%00.png`,
      `/uploads/${name}/..`,
      '/uploads/.upload-aaaaaaaaaaaaaaaaaaaa.png',
      '/uploads/',
      '/uploads/chat.db',
    ]) {
      const answer = await rawGet(server, attempt);
      expect({ attempt, status: answer.status }).toEqual({ attempt, status: 404 });
      expect(answer.text).not.toContain('SQLite format');
      expect(answer.text).not.toContain(SECRET);
      expect(answer.text).not.toContain('root:');
      expect(answer.text).not.toContain('    at ');
    }
  });

  it('a huge or malformed history limit is bad_frame and answers no page', async () => {
    const { alice, conv } = await threeUsers();
    const bad: unknown[] = [101, 1000, 1e9, 1e308, 0, -1, 2.5, '100', null, [], {}, true];
    for (const limit of bad) alice.socket.send({ type: 'history', conv, limit });
    await settle(alice.socket);
    const answers = seen(alice.socket);
    expect(answers).toHaveLength(bad.length);
    for (const frame of answers) expect(frame).toMatchObject({ type: 'error', code: 'bad_frame' });
    alice.socket.send({ type: 'history', conv, limit: 100 });
    expect((await alice.socket.next('history')).messages).toHaveLength(2);
  });
});
