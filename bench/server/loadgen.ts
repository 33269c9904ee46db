/**
 * The load generator: its own process (forked by bench/run.ts, driven over the IPC channel), holding
 * every simulated user's connection to one server. Users are paired (0↔1, 2↔3, …) so every message
 * has exactly one recipient. The same message mix goes to every server: a `send` of a 100-character
 * text to the peer, with a cid that carries the sender's index and the time the send was due.
 *
 * Commands (see `Command`): `init`, `login` (our server: one HTTP login per user), `connect`,
 * `closed` (closed-loop throughput), `open` (open-loop latency at a fixed rate). Each answers once;
 * `closed`/`open` also announce when their measurement window opens and closes, so the parent can
 * sample the server's CPU over exactly that window.
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { io, type Socket as SioSocket } from 'socket.io-client';

/**
 * `ours-pg`: two instances of ours on PostgreSQL + Redis (users spread over both); `sio-durable`:
 * the Socket.IO tutorial's durable chat (acks); `bare-broadcast`: the group fan-out baseline.
 */
export type ServerKind =
  'ours' | 'bare' | 'sio' | 'sio-durable' | 'bare-broadcast' | 'ours-pg' | 'ours-writer-thread' | 'ours-tmpfs';

/** Ours, on one instance or two: the same protocol. */
export const isOurs = (kind: ServerKind): boolean => kind.startsWith('ours');

/**
 * Ours with one thing changed, measured beside ours: its SQLite writes in a worker thread
 * (`SQLITE_WRITER=thread`), or its data folder in memory (tmpfs: the disk's share of the cost).
 */
export const OUR_VARIANTS = ['ours-writer-thread', 'ours-tmpfs'] as const;

export type Command =
  | { cmd: 'init'; kind: ServerKind; port: number; ports?: number[] }
  | { cmd: 'groups'; groups: number; size: number }
  | { cmd: 'groupClosed'; senders: number; window: number; warmupMs: number; durationMs: number }
  | { cmd: 'login'; count: number }
  | { cmd: 'connect'; count: number }
  | { cmd: 'closed'; window: number; warmupMs: number; durationMs: number }
  | { cmd: 'open'; rate: number; warmupMs: number; durationMs: number };

export interface ClosedResult {
  connections: number;
  window: number;
  delivered: number;
  seconds: number;
  /** Delivered messages per second over the measurement window. */
  rate: number;
  /** Our server only: acks received over the window (should match `delivered`). */
  acks: number;
  errors: number;
  firstError?: string;
  /** Messages still outstanding when the drain after the window gave up. */
  undrained: number;
}

/** Group fan-out, closed loop: every delivery to a member counts (a message to 100 members is 99). */
export interface GroupResult {
  groups: number;
  size: number;
  /** Senders per group, and the messages each keeps outstanding. */
  senders: number;
  window: number;
  connections: number;
  /** Deliveries over the window, and per second. */
  delivered: number;
  seconds: number;
  rate: number;
  /** Messages whose every delivery arrived within the window. */
  completed: number;
  /** Ours only: acks received over the window. */
  acks: number;
  errors: number;
  firstError?: string;
  /** Messages still not delivered to every member when the drain after the window gave up. */
  undrained: number;
  /** Setting the groups up (logins, group creation, connections), seconds. */
  setupSeconds: number;
}

export interface OpenResult {
  connections: number;
  /** Offered rate, messages/s. */
  rate: number;
  /** Messages due in the measurement window, and how many of them arrived. */
  due: number;
  received: number;
  /** Delivered messages per second in the window. */
  achieved: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  errors: number;
  firstError?: string;
}

export type Reply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: string }
  | { id: number; event: 'window-open' | 'window-close' };

/** The message mix: one 100-character text. */
const BODY =
  'The quick brown fox jumps over the lazy dog; the chat server stores and relays every word. 0123456789'.slice(0, 100);
