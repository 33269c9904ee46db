/**
 * Fuzzing the server's edge: a seeded generator of random and mutated client frames (wrong types,
 * huge strings, deep nesting, binary frames, invalid UTF-8, control characters, `__proto__` keys,
 * numbers out of range, every wrong kind of `seq`/`limit`/`before`) thrown at the real server
 * process over several connections, while a control pair keeps chatting. The server must answer
 * an `error` (or a legitimate answer) or close with a documented code (1007, 1009), never crash,
 * keep its memory bounded, and the control pair's messages must all be acked and delivered.
 *
 * `FUZZ_SEED` replays a run; `FUZZ_FRAMES` changes its size (default 10000).
 */
import { startServerProcess, type ServerProcess } from '../../test/support/server-process';
import type { LoginResponse } from '../../contract/http';
import { readMetrics, settle, TestSocket } from './support/server';
import { sleep } from './support/wait';
import { seeded as prng } from '../../test/support/fixtures';

const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const FRAMES = Number(process.env.FUZZ_FRAMES ?? 10000);
const PER_CONNECTION = 100;
const PARALLEL = 6;
const MAX_FRAME = 65_536;
const SERVER_TYPES = new Set([
  'pong',
  'ack',
  'message',
  'sessions',
  'synced',
  'history',
  'states',
  'typing',
  'presence',
  'error',
]);
const ERROR_CODES = new Set(['bad_frame', 'unknown_type', 'forbidden', 'not_found']);

/** One thing to put on the wire; `closes` = the documented close code it must cause. */
interface Shot {
  data: string | Buffer;
  binary?: boolean;
  closes?: number;
  what: string;
}

function generator(random: () => number, userIds: string[], conv: string) {
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)];
  const controlChars = () => Array.from({ length: 1 + int(20) }, () => String.fromCharCode(int(32))).join('');
  const strangeStrings = [
    '',
    ' ',
    '\u0000',
    '\uffff',
    '\ud800',
    '\u202e',
    '💬'.repeat(50),
    '__proto__',
    'constructor',
    'prototype',
    'dm:',
    'dm:a:b',
    '../../etc/passwd',
    '%00',
    '<script>',
    "' OR 1=1 --",
  ];
  const badNumbers: unknown[] = [-1, 0, 1.5, 1e308, -1e308, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e-300, 4294967297];
  const wrongKinds: unknown[] = [null, true, false, '1', '', [], [1], {}, { a: 1 }, ...badNumbers];
  const anyValue = (): unknown => {
    switch (int(6)) {
      case 0:
        return pick(wrongKinds);
      case 1:
        return pick(strangeStrings);
      case 2:
        return controlChars();
      case 3:
        return 'x'.repeat(int(5000));
      case 4:
        return pick(userIds);
      default:
        return conv;
    }
  };
  const types = ['ping', 'sync', 'send', 'history', 'read', 'typing', 'pong', 'message', 'ack', 'PING', '', 'sync '];
  const valid = (): Record<string, unknown> => {
    switch (int(6)) {
      case 0:
        return { type: 'send', cid: `f${int(1e9)}`, to: pick(userIds), kind: 'text', body: 'fuzz' };
      case 1:
        return { type: 'send', cid: `f${int(1e9)}`, conv, kind: pick(['text', 'image']), body: 'fuzz' };
      case 2:
        return { type: 'history', conv, before: 5, limit: 10 };
      case 3:
        return { type: 'read', conv, seq: 1 };
      case 4:
        return { type: 'sync', cursors: { [conv]: 0 } };
      default:
        return { type: 'typing', conv };
    }
  };

  /** A frame of the protocol with one or more fields mutated. */
  const mutated = (): Shot => {
    const frame = valid();
    const keys = [...Object.keys(frame), 'seq', 'limit', 'before', 'cursors', 'epoch', 'to', 'conv', 'extra'];
    for (let i = 0, n = 1 + int(3); i < n; i++) {
      const key = pick(keys);
      if (random() < 0.15) delete frame[key];
      else frame[key] = key === 'cursors' && random() < 0.5 ? { [String(anyValue())]: pick(wrongKinds) } : anyValue();
    }
    return { data: JSON.stringify(frame), what: 'mutated' };
  };

  const shots: Array<() => Shot> = [
    mutated,
    mutated,
    mutated,
    () => ({ data: JSON.stringify({ ...valid(), type: pick(types) }), what: 'type' }),
    () => ({ data: JSON.stringify(pick(wrongKinds)), what: 'not an object' }),
    () => ({
      data: pick(['', '{', '}', '{"type":', 'NaN', 'Infinity', 'undefined', '{"type":"ping",}', 'ping ', 'PING']),
      what: 'not JSON',
    }),
    () => {
      const key = pick(['__proto__', 'constructor', 'prototype']);
      const inner = `{"type":"send","cid":"x","to":"${pick(userIds)}","kind":"text","body":"hi"}`;
      const text = pick([
        `{"type":"sync","cursors":{"${key}":1}}`,
        `{"type":"sync","cursors":{"${key}":{"polluted":1}}}`,
        `{"${key}":{"type":"ping","isAdmin":true},"type":"history","conv":"${conv}"}`,
        `{"type":"send","cid":"p${int(1e6)}","conv":"${conv}","kind":"text","body":"x","${key}":{"from":"admin"}}`,
        `{"type":"${key}"}`,
        `{"${key}":${inner}}`,
      ]);
      return { data: text, what: 'prototype keys' };
    },
    () => {
      const depth = 100 + int(14_000);
      const open = pick(['[', '{"a":']);
      const close = open === '[' ? ']' : '}';
      const text = `{"type":"sync","cursors":${open.repeat(depth)}1${close.repeat(depth)}}`;
      return text.length > MAX_FRAME
        ? { data: text, closes: 1009, what: 'deep nesting (too big)' }
        : { data: text, what: 'deep nesting' };
    },
    () => {
      const size = MAX_FRAME - 200 - int(1000);
      return {
        data: JSON.stringify({ type: 'send', cid: 'big', to: pick(userIds), kind: 'text', body: 'y'.repeat(size) }),
        what: 'huge string',
      };
    },
    () => ({
      data: JSON.stringify({ type: 'history', conv: controlChars() + 'x'.repeat(int(300)), limit: pick(wrongKinds) }),
      what: 'control characters',
    }),
    () => ({ data: Buffer.from(Array.from({ length: int(200) }, () => int(256))), binary: true, what: 'binary' }),
    () => ({ data: Buffer.from(JSON.stringify({ type: 'ping' })), binary: true, what: 'binary JSON' }),
    () => ({
      data: JSON.stringify({
        type: 'send',
        cid: pick(wrongKinds),
        to: pick(userIds),
        kind: pick(wrongKinds),
        body: anyValue(),
      }),
      what: 'send kinds',
    }),
    () => ({ data: JSON.stringify({ type: 'read', conv, seq: pick(wrongKinds) }), what: 'seq kinds' }),
    () => ({
      data: JSON.stringify({ type: 'history', conv, before: pick(wrongKinds), limit: pick(wrongKinds) }),
      what: 'before/limit kinds',
    }),
  ];
  const closers: Array<() => Shot> = [
    () => ({
      data: Buffer.from([0x7b, 0x22, 0x74, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d]),
      binary: false,
      closes: 1007,
      what: 'invalid UTF-8',
    }),
    () => ({
      data: Buffer.from('{"type":"ping","x":"\xed\xa0\x80"}', 'latin1'),
      binary: false,
      closes: 1007,
      what: 'UTF-8 surrogate',
    }),
    () => ({
      data: JSON.stringify({ type: 'ping', pad: 'z'.repeat(MAX_FRAME + int(10_000)) }),
      closes: 1009,
      what: 'over 64 KiB',
    }),
  ];
  return { next: () => pick(shots)(), closer: () => pick(closers)() };
}

