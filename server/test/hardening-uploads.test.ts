/**
 * Issue 14, the upload rows: a flood of uploads from one token (3), image bodies and avatars that
 * are not our uploads (7), a slow upload (11) and a broken multipart body (12). Each attack runs
 * against a real server while `chatStillWorks` shows two other people can still talk.
 */
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { tempDataDir } from '../../test/support/tmp';
import { useOwnServers, useSockets, useTestServer } from './support/fixture';
import { answerToHeadersOnly, rawAnswer, rawPost, type RawAnswer } from './support/http';
import {
  api,
  chatStillWorks,
  expectFailure,
  fullHistory,
  login,
  startTestServer,
  TINY_PNG,
  twoPeople,
  uploadImage,
  type TestServer,
} from './support/server';
import { waitFor } from './support/wait';

/** A PNG of exactly `size` bytes: the 1×1 image with junk after its end (still sniffed as PNG). */
function pngOfSize(size: number): Buffer {
  return Buffer.concat([TINY_PNG, Buffer.alloc(size - TINY_PNG.length, 0x41)]);
}

/** A multipart body with one file part, as wx.uploadFile sends it. */
function multipartBody(file: Buffer): { head: Buffer; tail: Buffer; contentType: string } {
  const boundary = `----WeChatFormBoundary${Math.random().toString(16).slice(2)}`;
  return {
    head: Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n` +
        'Content-Type: image/png\r\n\r\n',
    ),
    tail: Buffer.concat([file, Buffer.from(`\r\n--${boundary}--\r\n`)]),
    contentType: `multipart/form-data; boundary=${boundary}`,
  };
}

interface Answer {
  status: number;
  retryAfter: string | null;
  body: unknown;
}

/** POST /api/upload with a FormData body; the status, headers and JSON body. */
async function upload(server: { url: string }, token: string, bytes: Buffer = TINY_PNG): Promise<Answer> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(bytes)], { type: 'image/png' }), 'a.png');
  const response = await fetch(`${server.url}/api/upload`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  const text = await response.text();
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: text ? JSON.parse(text) : null,
  };
}

/** An upload request with `token`, a body of `contentType` and `contentLength` declared; nothing sent yet. */
function uploadRequest(
  server: TestServer,
  token: string,
  contentType: string,
  contentLength: number,
): http.ClientRequest {
  return rawPost(server.port, '/api/upload', {
    authorization: `Bearer ${token}`,
    'content-type': contentType,
    'content-length': contentLength,
  });
}

/** Sends an upload's headers and none of its body, and waits for the answer (a refusal before the body). */
function headersOnly(server: TestServer, token: string, contentLength: number): Promise<RawAnswer> {
  return answerToHeadersOnly(uploadRequest(server, token, multipartBody(TINY_PNG).contentType, contentLength));
}

/** The files in the server's uploads folder (temporary ones included), sorted. */
function uploadsListing(server: { dataDir: string }): string[] {
  return fs.readdirSync(path.join(server.dataDir, 'uploads')).sort();
}

function nameOf(url: string): string {
  return url.slice(url.lastIndexOf('/') + 1);
}

function devId(label: string): string {
  return `${label}-${Math.random().toString(36).slice(2, 10)}`;
}

describe('attack 3: a flood of uploads from one token', () => {
  const own = useOwnServers();
  const sockets = useSockets();

  it('refuses uploads past UPLOAD_RATE with 429 rate_limited and Retry-After, keeping nothing of them', async () => {
    const server = await own({ uploadRate: 3 });
    const { token } = await login(server.url, devId('flooder'));
    const before = uploadsListing(server);
    // The flood and a normal chat at the same time.
    const [answers] = await Promise.all([
      Promise.all(Array.from({ length: 12 }, () => upload(server, token))),
      chatStillWorks(server),
    ]);
    const taken = answers.filter((answer) => answer.status === 200);
    const refused = answers.filter((answer) => answer.status !== 200);
    expect(taken).toHaveLength(3);
    for (const answer of refused) {
      expectFailure(answer, 429, 'rate_limited');
      expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
    }
    // Only the taken ones are on disk: no temporary file, nothing of the refused ones.
    const added = uploadsListing(server).filter((name) => !before.includes(name));
    expect(added.sort()).toEqual(taken.map((answer) => nameOf((answer.body as { url: string }).url)).sort());
    // Per user: someone else uploads as usual.
    const other = await login(server.url, devId('bystander'));
    expect((await upload(server, other.token)).status).toBe(200);
  });

  it('refuses past UPLOAD_BYTES_PER_DAY with 413 quota_exceeded, before the body when the declared length says so, across restarts', async () => {
    const dataDir = tempDataDir();
    const settings = { dataDir, uploadBytesPerDay: 2500 };
    let server = await own(settings);
    const { token } = await login(server.url, devId('hoarder'));
    const file = pngOfSize(1000);
    // About 1200 bytes declared each (the file and its form): two fit in 2500, a third does not.
    const [first, second] = [await upload(server, token, file), await upload(server, token, file)];
    expect([first.status, second.status]).toEqual([200, 200]);
    const before = uploadsListing(server);
    const [third] = await Promise.all([upload(server, token, file), chatStillWorks(server)]);
    expect(expectFailure(third, 413, 'quota_exceeded')).toMatch(/a day/);
    // 600 bytes declared on top of 2000 stored: refused from the headers alone, the connection closed.
    expect(await headersOnly(server, token, 600)).toEqual({
      status: 413,
      connection: 'close',
      body: { error: { code: 'quota_exceeded', message: expect.any(String) } },
    });
    expect(uploadsListing(server)).toEqual(before);

    // Counted from the stored uploads, so another instance (here: the same data after a restart) agrees.
    await server.stop();
    server = await own(settings);
    expectFailure(await upload(server, token, file), 413, 'quota_exceeded');
    // A smaller file still fits the day's rest; another user has a quota of their own.
    expect((await upload(server, token, TINY_PNG)).status).toBe(200);
    const other = await login(server.url, devId('other'));
    expect((await upload(server, other.token, file)).status).toBe(200);
  });

  it('deletes an upload nothing refers to once UPLOAD_GRACE_S has passed, file and row, and keeps the used ones', async () => {
    const dataDir = tempDataDir();
    const first = await own({ dataDir });
    const { alice, bob } = await twoPeople(first, sockets);
    const unused = await uploadImage(first.url, alice.token);
    const sent = await uploadImage(first.url, alice.token);
    const avatar = await uploadImage(first.url, alice.token);
    alice.socket.send({ type: 'send', cid: 'kept', to: bob.id, kind: 'image', body: sent });
    await alice.socket.next('ack', (ack) => ack.cid === 'kept');
    expect((await api(first.url, 'PUT', '/api/profile', { token: alice.token, json: { avatar } })).status).toBe(200);
    await first.stop();

    // The same data with no grace at all: the sweep at start removes what nothing used.
    const second = await own({ dataDir, uploadGraceS: 0 });
    await Promise.all([
      waitFor(() => !uploadsListing(second).includes(nameOf(unused)), 'the unused upload to go'),
      chatStillWorks(second),
    ]);
    expect(uploadsListing(second)).toEqual([nameOf(sent), nameOf(avatar)].sort());
    expect((await fetch(`${second.url}/uploads/${nameOf(unused)}`)).status).toBe(404);
    expect((await fetch(`${second.url}/uploads/${nameOf(sent)}`)).status).toBe(200);
    // Its row went with it: it can no longer be sent.
    const again = await twoPeople(second, sockets);
    again.alice.socket.send({
      type: 'send',
      cid: 'gone',
      to: again.bob.id,
      kind: 'image',
      body: `${second.url}/uploads/${nameOf(unused)}`,
    });
    expect(await again.alice.socket.next('error', (error) => error.ref === 'gone')).toMatchObject({
      code: 'bad_frame',
    });
  });
});

describe('attack 3: the sweep while the server runs', () => {
  const server = useTestServer({ uploadGraceS: 1 });

  it('removes an upload nothing used once its grace has passed, without a restart', async () => {
    const { token } = await login(server.url, devId('forgetful'));
    const url = await uploadImage(server.url, token);
    expect(uploadsListing(server)).toContain(nameOf(url));
    await Promise.all([
      waitFor(() => !uploadsListing(server).includes(nameOf(url)), 'the sweep to remove it'),
      chatStillWorks(server),
    ]);
    expect((await fetch(url)).status).toBe(404);
  });
});

describe('attack 7: image bodies and avatars that are not our uploads', () => {
  const server = useTestServer();
  const sockets = useSockets();

  it('stores an image body that names a real upload under another host as our own URL', async () => {
    const { alice, bob, conv } = await twoPeople(server, sockets);
    const url = await uploadImage(server.url, alice.token);
    const evil = `http://evil.example/uploads/${nameOf(url)}`;
    const ours = `${server.url}/uploads/${nameOf(url)}`;
    const [, delivered] = await Promise.all([
      chatStillWorks(server),
      (async () => {
        alice.socket.send({ type: 'send', cid: 'evil-host', to: bob.id, kind: 'image', body: evil });
        await alice.socket.next('ack', (ack) => ack.cid === 'evil-host');
        return bob.socket.next('message', (message) => message.cid === 'evil-host');
      })(),
    ]);
    expect(delivered).toMatchObject({ kind: 'image', body: ours });
    const [stored] = await fullHistory(bob.socket, conv);
    expect(stored).toMatchObject({ cid: 'evil-host', body: ours });
  });

  it('refuses with bad_frame a name that was never uploaded, and any body that is no upload URL', async () => {
    const { alice, bob, conv } = await twoPeople(server, sockets);
    const bodies = [
      `${server.url}/uploads/AAAAAAAAAAAAAAAAAAAAAAAA.png`,
      'http://evil.example/uploads/AAAAAAAAAAAAAAAAAAAAAAAA.png',
      'javascript:alert(1)',
      `data:image/png;base64,${TINY_PNG.toString('base64')}`,
      'https://example.com/p.png',
    ];
    await Promise.all([
      chatStillWorks(server),
      (async () => {
        for (const [i, body] of bodies.entries()) {
          alice.socket.send({ type: 'send', cid: `bad-${i}`, to: bob.id, kind: 'image', body });
          expect(await alice.socket.next('error', (error) => error.ref === `bad-${i}`)).toMatchObject({
            code: 'bad_frame',
          });
        }
      })(),
    ]);
    expect(await fullHistory(alice.socket, conv)).toEqual([]);
  });

  it('takes an avatar only as one of our uploads (stored as our URL) or "", and refuses javascript:, data: and foreign URLs with 400', async () => {
    const { token, user } = await login(server.url, devId('avatar'));
    const url = await uploadImage(server.url, token);
    const put = (avatar: string) => api(server.url, 'PUT', '/api/profile', { token, json: { avatar } });
    const [refusals] = await Promise.all([
      Promise.all([
        put('javascript:alert(1)'),
        put(`data:image/png;base64,${TINY_PNG.toString('base64')}`),
        put('http://evil.example/a.png'),
        put(`${server.url}/uploads/AAAAAAAAAAAAAAAAAAAAAAAA.png`),
      ]),
      chatStillWorks(server),
    ]);
    for (const refusal of refusals) expectFailure(refusal, 400, 'bad_request');
    expect((await api(server.url, 'GET', '/api/me', { token })).body).toEqual(user);

    const taken = await put(`http://evil.example/uploads/${nameOf(url)}`);
    expect(taken).toMatchObject({ status: 200, body: { avatar: `${server.url}/uploads/${nameOf(url)}` } });
    expect(await put('')).toMatchObject({ status: 200, body: { avatar: '' } });
  });
});