if (BODY.length !== 100) throw new Error('the benchmark body must be 100 characters');

interface User {
  index: number;
  peer: number;
  /** What the server calls this user: our server's user id, or the index for the relays. */
  wireId: string;
  token?: string;
  ws?: WebSocket;
  sio?: SioSocket;
  /** Group fan-out: the index of the user's group (its members are `group * size …`). */
  group?: number;
  /** The part of the send frame after the cid (fixed per user). */
  frameTail: string;
  counter: number;
  outstanding: number;
}

let kind: ServerKind = 'bare';
let port = 0;
/** Every instance's port: user i connects (and logs in) to `ports[i % ports.length]`. */
let ports: number[] = [];
/** sio-durable: the highest server offset seen, sent as `auth.serverOffset` by new connections. */
let serverOffset = 0;
/** Group fan-out: each outstanding message's cid and the deliveries it still waits for. */
const pendingGroup = new Map<string, number>();
let groupSize = 0;
let groupMode = false;
let completed = 0;
const users: User[] = [];

type Mode = 'idle' | 'closed' | 'open';
let mode: Mode = 'idle';
let running = false;
let windowOpen = 0;
let windowClose = Infinity;
let delivered = 0;
let acks = 0;
let errors = 0;
let firstError: string | undefined;
let latencies = new Float64Array(0);
let latencyCount = 0;

function reply(message: Reply): void {
  process.send?.(message);
}

function userFor(index: number): User {
  let user = users[index];
  if (!user) {
    user = { index, peer: index ^ 1, wireId: String(index), frameTail: '', counter: 0, outstanding: 0 };
    users[index] = user;
  }
  return user;
}

/** Runs `task` for every item with at most `limit` at once. */
async function pool<T>(items: T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

async function login(count: number): Promise<void> {
  const todo = Array.from({ length: count }, (_, i) => userFor(i)).filter((user) => !user.token);
  if (!isOurs(kind)) {
    for (const user of todo) user.token = '-';
    return;
  }
  await pool(todo, 16, async (user) => {
    const response = await fetch(`http://127.0.0.1:${portOf(user)}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: 'bench', devId: `bench-user-${String(user.index).padStart(6, '0')}` }),
    });
    if (!response.ok) throw new Error(`login ${user.index}: HTTP ${response.status} ${await response.text()}`);
    const body = (await response.json()) as { token: string; user: { id: string } };
    user.token = body.token;
    user.wireId = body.user.id;
  });
}

function portOf(user: User): number {
  return ports.length ? ports[user.index % ports.length] : port;
}

function recordError(text: string): void {
  errors++;
  firstError ??= text.slice(0, 200);
}

/** A message reached its recipient: `cid` is `<sender>-<counter>-<due time in ms>`. */
function deliveredCid(cid: string): void {
  if (groupMode) return deliveredToMember(cid);
  const now = performance.now();
  const first = cid.indexOf('-');
  const second = cid.indexOf('-', first + 1);
  const sender = users[Number(cid.slice(0, first))];
  const due = Number(cid.slice(second + 1));
  if (mode === 'closed') {
    sender.outstanding--;
    if (now >= windowOpen && now < windowClose) delivered++;
    if (running) sendNext(sender, now);
  } else if (mode === 'open') {
    sender.outstanding--;
    if (due >= windowOpen && due < windowClose) {
      if (latencyCount < latencies.length) latencies[latencyCount] = now - due;
      latencyCount++;
    }
  }
}

/**
 * Group fan-out: one member got a message. The sender's message is complete (and the sender sends
 * its next) when every other member got it. Anything else (a system message) is not ours to count.
 */
function deliveredToMember(cid: string): void {
  const left = pendingGroup.get(cid);
  if (left === undefined) return;
  const now = performance.now();
  if (mode === 'closed' && now >= windowOpen && now < windowClose) delivered++;
  if (left > 1) {
    pendingGroup.set(cid, left - 1);
    return;
  }
  pendingGroup.delete(cid);
  const sender = users[Number(cid.slice(0, cid.indexOf('-')))];
  sender.outstanding--;
  if (mode !== 'closed') return;
  if (now >= windowOpen && now < windowClose) completed++;
  if (running) sendNext(sender, now);
}

/** Our server's frames: acks to the sender, messages to the recipient, errors. */
function onOursText(text: string): void {
  if (text.startsWith('{"type":"message"')) {
    const start = text.indexOf('"cid":"') + 7;
    deliveredCid(text.slice(start, text.indexOf('"', start)));
  } else if (text.startsWith('{"type":"ack"')) {
    if (mode === 'closed' && performance.now() >= windowOpen && performance.now() < windowClose) acks++;
  } else if (text.startsWith('{"type":"error"')) {
    recordError(text);
  }
}

function onBareText(text: string): void {
  const start = text.indexOf('"cid":"') + 7;
  deliveredCid(text.slice(start, text.indexOf('"', start)));
}

function openWs(user: User): Promise<void> {
  const url = isOurs(kind)
    ? `ws://127.0.0.1:${portOf(user)}/ws`
    : `ws://127.0.0.1:${port}/?id=${encodeURIComponent(user.wireId)}` +
      (user.group === undefined ? '' : `&group=${user.group}`);
  const headers: Record<string, string> = isOurs(kind) ? { authorization: `Bearer ${user.token}` } : {};
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers, perMessageDeflate: false });
    const onText = isOurs(kind) ? onOursText : onBareText;
    socket.once('open', () => {
      user.ws = socket;
      resolve();
    });
    socket.once('error', reject);
    socket.on('message', (data: Buffer) => onText(data.toString()));
    socket.on('close', (code) => {
      if (user.ws === socket && mode !== 'idle') recordError(`socket ${user.index} closed with ${code}`);
    });
  });
}

