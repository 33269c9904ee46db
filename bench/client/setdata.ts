/**
 * Client benchmark: what one incoming message costs the pages, with our path-update binding
 * (`bindData`, miniprogram/utils/bind.ts) and with mobx-miniprogram-bindings' default
 * `createStoreBindings` (whole-array binding), on the same MobX stores, in the same run.
 *
 * Per incoming message it measures the setData payload's size (bytes of its JSON, as the
 * mini-program's render layer receives it) and the time from the incoming frame's text to the
 * setData call. "Incoming" is what ChatClient does with a `message` frame: JSON.parse, then the
 * stores' updates (messages.cursor, messages.addStored, sessions.applyMessage). Pages are fake
 * setData targets, and `wx.nextTick` a microtask: no simulator, no render layer.
 *
 * Two scenarios. A conversation of N messages open on the message page, with the session list of
 * 1,000 sessions alive under it in the page stack (as in the app): the message arrives in the open
 * conversation, the top session. And the session list alone, a message arriving for the entry at
 * the top, the 10th, or one at random.
 *
 * Run by bench/run.ts in its own process; prints its result as JSON on stdout.
 */
import './globals';
import type { ChatMessage, SessionEntry } from '../../contract/frames';
import { MessagesStore } from '../../miniprogram/stores/messages';
import { SESSION_PAGE, SessionsStore } from '../../miniprogram/stores/sessions';
import { bindData } from '../../miniprogram/utils/bind';
// The mini-program's own copy, so it shares the stores' mobx-miniprogram instance.
import { createStoreBindings } from '../../miniprogram/node_modules/mobx-miniprogram-bindings';

export type Binding = 'ours' | 'mobx-bindings';

export interface Sample {
  /** Incoming frame text → setData call, ms. */
  ms: number;
  /** Bytes of the setData payload's JSON. */
  bytes: number;
  /** JSON.stringify of the payload, ms: a floor for what the runtime spends sending it. */
  serializeMs: number;
  /** Top-level keys (paths) in the payload. */
  paths: number;
  /** Conversation scenario: the session list page's payload for the same message. */
  listBytes?: number;
}

export interface CaseResult {
  scenario: 'conversation' | 'sessions';
  /** Messages in the conversation, or sessions in the list. */
  size: number;
  /** For the session list: which entry the message is for. */
  position?: 'top' | '10th' | 'random';
  binding: Binding;
  samples: number;
  medianMs: number;
  p90Ms: number;
  medianBytes: number;
  meanBytes: number;
  maxBytes: number;
  medianSerializeMs: number;
  medianPaths: number;
  /** Conversation scenario: the session list page's payload (median bytes). */
  medianListBytes?: number;
}

const ME = 'uMe000000001';
const PEER = 'uPeer0000001';
const CONV = `dm:${ME}:${PEER}`;
const BODY =
  'The quick brown fox jumps over the lazy dog; the chat server stores and relays every word. 0123456789'.slice(0, 100);
const T0 = 1_700_000_000_000;

function message(seq: number, from = PEER, conv = CONV, ts = T0 + seq): ChatMessage {
  return { conv, seq, cid: `c${seq}`, from, kind: 'text', body: BODY, ts };
}

/** A page: records every setData call with its time and its payload's size. */
class FakePage {
  calls: Array<{ at: number; bytes: number; serializeMs: number; paths: number }> = [];
  setData(data: Record<string, unknown>): void {
    const at = performance.now();
    const json = JSON.stringify(data);
    const serializeMs = performance.now() - at;
    this.calls.push({ at, bytes: Buffer.byteLength(json), serializeMs, paths: Object.keys(data).length });
  }
}

interface Stores {
  messages: MessagesStore;
  sessions: SessionsStore;
}

/**
 * ChatClient's handling of a `message` frame (miniprogram/core/client.ts, `received` →
 * `incoming`), store by store.
 */
function receive(stores: Stores, text: string, active: boolean): void {
  const frame = JSON.parse(text) as ChatMessage & { type: 'message' };
  const { type: _type, ...incoming } = frame;
  stores.messages.cursor(incoming.conv);
  stores.messages.addStored([incoming], ME);
  stores.sessions.applyMessage(incoming, ME, active);
}

function bind(binding: Binding, page: FakePage, field: string, read: () => unknown): () => void {
  if (binding === 'ours') return bindData(page, { [field]: read });
  const manager = createStoreBindings(page, { store: {}, fields: { [field]: read }, actions: [] });
  return () => manager.destroyStoreBindings();
}

/** Lets queued microtasks (wx.nextTick) run: the setData goes out. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * One incoming message: the time to `page`'s setData and its payload; with `listPage`, also the
 * session list page's payload for it.
 */
async function measure(
  stores: Stores,
  page: FakePage,
  text: string,
  active: boolean,
  listPage?: FakePage,
): Promise<Sample> {
  page.calls = [];
  if (listPage) listPage.calls = [];
  const start = performance.now();
  receive(stores, text, active);
  await settle();
  const call = page.calls[0];
  if (!call) throw new Error('no setData for an incoming message');
  const sample: Sample = { ms: call.at - start, bytes: call.bytes, serializeMs: call.serializeMs, paths: call.paths };
  if (listPage) sample.listBytes = listPage.calls.reduce((sum, c) => sum + c.bytes, 0);
  return sample;
}

function sessionEntry(i: number, prefix = 'uPeer'): SessionEntry {
  const peer = `${prefix}${String(i).padStart(7, '0')}`;
  const conv = `dm:${ME}:${peer}`;
  return {
    conv,
    peer: { id: peer, nickname: `用户${i}`, avatar: '' },
    last: message(1, peer, conv, T0 - i * 1000),
    lastSeq: 1,
    readSeq: 0,
    peerReadSeq: 0,
    unread: 1,
  };
}

