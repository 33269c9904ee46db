/**
 * Voice messages (docs/protocol.md, "Voice"): audio uploads by content (AAC in ADTS, M4A, MP3), their
 * size and length limits, the per-user upload limits they count toward, serving them with their
 * type and byte ranges; and `send` with `kind: "voice"`, checked against the length read at upload,
 * carried with its `duration` by `message`, `history`, `sync` and the session list. The uploads run
 * on SQLite; the sends on SQLite, and on PostgreSQL when DATABASE_URL is set.
 *
 * The recordings in fixtures/audio/ are real files (2.5 s of a tone, mono, 16 kbit/s; a 65 s MP3 of
 * silence): see fixtures/audio/README.md.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { directConversationId } from '../../contract/conversations';
import { isDirectSession, type ServerFrameOf } from '../../contract/frames';
import type { ServerConfig } from '../src/config';
import { looksLikeAudio, readAudio, sniffAudio } from '../src/http/upload-audio';
import { byteRange } from '../src/http/uploads';
import { useOwnServers, useTestServer } from './support/fixture';
import { waitFor } from './support/wait';
import { DATABASE_URL, dropSchema, newSchemaName, warnSkipped } from './support/services';
import {
  expectFailure,
  fullHistory,
  login,
  settle,
  TINY_PNG,
  uploadImage,
  type Person,
  type TestSocket,
} from './support/server';

const FIXTURES = path.join(__dirname, 'fixtures', 'audio');
const read = (name: string) => fs.readFileSync(path.join(FIXTURES, name));

/** The three accepted containers: a 2.5 s recording each (the real length a little over: encoder padding). */
const VOICES = {
  aac: { bytes: read('voice.aac'), type: 'audio/aac' },
  m4a: { bytes: read('voice.m4a'), type: 'audio/mp4' },
  mp3: { bytes: read('voice.mp3'), type: 'audio/mpeg' },
} as const;
type Container = keyof typeof VOICES;
const CONTAINERS = Object.keys(VOICES) as Container[];

/** 65 s of silence as MP3: longer than any voice message. */
const LONG_MP3 = read('long-65s.mp3');

/** About 69 s of AAC: ADTS frames simply follow each other, so 27 copies of the recording make one stream. */
const LONG_AAC = Buffer.concat(Array.from({ length: 27 }, () => VOICES.aac.bytes));

/** The MP3 recording without its leading ID3v2 tag: a bare MPEG frame sync at byte 0. */
function withoutId3(mp3: Buffer): Buffer {
  const size = (mp3[6] << 21) | (mp3[7] << 14) | (mp3[8] << 7) | mp3[9];
  return mp3.subarray(10 + size);
}

interface Answer {
  status: number;
  body: unknown;
}

/** POST /api/upload with a `FormData` body, as fetch sends it (the declared type and name are the client's). */
async function upload(baseUrl: string, token: string, bytes: Buffer, type: string, name: string): Promise<Answer> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(bytes)], { type }), name);
  const response = await fetch(`${baseUrl}/api/upload`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

async function uploadVoice(baseUrl: string, token: string, container: Container = 'aac'): Promise<string> {
  const { bytes, type } = VOICES[container];
  const answer = await upload(baseUrl, token, bytes, type, `voice.${container}`);
  if (answer.status !== 200) throw new Error(`upload failed: ${answer.status} ${JSON.stringify(answer.body)}`);
  return (answer.body as { url: string }).url;
}

/** A GET of an upload's path with these headers: status, headers and the body's bytes. */
function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }),
      );
      response.on('error', reject);
    });
    request.on('error', reject);
  });
}

function uploadsListing(dataDir: string): string[] {
  return fs.readdirSync(path.join(dataDir, 'uploads')).sort();
}