describe('attack 7 with PUBLIC_URL: only that origin', () => {
  const PUBLIC = 'https://chat.example.com';
  const server = useTestServer({ publicUrl: PUBLIC });
  const sockets = useSockets();

  it('takes URLs under PUBLIC_URL and refuses the same upload under any other origin', async () => {
    const { alice, bob } = await twoPeople(server, sockets);
    const url = await uploadImage(server.url, alice.token);
    expect(url).toBe(`${PUBLIC}/uploads/${nameOf(url)}`);
    alice.socket.send({ type: 'send', cid: 'public', to: bob.id, kind: 'image', body: url });
    expect(await bob.socket.next('message', (message) => message.cid === 'public')).toMatchObject({ body: url });
    for (const [i, body] of [
      `${server.url}/uploads/${nameOf(url)}`,
      `http://chat.example.com/uploads/${nameOf(url)}`,
    ].entries()) {
      alice.socket.send({ type: 'send', cid: `elsewhere-${i}`, to: bob.id, kind: 'image', body });
      expect(await alice.socket.next('error', (error) => error.ref === `elsewhere-${i}`)).toMatchObject({
        code: 'bad_frame',
      });
    }
    await chatStillWorks(server);
  });
});

describe('attack 11: a slow upload', () => {
  const FLOOR = 2048;
  const server = useTestServer({ uploadMinBytesPerS: FLOOR, uploadPaceWindowMs: 300 });

  it('cuts an upload slower than UPLOAD_MIN_BYTES_PER_S after its first window: 408 too_slow, connection closed, no file', async () => {
    const { token } = await login(server.url, devId('trickle'));
    const before = uploadsListing(server);
    const { head, tail, contentType } = multipartBody(pngOfSize(64 * 1024));
    const outcome = new Promise<{ status: number; body: unknown; closed: Promise<void> }>((resolve, reject) => {
      const request = uploadRequest(server, token, contentType, head.length + tail.length);
      const closed = new Promise<void>((done) => request.on('close', () => done()));
      let answered = false;
      request.on('response', () => (answered = true));
      rawAnswer(request).then(({ status, body }) => resolve({ status, body, closed }), reject);
      request.write(head);
      // One byte every 20 ms: 50 bytes a second, far below the floor. Bounded: 500 bytes (10 s),
      // then the rest at once, so a server without a floor answers too (and the test fails).
      let sent = 0;
      const drip = setInterval(() => {
        if (answered || request.destroyed || sent >= 500) {
          clearInterval(drip);
          if (!answered && !request.destroyed) request.end(tail.subarray(sent));
          return;
        }
        request.write(tail.subarray(sent, sent + 1));
        sent++;
      }, 20);
    });
    const [answer] = await Promise.all([outcome, chatStillWorks(server)]);
    expect({ status: answer.status, body: answer.body }).toEqual({
      status: 408,
      body: { error: { code: 'too_slow', message: expect.any(String) } },
    });
    await answer.closed;
    await waitFor(() => uploadsListing(server).join() === before.join(), 'the temporary file to go');
    // A normal upload right after is not judged by the slow one.
    expect((await upload(server, token)).status).toBe(200);
  });
});