function openSio(user: User): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = io(`http://127.0.0.1:${port}`, {
      transports: ['websocket'],
      auth: kind === 'sio-durable' ? { id: user.wireId, serverOffset } : { id: user.wireId },
      reconnection: false,
      forceNew: true,
    });
    socket.once('connect', () => {
      user.sio = socket;
      resolve();
    });
    socket.once('connect_error', reject);
    socket.on('message', (message: { cid?: string }, offset?: number) => {
      // The durable peer sends each message with its server offset (replayed ones have no cid).
      if (offset !== undefined && offset > serverOffset) serverOffset = offset;
      if (message.cid !== undefined) deliveredCid(message.cid);
    });
    socket.on('disconnect', (reason) => {
      if (mode !== 'idle') recordError(`socket ${user.index} disconnected: ${reason}`);
    });
  });
}

async function connect(count: number): Promise<void> {
  if (count % 2 !== 0) throw new Error('connections come in pairs');
  await login(count);
  // Every user of this batch needs its peer's wire id before it can send.
  for (let i = 0; i < count; i++) {
    const user = users[i];
    const to = users[user.peer].wireId;
    user.frameTail = `","to":"${to}","kind":"text","body":"${BODY}"}`;
  }
  const todo = users.slice(0, count).filter((user) => !user.ws && !user.sio);
  await pool(todo, 50, (user) => (kind === 'sio' || kind === 'sio-durable' ? openSio(user) : openWs(user)));
}

/**
 * Group fan-out: `groups` groups of `size` members (users `g * size …`), every member one
 * connection. Ours: every member logs in, the first member of each group creates it through
 * `POST /api/groups` naming the others, and sends to `conv: "g:<id>"`. The broadcast relay: each
 * connection names its group in the query string.
 */