function devId(label: string): string {
  return `${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

describe('reading audio', () => {
  it.each(CONTAINERS)('sniffs a %s by its content and reads its real length', async (container) => {
    const { bytes } = VOICES[container];
    expect(sniffAudio(bytes)).toBe(container);
    expect(looksLikeAudio(bytes.subarray(0, 12))).toBe(true);
    const info = await readAudio(bytes);
    expect(info?.ext).toBe(container);
    // 2.5 s of tone; encoders add a frame or two of padding.
    expect(info?.durationMs).toBeGreaterThanOrEqual(2500);
    expect(info?.durationMs).toBeLessThan(2700);
  });

  it('takes an MP3 by its frame sync alone, without an ID3 tag', async () => {
    const bare = withoutId3(VOICES.mp3.bytes);
    expect(bare.subarray(0, 3).toString('latin1')).not.toBe('ID3');
    expect(sniffAudio(bare)).toBe('mp3');
    expect((await readAudio(bare))?.durationMs).toBeGreaterThanOrEqual(2500);
  });

  it('measures ADTS, which states no length, frame by frame, and long files whole', async () => {
    expect((await readAudio(LONG_AAC))?.durationMs).toBeGreaterThan(65_000);
    expect((await readAudio(LONG_MP3))?.durationMs).toBeGreaterThan(64_000);
  });

  it('names nothing else: images, text, a sync word followed by junk, an MP4 brand that is no audio', async () => {
    for (const bytes of [
      TINY_PNG,
      Buffer.from('ID3 but not really, just text'),
      Buffer.from('hello, this is no recording'),
      Buffer.alloc(64),
    ]) {
      expect(sniffAudio(bytes)).toBeUndefined();
      expect(await readAudio(bytes)).toBeUndefined();
    }
    const junkAfterSync = Buffer.concat([VOICES.aac.bytes.subarray(0, 7), Buffer.alloc(2000, 0x5a)]);
    expect(await readAudio(junkAfterSync)).toBeUndefined();
    const heic = Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypheic'), Buffer.alloc(200)]);
    expect(sniffAudio(heic)).toBeUndefined();
  });
});

describe('byteRange', () => {
  it('reads one range of a file of 1000 bytes', () => {
    expect(byteRange(undefined, 1000)).toBeUndefined();
    expect(byteRange('bytes=0-99', 1000)).toEqual({ start: 0, end: 99 });
    expect(byteRange('bytes=900-', 1000)).toEqual({ start: 900, end: 999 });
    expect(byteRange('bytes=-100', 1000)).toEqual({ start: 900, end: 999 });
    expect(byteRange('bytes=990-5000', 1000)).toEqual({ start: 990, end: 999 });
    expect(byteRange('bytes=-5000', 1000)).toEqual({ start: 0, end: 999 });
    expect(byteRange('bytes=1000-', 1000)).toBe('unsatisfiable');
    expect(byteRange('bytes=-0', 1000)).toBe('unsatisfiable');
    // Several ranges, a reversed one, another unit, junk: the whole file.
    for (const header of ['bytes=0-1,5-6', 'bytes=10-5', 'items=0-1', 'bytes=', 'bytes=a-b']) {
      expect(byteRange(header, 1000)).toBeUndefined();
    }
  });
});

describe('audio uploads', () => {
  const server = useTestServer();
  let token: string;

  beforeAll(async () => {
    token = (await login(server.url, devId('speaker'))).token;
  });

  it.each(CONTAINERS)('takes a %s by content and serves it back with its audio type', async (container) => {
    const { bytes } = VOICES[container];
    // Declared as something else entirely, under another name: the content decides.
    const answer = await upload(server.url, token, bytes, 'application/octet-stream', 'recording.bin');
    expect(answer.status).toBe(200);
    const { url } = answer.body as { url: string };
    expect(url).toMatch(new RegExp(`^${server.url}/uploads/[A-Za-z0-9_-]{16,64}\\.${container}$`));
    const response = await get(url);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe({ aac: 'audio/aac', m4a: 'audio/mp4', mp3: 'audio/mpeg' }[container]);
    expect(response.headers['accept-ranges']).toBe('bytes');
    expect(response.headers['content-length']).toBe(String(bytes.length));
    expect(response.body.equals(bytes)).toBe(true);
  });

  it("answers a range request with 206 and Content-Range, as WeChat's player asks", async () => {
    const url = await uploadVoice(server.url, token, 'mp3');
    const { bytes } = VOICES.mp3;
    const first = await get(url, { range: 'bytes=0-99' });
    expect(first.status).toBe(206);
    expect(first.headers['content-range']).toBe(`bytes 0-99/${bytes.length}`);
    expect(first.headers['content-length']).toBe('100');
    expect(first.headers['content-type']).toBe('audio/mpeg');
    expect(first.body.equals(bytes.subarray(0, 100))).toBe(true);

    const rest = await get(url, { range: 'bytes=100-' });
    expect(rest.status).toBe(206);
    expect(rest.headers['content-range']).toBe(`bytes 100-${bytes.length - 1}/${bytes.length}`);
    expect(Buffer.concat([first.body, rest.body]).equals(bytes)).toBe(true);

    const tail = await get(url, { range: 'bytes=-10' });
    expect(tail.status).toBe(206);
    expect(tail.body.equals(bytes.subarray(bytes.length - 10))).toBe(true);

    const past = await get(url, { range: `bytes=${bytes.length}-` });
    expect(past.status).toBe(416);
    expect(past.headers['content-range']).toBe(`bytes */${bytes.length}`);
    expect(JSON.parse(past.body.toString())).toEqual({
      error: { code: 'range_not_satisfiable', message: expect.any(String) },
    });

    // An If-Range that is not this file's ETag: the whole file.
    const stale = await get(url, { range: 'bytes=0-99', 'if-range': '"something-else"' });
    expect(stale.status).toBe(200);
    expect(stale.body.equals(bytes)).toBe(true);
    const current = await get(url, { range: 'bytes=0-99', 'if-range': first.headers.etag ?? '' });
    expect(current.status).toBe(206);
  });

  it('serves images in ranges too', async () => {
    const url = await uploadImage(server.url, token);
    const part = await get(url, { range: 'bytes=0-7' });
    expect(part.status).toBe(206);
    expect(part.headers['content-type']).toBe('image/png');
    expect(part.body.equals(TINY_PNG.subarray(0, 8))).toBe(true);
  });

  it('refuses wrong content named and typed as audio with 415, keeping nothing', async () => {
    const before = uploadsListing(server.dataDir);
    const junkAfterSync = Buffer.concat([VOICES.aac.bytes.subarray(0, 7), Buffer.alloc(3000, 0x5a)]);
    for (const [bytes, name] of [
      [Buffer.from('this is text, not a recording'), 'voice.mp3'],
      [Buffer.concat([Buffer.from('ID3'), Buffer.alloc(500, 0x7f)]), 'voice.mp3'],
      [junkAfterSync, 'voice.aac'],
      [Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypheic'), Buffer.alloc(500)]), 'voice.m4a'],
    ] as const) {
      const answer = await upload(server.url, token, bytes, 'audio/mpeg', name);
      expectFailure(answer, 415, 'unsupported_type');
    }
    expect(uploadsListing(server.dataDir)).toEqual(before);
  });

  it('refuses a recording longer than a voice message may be with 413 too_long, keeping nothing', async () => {
    const before = uploadsListing(server.dataDir);
    for (const [bytes, name] of [
      [LONG_MP3, 'long.mp3'],
      [LONG_AAC, 'long.aac'],
    ] as const) {
      const answer = await upload(server.url, token, bytes, 'audio/mpeg', name);
      expect(expectFailure(answer, 413, 'too_long')).toMatch(/60 s/);
    }
    expect(uploadsListing(server.dataDir)).toEqual(before);
  });
});

describe('the audio size limit and the per-user limits', () => {
  const own = useOwnServers();

  it('holds audio to UPLOAD_AUDIO_MAX_BYTES and images to UPLOAD_MAX_BYTES, each its own', async () => {
    const server = await own({ uploadAudioMaxBytes: 6000, uploadMaxBytes: 50_000 });
    const { token } = await login(server.url, devId('limits'));
    // 5619 and 5409 bytes: under the audio limit.
    expect((await upload(server.url, token, VOICES.aac.bytes, 'audio/aac', 'a.aac')).status).toBe(200);
    expect((await upload(server.url, token, VOICES.mp3.bytes, 'audio/mpeg', 'a.mp3')).status).toBe(200);
    const before = uploadsListing(server.dataDir);
    // 6303 bytes: over it, though far under the image limit.
    expectFailure(await upload(server.url, token, VOICES.m4a.bytes, 'audio/mp4', 'a.m4a'), 413, 'too_large');
    expect(uploadsListing(server.dataDir)).toEqual(before);
    // An image of 20 000 bytes is held to its own limit.
    const png = Buffer.concat([TINY_PNG, Buffer.alloc(20_000 - TINY_PNG.length, 0x41)]);
    expect((await upload(server.url, token, png, 'image/png', 'a.png')).status).toBe(200);
  });

  it('cuts an audio body off as soon as it passes UPLOAD_AUDIO_MAX_BYTES, though the image limit is larger', async () => {
    const server = await own({ uploadAudioMaxBytes: 8192, uploadMaxBytes: 5 * 1024 * 1024 });
    const { token } = await login(server.url, devId('cut'));
    const before = uploadsListing(server.dataDir);
    // About 150 KB of AAC, declared whole (under the image limit, so the body is read), sent slowly
    // enough that the server's answer comes long before the end.
    const boundary = 'voiceboundary';
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.aac"\r\n` +
        'Content-Type: audio/aac\r\n\r\n',
    );
    const body = Buffer.concat([head, LONG_AAC, Buffer.from(`\r\n--${boundary}--\r\n`)]);
    let written = 0;
    let answered = false;
    const outcome = await new Promise<string>((settle) => {
      const resolve = (text: string) => {
        answered = true;
        settle(text);
      };
      const request = http.request({
        host: '127.0.0.1',
        port: server.port,
        path: '/api/upload',
        method: 'POST',
        agent: false,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': body.length,
        },
      });
      request.on('response', (response) => resolve(`status ${response.statusCode}`));
      request.on('error', () => resolve('connection closed'));
      const pump = () => {
        if (answered || written >= body.length) return;
        request.write(body.subarray(written, written + 4096));
        written += 4096;
        setTimeout(pump, 5);
      };
      pump();
    });
    expect(['status 413', 'connection closed']).toContain(outcome);
    expect(written).toBeLessThan(body.length);
    await waitFor(() => uploadsListing(server.dataDir).join() === before.join(), 'the temporary file to go');
  });

  it('counts audio toward UPLOAD_RATE', async () => {
    const server = await own({ uploadRate: 2 });
    const { token } = await login(server.url, devId('rate'));
    await uploadVoice(server.url, token, 'aac');
    await uploadVoice(server.url, token, 'mp3');
    expectFailure(await upload(server.url, token, VOICES.m4a.bytes, 'audio/mp4', 'a.m4a'), 429, 'rate_limited');
  });

  it('counts audio toward UPLOAD_BYTES_PER_DAY', async () => {
    const server = await own({ uploadBytesPerDay: 12_000 });
    const { token } = await login(server.url, devId('quota'));
    // 5619 + 5409 bytes stored; 6303 more would pass 12 000.
    await uploadVoice(server.url, token, 'aac');
    await uploadVoice(server.url, token, 'mp3');
    expectFailure(await upload(server.url, token, VOICES.m4a.bytes, 'audio/mp4', 'a.m4a'), 413, 'quota_exceeded');
  });
});