describe('attack 12: a broken multipart', () => {
  const server = useTestServer();

  it('answers 400 bad_request (not 500) to a multipart type with the body `garbage`, and keeps nothing', async () => {
    const { token } = await login(server.url, devId('garbage'));
    const before = uploadsListing(server);
    const send = (contentType: string) =>
      api(server.url, 'POST', '/api/upload', { token, raw: 'garbage', headers: { 'content-type': contentType } });
    const [withBoundary, withoutBoundary] = await Promise.all([
      send('multipart/form-data; boundary=----x'),
      send('multipart/form-data'),
      chatStillWorks(server),
    ]);
    expectFailure(withBoundary, 400, 'bad_request');
    expectFailure(withoutBoundary, 400, 'bad_request');
    expect(uploadsListing(server)).toEqual(before);
  });
});

describe('attack 12: an aborted upload', () => {
  let server: TestServer | undefined;
  const lines: Array<{ level: number; msg: string }> = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line));
        done();
      },
    });
    server = await startTestServer({ logLevel: 'info' }, pino({ level: 'info' }, sink));
  });
  afterAll(() => server?.stop());

  it('is logged at info, never as an error, and leaves no file', async () => {
    const running = server as TestServer;
    const { token } = await login(running.url, devId('quitter'));
    const before = uploadsListing(running);
    const { head, tail, contentType } = multipartBody(pngOfSize(64 * 1024));
    const request = uploadRequest(running, token, contentType, head.length + tail.length);
    request.on('error', () => {});
    request.write(Buffer.concat([head, tail.subarray(0, 8 * 1024)]));
    // Gone mid-body, once the server is writing the file.
    await waitFor(() => uploadsListing(running).some((name) => name.startsWith('.upload-')), 'the upload to begin');
    request.destroy();
    await chatStillWorks(running);
    await waitFor(() => lines.some((line) => /upload aborted/.test(line.msg)), 'the abort in the log');
    expect(lines.find((line) => /upload aborted/.test(line.msg))?.level).toBe(30);
    expect(lines.filter((line) => line.level >= 50)).toEqual([]);
    await waitFor(() => uploadsListing(running).join() === before.join(), 'the temporary file to go');
  });
});