async function login(url: string, devId: string): Promise<LoginResponse> {
  const response = await fetch(`${url}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code: 'fuzz', devId }),
  });
  if (!response.ok) throw new Error(`login failed: ${response.status}`);
  return (await response.json()) as LoginResponse;
}

async function rss(url: string): Promise<number> {
  const bytes = (await readMetrics(url)).get('process_resident_memory_bytes');
  if (bytes === undefined) throw new Error('no process_resident_memory_bytes in /metrics');
  return bytes;
}

describe(`fuzzing the server's edge (FUZZ_SEED=${SEED})`, () => {
  let server: ServerProcess;

  beforeAll(async () => {
    console.log(`fuzz: FUZZ_SEED=${SEED} FUZZ_FRAMES=${FRAMES}`);
    server = await startServerProcess({
      env: {
        TOKEN_SECRET: 'fuzz-secret',
        SEND_RATE: '100000',
        SEND_BURST: '100000',
        FRAME_RATE: '100000',
        FRAME_BURST: '100000',
        // The fuzzer sends far more than a person; budgets are not what it checks.
        REQUEST_RATE: '100000',
        REQUEST_BURST: '100000',
        USER_REQUEST_RATE: '100000',
        USER_REQUEST_BURST: '100000',
        USER_SEND_RATE: '100000000',
        USER_SEND_BURST: '100000000',
        TYPING_RATE: '100000',
        TYPING_BURST: '100000',
      },
    });
  });
  afterAll(async () => {
    await server?.kill();
  });

  it('answers every frame with an error or a documented close, never crashes, memory bounded, chat goes on', async () => {
    const wsUrl = `ws://127.0.0.1:${server.port}/ws`;
    const started = Date.now();
    const random = prng(SEED);
    const alice = await login(server.url, 'fuzz-control-alice');
    const bob = await login(server.url, 'fuzz-control-bob');
    const fuzzer = await login(server.url, 'fuzz-attacker-1');
    const aliceSocket = await TestSocket.open(wsUrl, alice.token);
    const bobSocket = await TestSocket.open(wsUrl, bob.token);
    const userIds = [alice.user.id, bob.user.id, fuzzer.user.id, 'uAAAAAAAAAAAA', 'nobody'];
    const conv = `dm:${[alice.user.id, bob.user.id].sort().join(':')}`;
    const gen = generator(random, userIds, conv);

    // Warm up, then the baseline.
    await settle(aliceSocket, bobSocket);
    const before = await rss(server.url);

    // The control pair chats during the whole run.
    let chatting = true;
    let sent = 0;
    const control = (async () => {
      while (chatting && sent < 2000) {
        aliceSocket.send({
          type: 'send',
          cid: `control-${sent}`,
          to: bob.user.id,
          kind: 'text',
          body: `control ${sent}`,
        });
        sent++;
        await sleep(50);
      }
    })();

    const counts = {
      frames: 0,
      errors: 0,
      answers: 0,
      closes: { 1007: 0, 1009: 0 } as Record<number, number>,
      connections: 0,
    };
    const failures: string[] = [];
    const connections = Math.ceil(FRAMES / PER_CONNECTION);
    let nextConnection = 0;

    async function oneConnection(): Promise<void> {
      const socket = await TestSocket.open(wsUrl, fuzzer.token);
      counts.connections++;
      const closer = random() < 0.5 ? gen.closer() : null;
      const shots = Array.from({ length: PER_CONNECTION - (closer ? 1 : 0) }, () => gen.next());
      const closingShot = shots.find((shot) => shot.closes) ?? closer;
      const plain = shots.filter((shot) => !shot.closes);
      for (const shot of plain) {
        socket.ws.send(shot.data, { binary: shot.binary ?? false });
        counts.frames++;
      }
      // Every plain frame gets its answer before the pong: the server handles frames in order.
      const pong = socket.next('pong', () => true, 10_000);
      socket.send({ type: 'ping' });
      await pong;
      for (const frame of socket.frames) {
        if (!SERVER_TYPES.has(frame.type)) failures.push(`unknown server frame ${JSON.stringify(frame).slice(0, 200)}`);
        if (frame.type === 'error') {
          counts.errors++;
          if (!ERROR_CODES.has(frame.code)) failures.push(`error code ${frame.code}`);
        } else counts.answers++;
      }
      if (closingShot) {
        socket.ws.send(closingShot.data, { binary: closingShot.binary ?? false });
        counts.frames++;
        const { code } = await socket.closed;
        if (code !== closingShot.closes)
          failures.push(`${closingShot.what}: closed with ${code}, expected ${closingShot.closes}`);
        else counts.closes[code]++;
      } else {
        socket.ws.close();
        await socket.closed;
      }
    }

    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        while (nextConnection < connections) {
          nextConnection++;
          await oneConnection();
        }
      }),
    );
    chatting = false;
    await control;

    // Every control message acked and delivered, in order, once.
    const deadline = Date.now() + 10_000;
    const acks = () => aliceSocket.frames.filter((frame) => frame.type === 'ack').length;
    const delivered = () => bobSocket.frames.filter((frame) => frame.type === 'message' && frame.conv === conv);
    while ((acks() < sent || delivered().length < sent) && Date.now() < deadline) await sleep(20);
    expect(acks()).toBe(sent);
    const bodies = delivered().map((frame) => (frame.type === 'message' ? frame.body : ''));
    expect(bodies).toEqual(Array.from({ length: sent }, (_, i) => `control ${i}`));
    expect(sent).toBeGreaterThan(2);

    expect(failures).toEqual([]);
    expect(server.child.exitCode).toBeNull();
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const after = await rss(server.url);

    console.log(
      `fuzz: seed ${SEED}: ${counts.frames} frames on ${counts.connections} connections in ${Date.now() - started} ms; ` +
        `${counts.errors} errors, ${counts.answers} other answers, closes 1007×${counts.closes[1007]} 1009×${counts.closes[1009]}; ` +
        `control ${sent} sent/acked/delivered; RSS ${(before / 2 ** 20).toFixed(1)} → ${(after / 2 ** 20).toFixed(1)} MiB`,
    );
    expect(counts.frames).toBeGreaterThanOrEqual(FRAMES * 0.95);
    expect(counts.errors).toBeGreaterThan(FRAMES / 2);
    expect(after - before).toBeLessThan(150 * 2 ** 20);
    aliceSocket.close();
    bobSocket.close();
  }, 60_000);
});