async function setUpGroups(groups: number, size: number): Promise<number> {
  const started = performance.now();
  const count = groups * size;
  groupMode = true;
  groupSize = size;
  await login(count);
  for (let g = 0; g < groups; g++) {
    const members = Array.from({ length: size }, (_, i) => userFor(g * size + i));
    let conv = `G${g}`;
    if (isOurs(kind)) {
      const [owner, ...others] = members;
      const response = await fetch(`http://127.0.0.1:${portOf(owner)}/api/groups`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${owner.token}` },
        body: JSON.stringify({ name: `bench ${g}`, members: others.map((user) => user.wireId) }),
      });
      if (response.status !== 201) {
        throw new Error(`POST /api/groups (${size} members): HTTP ${response.status} ${await response.text()}`);
      }
      conv = `g:${((await response.json()) as { group: { id: string } }).group.id}`;
    }
    for (const user of members) {
      user.group = g;
      user.frameTail = `","conv":"${conv}","kind":"text","body":"${BODY}"}`;
    }
  }
  const todo = users.slice(0, count).filter((user) => !user.ws);
  await pool(todo, 50, openWs);
  return (performance.now() - started) / 1000;
}

function sendNext(user: User, due: number): void {
  user.outstanding++;
  const cid = `${user.index}-${user.counter++}-${due.toFixed(3)}`;
  if (groupMode) pendingGroup.set(cid, groupSize - 1);
  if (user.sio && kind === 'sio-durable') {
    // As the tutorial's client: the event with an ack callback; the ack is counted like ours.
    user.sio.emit('send', { cid, to: users[user.peer].wireId, kind: 'text', body: BODY }, onAck);
  } else if (user.sio) {
    user.sio.emit('send', { cid, to: users[user.peer].wireId, kind: 'text', body: BODY });
  } else {
    user.ws?.send(`{"type":"send","cid":"${cid}${user.frameTail}`);
  }
}

function onAck(): void {
  if (mode === 'closed' && performance.now() >= windowOpen && performance.now() < windowClose) acks++;
}

function connected(): User[] {
  return users.filter((user) => user.ws || user.sio);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function resetCounters(): void {
  delivered = 0;
  completed = 0;
  acks = 0;
  errors = 0;
  firstError = undefined;
}

async function closedLoop(id: number, window: number, warmupMs: number, durationMs: number): Promise<ClosedResult> {
  const active = connected();
  resetCounters();
  mode = 'closed';
  running = true;
  const start = performance.now();
  // The window is where the parent samples CPU: it opens and closes when the parent is told, so
  // a timer that fires late (a busy load generator) moves both alike.
  windowOpen = Infinity;
  windowClose = Infinity;
  for (const user of active) for (let i = 0; i < window; i++) sendNext(user, start);
  await sleep(warmupMs);
  windowOpen = performance.now();
  reply({ id, event: 'window-open' });
  await sleep(durationMs);
  windowClose = performance.now();
  reply({ id, event: 'window-close' });
  running = false;
  const seconds = (windowClose - windowOpen) / 1000;
  const result: ClosedResult = {
    connections: active.length,
    window,
    delivered,
    seconds,
    rate: delivered / seconds,
    acks,
    errors,
    firstError,
    undrained: 0,
  };
  // Let what is in flight arrive, so the next measurement starts from a quiet server.
  const drainUntil = performance.now() + 15_000;
  const outstanding = () => active.reduce((sum, user) => sum + user.outstanding, 0);
  while (outstanding() > 0 && performance.now() < drainUntil) await sleep(20);
  result.undrained = outstanding();
  for (const user of active) user.outstanding = 0;
  mode = 'idle';
  return result;
}

async function groupClosedLoop(
  id: number,
  senders: number,
  window: number,
  warmupMs: number,
  durationMs: number,
  setupSeconds: number,
): Promise<GroupResult> {
  const active = connected();
  const groups = Math.round(active.length / groupSize);
  const sending = active.filter((user) => user.index % groupSize < senders);
  resetCounters();
  pendingGroup.clear();
  mode = 'closed';
  running = true;
  const start = performance.now();
  windowOpen = Infinity;
  windowClose = Infinity;
  for (const user of sending) for (let i = 0; i < window; i++) sendNext(user, start);
  await sleep(warmupMs);
  windowOpen = performance.now();
  reply({ id, event: 'window-open' });
  await sleep(durationMs);
  windowClose = performance.now();
  reply({ id, event: 'window-close' });
  running = false;
  const seconds = (windowClose - windowOpen) / 1000;
  const result: GroupResult = {
    groups,
    size: groupSize,
    senders,
    window,
    connections: active.length,
    delivered,
    seconds,
    rate: delivered / seconds,
    completed,
    acks,
    errors,
    firstError,
    undrained: 0,
    setupSeconds,
  };
  const drainUntil = performance.now() + 15_000;
  while (pendingGroup.size > 0 && performance.now() < drainUntil) await sleep(20);
  result.undrained = pendingGroup.size;
  pendingGroup.clear();
  for (const user of active) user.outstanding = 0;
  mode = 'idle';
  return result;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function openLoop(id: number, rate: number, warmupMs: number, durationMs: number): Promise<OpenResult> {
  const active = connected();
  resetCounters();
  const total = Math.ceil((rate * (warmupMs + durationMs)) / 1000);
  latencies = new Float64Array(total);
  latencyCount = 0;
  mode = 'open';
  const start = performance.now() + 5;
  windowOpen = start + warmupMs;
  windowClose = windowOpen + durationMs;
  const interval = 1000 / rate;
  let k = 0;
  let announcedOpen = false;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      if (!announcedOpen && now >= windowOpen) {
        announcedOpen = true;
        reply({ id, event: 'window-open' });
      }
      // Every message is stamped with the time it was due, not the time it went out: a late
      // sender counts against the latency (no coordinated omission).
      while (k < total && start + k * interval <= now) {
        sendNext(active[k % active.length], start + k * interval);
        k++;
      }
      if (k >= total) {
        clearInterval(timer);
        resolve();
      }
    };
    const timer = setInterval(tick, 1);
  });
  await sleep(Math.max(0, windowClose - performance.now()));
  reply({ id, event: 'window-close' });
  // Stragglers: wait for the window's messages to arrive (bounded).
  const due = Math.round(durationMs / interval);
  const waitUntil = performance.now() + 5_000;
  while (latencyCount < due && performance.now() < waitUntil) await sleep(20);
  for (const user of active) user.outstanding = 0;
  mode = 'idle';
  const sorted = latencies.slice(0, Math.min(latencyCount, latencies.length)).sort();
  return {
    connections: active.length,
    rate,
    due,
    received: latencyCount,
    achieved: latencyCount / (durationMs / 1000),
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
    errors,
    firstError,
  };
}