const median = (values: number[]) => quantile(values, 0.5);
function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

function summarize(base: Omit<CaseResult, 'samples' | keyof Summary>, samples: Sample[]): CaseResult {
  return { ...base, samples: samples.length, ...summary(samples) };
}
type Summary = Omit<CaseResult, 'scenario' | 'size' | 'position' | 'binding' | 'samples'>;
function summary(samples: Sample[]): Summary {
  return {
    medianMs: median(samples.map((s) => s.ms)),
    p90Ms: quantile(
      samples.map((s) => s.ms),
      0.9,
    ),
    medianBytes: median(samples.map((s) => s.bytes)),
    meanBytes: samples.reduce((sum, s) => sum + s.bytes, 0) / samples.length,
    maxBytes: Math.max(...samples.map((s) => s.bytes)),
    medianSerializeMs: median(samples.map((s) => s.serializeMs)),
    medianPaths: median(samples.map((s) => s.paths)),
    ...(samples[0]?.listBytes !== undefined ? { medianListBytes: median(samples.map((s) => s.listBytes ?? 0)) } : {}),
  };
}

/**
 * A conversation of `size` messages bound whole to the message page, open; the session list page
 * (SESSIONS sessions, this conversation on top) alive under it. Message `size + 1` arrives; then
 * the stores are set back to `size` messages (untimed), and it arrives again: every sample is at
 * the same length, on pages that have been live for a while.
 */
async function conversation(size: number, binding: Binding, wanted: number): Promise<CaseResult> {
  const history = Array.from({ length: size }, (_, i) => message(i + 1));
  const own: SessionEntry = {
    conv: CONV,
    peer: { id: PEER, nickname: '对方', avatar: '' },
    last: history[size - 1],
    lastSeq: size,
    readSeq: size,
    peerReadSeq: size,
    unread: 0,
  };
  const others = Array.from({ length: SESSIONS - 1 }, (_, i) => sessionEntry(i + 1, 'uOther'));
  const stores: Stores = { messages: new MessagesStore(), sessions: new SessionsStore() };
  const reset = () => {
    stores.messages.clear();
    stores.messages.addHistory(CONV, history, false, ME, true);
    stores.sessions.replaceAll([own, ...others]);
  };
  reset();
  const listPage = new FakePage();
  // The list page renders the top of the list (SESSION_PAGE entries, more as it is scrolled).
  const unbindList = bind(binding, listPage, 'sessions', () => stores.sessions.list.slice(0, SESSION_PAGE));
  const page = new FakePage();
  const unbind = bind(binding, page, 'messages', () => stores.messages.view(CONV).items);
  await settle();
  const text = JSON.stringify({ type: 'message', ...message(size + 1, PEER, CONV, T0 + 1e9) });
  const samples: Sample[] = [];
  while (samples.length < wanted) {
    samples.push(await measure(stores, page, text, true, listPage));
    reset();
    await settle();
  }
  unbind();
  unbindList();
  return summarize({ scenario: 'conversation', size, binding }, samples);
}

/** A session list of `size` conversations; a message arrives for the entry at `position`. */
async function sessionList(
  size: number,
  position: 'top' | '10th' | 'random',
  binding: Binding,
  wanted: number,
): Promise<CaseResult> {
  const stores: Stores = { messages: new MessagesStore(), sessions: new SessionsStore() };
  stores.sessions.replaceAll(Array.from({ length: size }, (_, i) => sessionEntry(i)));
  const page = new FakePage();
  const unbind = bind(binding, page, 'sessions', () => stores.sessions.list.slice(0, SESSION_PAGE));
  await settle();
  let seed = 12345;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) as number;
  const samples: Sample[] = [];
  for (let k = 0; k < wanted; k++) {
    const list = stores.sessions.list;
    const index = position === 'top' ? 0 : position === '10th' ? 9 : Math.floor(random() * list.length);
    const entry = list[index];
    const seq = entry.lastSeq + 1;
    // The bench lists one-to-one chats only: every entry has its peer.
    if (!entry.peer) throw new Error(`${entry.conv} has no peer: the bench lists one-to-one chats only`);
    const text = JSON.stringify({ type: 'message', ...message(seq, entry.peer.id, entry.conv, T0 + 1e6 + k) });
    samples.push(await measure(stores, page, text, false));
  }
  unbind();
  return summarize({ scenario: 'sessions', size, position, binding }, samples);
}

export const CONVERSATION_SIZES = [10, 100, 1000, 10000];
export const SESSIONS = 1000;

async function main(): Promise<void> {
  const quick = process.env.BENCH_QUICK === '1';
  const results: CaseResult[] = [];
  const bindings: Binding[] = ['ours', 'mobx-bindings'];
  // A warm-up pass, not recorded: the JIT has seen every path before anything is timed.
  for (const binding of bindings) {
    await conversation(100, binding, 20);
    await sessionList(100, 'random', binding, 20);
  }
  for (const size of CONVERSATION_SIZES) {
    const wanted = quick ? 20 : size >= 10000 ? 40 : 100;
    for (const binding of bindings) results.push(await conversation(size, binding, wanted));
  }
  for (const position of ['top', '10th', 'random'] as const) {
    for (const binding of bindings) results.push(await sessionList(SESSIONS, position, binding, quick ? 20 : 100));
  }
  process.stdout.write(JSON.stringify(results));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
