/**
 * `/healthz` under attack 2 of issue 14: one user's 10 sockets stop reading and each sends
 * `history` (limit 100, of messages of 4,000 characters) every 10 ms for 5 s. Our server with its
 * default budgets (not the benchmark's relaxed ones); the round trip of `GET /healthz`, one after
 * another, with nothing else going on and then during the attack. Tests only check that /healthz
 * answers during the attack (server/test/hardening-sockets.test.ts); how fast is measured here.
 *
 * Run by bench/run.ts in its own process; prints its result as JSON on stdout.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { OUR_ENV, startServer } from '../lib/proc';

export interface Latency {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface AttackResult {
  quiet: Latency;
  attacked: Latency;
  /** `history` requests the attackers sent. */
  requests: number;
  attackSeconds: number;
}

const SOCKETS = 10;
const INTERVAL_MS = 10;
const ATTACK_MS = 5000;
const BODY = '满'.repeat(4000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every limit of the benchmark's settings back at the server's default (an empty value). */
const DEFAULT_LIMITS = Object.fromEntries(
  Object.keys(OUR_ENV)
    .filter((key) => /RATE|BURST|MAX_CONNECTIONS|BYTES_PER_DAY|HEARTBEAT/.test(key))
    .map((key) => [key, '']),
);

async function login(base: string, devId: string): Promise<{ token: string; user: { id: string } }> {
  const response = await fetch(`${base}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code: 'bench', devId }),
  });
  if (!response.ok) throw new Error(`login failed: ${response.status}`);
  return (await response.json()) as { token: string; user: { id: string } };
}

/** A socket of `token`; `stopReading` pauses its TCP side once the upgrade is through. */
function open(wsUrl: string, token: string, stopReading = false): Promise<WebSocket> {
  let tcp: net.Socket | undefined;
  const options: WebSocket.ClientOptions = {
    headers: { authorization: `Bearer ${token}` },
    createConnection: (connect) => (tcp = net.createConnection(connect as net.NetConnectOpts)),
  };
  const ws = new WebSocket(wsUrl, options);
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      if (stopReading) tcp?.pause();
      resolve(ws);
    });
    ws.once('error', reject);
  });
}

/** `/healthz` round trips, one after another, until `until()` says stop. */
async function probe(base: string, until: () => boolean): Promise<Latency> {
  const times: number[] = [];
  while (!until()) {
    const started = performance.now();
    const response = await fetch(`${base}/healthz`);
    await response.text();
    times.push(performance.now() - started);
    await sleep(20);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  return { count: times.length, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: times[times.length - 1] };
}

async function main(): Promise<void> {
  const server = await startServer('ours', { env: DEFAULT_LIMITS });
  const base = `http://127.0.0.1:${server.port}`;
  const wsUrl = `ws://127.0.0.1:${server.port}/ws`;
  try {
    const attacker = await login(base, `bench-attacker-${process.pid}`);
    const peer = await login(base, `bench-peer-${process.pid}`);
    // A conversation of 100 messages of the largest size: every page asked for is ~1.2 MB.
    const sender = await open(wsUrl, peer.token);
    let acked = 0;
    sender.on('message', (data: Buffer) => {
      if (data.toString().includes('"type":"ack"')) acked++;
    });
    for (let i = 0; i < 100; i++) {
      sender.send(JSON.stringify({ type: 'send', cid: `fill-${i}`, to: attacker.user.id, kind: 'text', body: BODY }));
    }
    for (let i = 0; i < 1000 && acked < 100; i++) await sleep(10);
    sender.close();
    const [a, b] = [attacker.user.id, peer.user.id].sort();
    const conv = `dm:${a}:${b}`;

    const quietUntil = performance.now() + 2000;
    const quiet = await probe(base, () => performance.now() > quietUntil);

    const flooders = await Promise.all(Array.from({ length: SOCKETS }, () => open(wsUrl, attacker.token, true)));
    let requests = 0;
    const started = performance.now();
    const attackUntil = started + ATTACK_MS;
    const attack = (async () => {
      while (performance.now() < attackUntil) {
        for (const ws of flooders) {
          if (ws.readyState !== WebSocket.OPEN) continue;
          ws.send(JSON.stringify({ type: 'history', conv, limit: 100 }));
          requests++;
        }
        await sleep(INTERVAL_MS);
      }
    })();
    const attacked = await probe(base, () => performance.now() > attackUntil);
    await attack;
    for (const ws of flooders) ws.terminate();
    const result: AttackResult = { quiet, attacked, requests, attackSeconds: (performance.now() - started) / 1000 };
    process.stdout.write(JSON.stringify(result));
  } finally {
    await server.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