type Answered = ServerFrameOf<'ack'> | ServerFrameOf<'error'>;

function answerTo(socket: TestSocket, cid: string): Promise<Answered> {
  return Promise.race<Answered>([
    socket.next('ack', (frame) => frame.cid === cid),
    socket.next('error', (frame) => frame.ref === cid),
  ]);
}

function voiceSuite(storeName: string, settings: () => Partial<ServerConfig>): void {
  describe(`voice messages on ${storeName}`, () => {
    const server = useTestServer(() => settings());
    let counter = 0;
    const cid = (label = 'v') => `${label}-${++counter}`;

    async function send(person: Person, to: string, fields: Record<string, unknown>): Promise<Answered> {
      const id = cid();
      person.socket.send({ type: 'send', cid: id, to, ...fields });
      return answerTo(person.socket, id);
    }

    /** Two people with a conversation (one text stored), so that "nothing stored" can be checked. */
    async function pair(): Promise<{ alice: Person; bob: Person; conv: string }> {
      const alice = await server.person();
      const bob = await server.person();
      expect(await send(alice, bob.id, { kind: 'text', body: 'hi' })).toMatchObject({ type: 'ack', seq: 1 });
      await bob.socket.next('message');
      return { alice, bob, conv: directConversationId(alice.id, bob.id) };
    }

    it.each(CONTAINERS)(
      'stores a %s voice message with its duration; message, history, sync and sessions carry it',
      async (container) => {
        const { alice, bob, conv } = await pair();
        const url = await uploadVoice(server.url, alice.token, container);
        const ack = await send(alice, bob.id, { kind: 'voice', body: url, duration: 3 });
        expect(ack).toMatchObject({ type: 'ack', conv, seq: 2 });

        const expected = { conv, seq: 2, from: alice.id, kind: 'voice', body: url, duration: 3 };
        expect(await bob.socket.next('message')).toMatchObject({ type: 'message', ...expected });
        expect((await fullHistory(bob.socket, conv))[1]).toMatchObject(expected);

        const phone = await bob.connect();
        phone.send({ type: 'sync', cursors: { [conv]: 1 } });
        const { sessions } = await phone.next('sessions');
        const entry = sessions.find((session) => session.conv === conv);
        expect(entry && isDirectSession(entry) ? entry.last : null).toMatchObject(expected);
        expect(await phone.next('message')).toMatchObject(expected);
        await phone.next('synced');
        phone.close();
      },
    );

    it('takes a duration within 1 s of the real length (2.5 s: 2 and 3), and refuses one further off with bad_frame, storing nothing', async () => {
      const { alice, bob, conv } = await pair();
      const url = await uploadVoice(server.url, alice.token, 'm4a');
      for (const duration of [1, 4, 60]) {
        const answer = await send(alice, bob.id, { kind: 'voice', body: url, duration });
        expect(answer).toMatchObject({ type: 'error', code: 'bad_frame', message: expect.stringMatching(/duration/) });
      }
      expect(await fullHistory(alice.socket, conv)).toHaveLength(1);
      expect(await send(alice, bob.id, { kind: 'voice', body: url, duration: 2 })).toMatchObject({ seq: 2 });
      expect(await send(alice, bob.id, { kind: 'voice', body: url, duration: 3 })).toMatchObject({ seq: 3 });
    });

    it('refuses an image sent as voice, and a recording sent as an image, with bad_frame, storing nothing', async () => {
      const { alice, bob, conv } = await pair();
      const image = await uploadImage(server.url, alice.token);
      const voice = await uploadVoice(server.url, alice.token, 'aac');
      expect(await send(alice, bob.id, { kind: 'voice', body: image, duration: 1 })).toMatchObject({
        type: 'error',
        code: 'bad_frame',
        message: expect.stringMatching(/audio/),
      });
      expect(await send(alice, bob.id, { kind: 'image', body: voice })).toMatchObject({
        type: 'error',
        code: 'bad_frame',
      });
      // Not an upload of ours at all.
      const elsewhere = `${server.url}/uploads/AAAAAAAAAAAAAAAAAAAAAAAA.mp3`;
      expect(await send(alice, bob.id, { kind: 'voice', body: elsewhere, duration: 2 })).toMatchObject({
        code: 'bad_frame',
      });
      expect(
        await send(alice, bob.id, { kind: 'voice', body: 'https://example.com/a.mp3', duration: 2 }),
      ).toMatchObject({
        code: 'bad_frame',
      });
      await settle(bob.socket);
      expect(await fullHistory(alice.socket, conv)).toHaveLength(1);
      expect(bob.socket.frames.filter((frame) => frame.type === 'message')).toEqual([]);
    });

    it('refuses a voice message without a whole duration from 1 to 60, and a duration on another kind', async () => {
      const { alice, bob, conv } = await pair();
      const url = await uploadVoice(server.url, alice.token, 'mp3');
      for (const fields of [
        { kind: 'voice', body: url },
        { kind: 'voice', body: url, duration: 0 },
        { kind: 'voice', body: url, duration: 61 },
        { kind: 'voice', body: url, duration: 2.5 },
        { kind: 'voice', body: url, duration: '2' },
        { kind: 'text', body: 'hello', duration: 2 },
      ]) {
        const id = cid('bad');
        alice.socket.send({ type: 'send', cid: id, to: bob.id, ...fields });
        expect(await alice.socket.next('error', (frame) => frame.code === 'bad_frame')).toMatchObject({
          code: 'bad_frame',
        });
      }
      expect(await fullHistory(alice.socket, conv)).toHaveLength(1);
    });

    it('quotes a voice message as [语音], and a recall takes its duration with it', async () => {
      const { alice, bob, conv } = await pair();
      const url = await uploadVoice(server.url, alice.token, 'aac');
      expect(await send(alice, bob.id, { kind: 'voice', body: url, duration: 3 })).toMatchObject({ seq: 2 });
      const answer = await send(bob, alice.id, { kind: 'text', body: 'heard it', reply: 2 });
      expect(answer).toMatchObject({ type: 'ack', seq: 3 });
      const history = await fullHistory(bob.socket, conv);
      expect(history[2].reply).toEqual({ seq: 2, from: alice.id, kind: 'voice', excerpt: '[语音]' });

      alice.socket.send({ type: 'recall', cid: 'recall-voice', conv, seq: 2 });
      expect(await answerTo(alice.socket, 'recall-voice')).toMatchObject({ type: 'ack' });
      const recalled = (await fullHistory(bob.socket, conv))[1];
      expect(recalled).toMatchObject({ seq: 2, kind: 'recalled', body: '' });
      expect(recalled.duration).toBeUndefined();
    });

    it('acks a resent voice cid with the same seq, storing it once', async () => {
      const { alice, bob, conv } = await pair();
      const url = await uploadVoice(server.url, alice.token, 'mp3');
      const frame = { type: 'send', cid: 'voice-again', to: bob.id, kind: 'voice', body: url, duration: 3 };
      alice.socket.send(frame);
      const first = await answerTo(alice.socket, 'voice-again');
      alice.socket.send(frame);
      const second = await answerTo(alice.socket, 'voice-again');
      expect(second).toEqual(first);
      expect(await fullHistory(alice.socket, conv)).toHaveLength(2);
    });
  });
}

voiceSuite('SQLite', () => ({}));

if (DATABASE_URL) {
  const url = DATABASE_URL;
  let schema = '';
  beforeAll(() => {
    schema = newSchemaName('voice');
  });
  afterAll(async () => {
    await dropSchema(url, schema);
  });
  voiceSuite('PostgreSQL', () => ({ databaseUrl: url, databaseSchema: schema }));
} else {
  warnSkipped('the voice message tests on PostgreSQL (server/test/voice.test.ts)', ['DATABASE_URL']);
}