let groupsSetupSeconds = 0;

async function handle(id: number, command: Command): Promise<unknown> {
  switch (command.cmd) {
    case 'init':
      kind = command.kind;
      port = command.port;
      ports = command.ports ?? [command.port];
      return null;
    case 'groups':
      groupsSetupSeconds = await setUpGroups(command.groups, command.size);
      return { connections: connected().length, setupSeconds: groupsSetupSeconds };
    case 'groupClosed':
      return groupClosedLoop(
        id,
        command.senders,
        command.window,
        command.warmupMs,
        command.durationMs,
        groupsSetupSeconds,
      );
    case 'login':
      await login(command.count);
      return null;
    case 'connect':
      await connect(command.count);
      return { connections: connected().length };
    case 'closed':
      return closedLoop(id, command.window, command.warmupMs, command.durationMs);
    case 'open':
      return openLoop(id, command.rate, command.warmupMs, command.durationMs);
  }
}

process.on('message', (message: { id: number; command: Command }) => {
  handle(message.id, message.command).then(
    (result) => reply({ id: message.id, ok: true, result }),
    (error: unknown) =>
      reply({
        id: message.id,
        ok: false,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      }),
  );
});
// The parent going away ends the run: never keep sockets open on our own.
process.on('disconnect', () => process.exit(0));
