import type { LoginResponse } from '../../contract/http';
import type { MessageKind, ServerFrame } from '../../contract/frames';
import type { OutboxEntry } from '../../miniprogram/core/outbox';
import { RecallError } from '../../miniprogram/core/recalls';
import { recalledSeq } from '../../miniprogram/stores/messages';
import WebSocket from 'ws';
import { createPhone, sleep, stored, waitFor, type Phone } from '../support/app';
import { FaultProxy } from '../support/fault-proxy';
import { httpCall } from '../support/http-call';
import { startServerProcess, type ServerProcess } from '../support/server-process';
import { seeded as prng } from '../support/fixtures';

/**
 * Chaos: N simulated phones (the real ChatClient and stores, each with its own storage, each
 * through its own fault proxy) chat at random while a seeded harness cuts, black-holes and delays
 * their connections, SIGKILLs the server and restarts it on the same data and port, and kills
 * and relaunches phones from their storage. At the end everything heals and every phone must hold
 * exactly the server's history of each of its conversations: in seq order, none twice, nothing
 * pending, outboxes empty, every message sent stored once (lost = 0, duplicated = 0).
 *
 * Recalls ride along: now and then a phone recalls one of its own recent messages, and the group's
 * owner one of a member's. A recall that resolved must show as recalled everywhere; one that was
 * refused must not have happened; one that failed `offline` may or may not have (its frame may
 * have reached the server): the server's history settles it, and every phone must then agree with
 * the server on which messages are recalled, and show nothing of what they said.
 *
 * `CHAOS_SEED`, `CHAOS_SECONDS` (default 20; `npm run chaos` runs 300), `CHAOS_CLIENTS` (default 4).
 */

const SEED = Number(process.env.CHAOS_SEED ?? 20_240_901);
const SECONDS = Number(process.env.CHAOS_SECONDS ?? 20);
const CLIENTS = Number(process.env.CHAOS_CLIENTS ?? 4);
const TOKEN_SECRET = 'chaos-secret-0123456789abcdef';
/** The phones send several messages a second for minutes: more than a user's budget of a minute. */
const UNBUDGETED = { USER_SEND_RATE: '100000', USER_SEND_BURST: '100000' };

type HistoryFrame = Extract<ServerFrame, { type: 'history' }>;
/** A message of the server's history, as the checks read it. */
interface TruthMessage {
  seq: number;
  from: string;
  body: string;
  kind: MessageKind;
}
/** The sender may recall within RECALL_WINDOW_S (120 s); the harness picks messages well inside it. */
const RECENT_MS = 60_000;
/**
 * A recall that gets no answer gives up after 0.5–2.5 s, drawn at each launch of a phone (the
 * app's default is 15 s): short, so that black holes, server kills and slow reconnects leave
 * recalls whose outcome only the server knows, and under a delay an answer may come on the same
 * connection after the phone gave up.
 */
const RECALL_TIMEOUT_MS = { min: 500, spread: 2000 };

/** One recall the harness asked for, and how its promise ended. */
interface RecallAttempt {
  phone: number;
  user: string;
  conv: string;
  seq: number;
  /** The message's server `ts`. */
  ts: number;
  /** The message's age when the recall was asked for (ms since its server `ts`). */
  age: number;
  /** The group owner recalling a member's message (otherwise the sender its own). */
  asOwner: boolean;
  outcome: 'pending' | 'resolved' | 'unknown' | 'refused';
  code?: string;
}

/** A raw protocol socket that asks for history pages one at a time: the source of truth. */
async function rawSocket(
  url: string,
  token: string,
): Promise<{ history(frame: object): Promise<HistoryFrame>; close(): void }> {
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let waiting: ((frame: HistoryFrame) => void) | null = null;
  ws.on('message', (data: WebSocket.RawData) => {
    const frame = JSON.parse((data as Buffer).toString('utf8')) as ServerFrame;
    if (frame.type === 'history' && waiting) waiting(frame);
  });
  return {
    history(frame) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no history page within 10 s')), 10_000);
        waiting = (answer) => {
          clearTimeout(timer);
          waiting = null;
          resolve(answer);
        };
        ws.send(JSON.stringify(frame));
      });
    },
    close: () => ws.close(),
  };
}

/** A user who is no phone (a dev login straight at the server): their id. */
async function devLogin(port: number, devId: string): Promise<string> {
  const answer = await httpCall(port, 'POST', '/api/login', { body: { code: 'dev', devId } });
  if (answer.status !== 200) throw new Error(`dev login: HTTP ${answer.status}`);
  return (answer.body as LoginResponse).user.id;
}

interface Slot {
  index: number;
  proxy: FaultProxy;
  phone: Phone | null;
  storage: Map<string, string>;
  convs: string[];
}

describe(`chaos (CHAOS_SEED=${SEED} CHAOS_SECONDS=${SECONDS} CHAOS_CLIENTS=${CLIENTS})`, () => {
  let server: ServerProcess | null = null;
  const slots: Slot[] = [];

  afterAll(async () => {
    for (const slot of slots) slot.phone?.client.stop();
    for (const slot of slots) await slot.proxy.close();
    await server?.kill();
  });

  it(
    'nothing lost, nothing twice, nothing pending',
    async () => {
      console.log(`chaos: CHAOS_SEED=${SEED} CHAOS_SECONDS=${SECONDS} CHAOS_CLIENTS=${CLIENTS}`);
      const random = prng(SEED);
      const int = (n: number) => Math.floor(random() * n);
      const figures = {
        sent: 0,
        acked: 0,
        delivered: 0,
        reconnects: 0,
        serverKills: 0,
        clientRestarts: 0,
        cuts: 0,
        blackholes: 0,
        delays: 0,
        lost: 0,
        duplicated: 0,
        groupChanges: 0,
        recalls: 0,
        recallsUnknown: 0,
        recallsRefused: 0,
        recalled: 0,
        recallSlowestMs: 0,
      };

      server = await startServerProcess({ env: { TOKEN_SECRET, LOG_LEVEL: 'info', ...UNBUDGETED } });
      const port = server.port;
      const dataDir = server.dataDir;

      const launch = (slot: Slot) => {
        slot.phone = createPhone(slot.proxy.url, {
          storage: slot.storage,
          backoff: { baseMs: 50, capMs: 500 },
          heartbeatMs: 500,
          heartbeatTimeoutMs: 1000,
          maxSendTries: 1_000_000,
          maxAttempts: 1_000_000,
          recallTimeoutMs: RECALL_TIMEOUT_MS.min + int(RECALL_TIMEOUT_MS.spread),
          random,
        });
        slot.phone.client.start();
      };

      for (let i = 0; i < CLIENTS; i++) {
        const proxy = await FaultProxy.start(port);
        const slot: Slot = { index: i, proxy, phone: null, storage: new Map(), convs: [] };
        slots.push(slot);
        launch(slot);
      }
      await waitFor(
        () => slots.every((slot) => slot.phone?.client.stores.connection.state === 'ready'),
        'all phones ready',
        10_000,
      );

      // Conversations: a ring of pairs plus chords, so each phone is in two or three.
      const users = slots.map((slot) => slot.phone!.client.stores.me.user!);
      const pairs: Array<[number, number]> = [];
      for (let i = 0; i < CLIENTS; i++) pairs.push([i, (i + 1) % CLIENTS]);
      for (let i = 0; i + 2 < CLIENTS; i += 2) pairs.push([i, i + 2]);
      const convs = pairs.map(([a, b]) => {
        const conv = slots[a].phone!.client.conversationWith(users[b]);
        slots[a].convs.push(conv);
        slots[b].convs.push(conv);
        return conv;
      });
      // And one group of every phone, phone 0 its owner: its members change during the run.
      const groupConv = await slots[0].phone!.client.groups.create(users.slice(1));
      for (const slot of slots) slot.convs.push(groupConv);
      convs.push(groupConv);
      /** Who reads each conversation's truth: a member of it from its first message. */
      const readers = [...pairs.map(([a]) => a), 0];
      const sentBodies = new Map<string, string[]>(convs.map((conv) => [conv, []]));
      const bystanders = await Promise.all([1, 2].map((i) => devLogin(port, `chaos-bystander-${SEED}-${i}`)));

      const until = Date.now() + SECONDS * 1000;
      let serverDown = false;
      /** Faults that end by themselves later; the heal waits for them, so none strikes after it. */
      const ending: Array<Promise<void>> = [];

      const chat = (async () => {
        let n = 0;
        while (Date.now() < until) {
          const slot = slots[int(CLIENTS)];
          if (slot.phone) {
            const conv = slot.convs[int(slot.convs.length)];
            const body = `c${slot.index}-${n++}`;
            if (slot.phone.client.sendText(conv, body)) {
              sentBodies.get(conv)!.push(body);
              figures.sent++;
            }
          }
          await sleep(20 + int(120));
        }
      })();

      // Membership changes while the phones chat: people who are no phones are invited, removed,
      // and the group renamed, straight at the server (not through a phone's proxy). A change that
      // meets the server down is simply not made.
      const membership = (async () => {
        const ownerToken = stored<LoginResponse>(slots[0].phone!, 'chat.session')!.token;
        const groupId = groupConv.slice(2);
        const inGroup = new Set<string>();
        while (Date.now() < until) {
          await sleep(400 + int(1500));
          const who = bystanders[int(bystanders.length)];
          const roll = random();
          const change =
            roll < 0.2
              ? { method: 'PUT', path: `/api/groups/${groupId}`, body: { name: `chaos ${int(1000)}` } }
              : inGroup.has(who)
                ? { method: 'DELETE', path: `/api/groups/${groupId}/members/${who}` }
                : { method: 'POST', path: `/api/groups/${groupId}/members`, body: { users: [who] } };
          const { status } = await httpCall(port, change.method, change.path, { token: ownerToken, body: change.body });
          // A removal whose answer a kill cut off may have been made: 404 says it was.
          if (change.method === 'DELETE' && status === 404) inGroup.delete(who);
          if (status < 200 || status >= 300) continue;
          figures.groupChanges++;
          if (change.method === 'DELETE') inGroup.delete(who);
          else if (change.method === 'POST') inGroup.add(who);
        }
      })();

      const chaos = (async () => {
        while (Date.now() < until) {
          await sleep(300 + int(1200));
          const slot = slots[int(CLIENTS)];
          const roll = random();
          if (roll < 0.3) {
            figures.cuts++;
            slot.proxy.cut();
          } else if (roll < 0.5) {
            figures.blackholes++;
            // 'pause' holds the bytes (a partition TCP outlives); 'drop' loses them, and then the
            // connection breaks, as TCP would: a stream never survives with bytes missing from it.
            const mode = random() < 0.5 ? 'pause' : 'drop';
            slot.proxy.blackhole(mode);
            const ms = 300 + int(2000);
            ending.push(
              sleep(ms).then(() => {
                if (mode === 'drop') slot.proxy.cut();
                slot.proxy.restore();
              }),
            );
          } else if (roll < 0.65) {
            figures.delays++;
            slot.proxy.delay(20 + int(300));
            const ms = 500 + int(2000);
            ending.push(sleep(ms).then(() => slot.proxy.restore()));
          } else if (roll < 0.8) {
            if (serverDown || !server) continue;
            figures.serverKills++;
            serverDown = true;
            await server.kill();
            await sleep(100 + int(1000));
            server = await startServerProcess({
              dataDir,
              port,
              env: { TOKEN_SECRET, LOG_LEVEL: 'info', ...UNBUDGETED },
            });
            serverDown = false;
          } else if (slot.phone) {
            // A kill: whatever the storage holds right now survives; nothing else does.
            figures.clientRestarts++;
            const survivor = new Map(slot.storage);
            const { client } = slot.phone;
            slot.phone = null;
            client.stop();
            await sleep(100 + int(800));
            slot.storage = survivor;
            launch(slot);
          }
        }
      })();

      // Recalls while the phones chat: a phone recalls one of its own recent messages (sent and
      // acked, well within the window), or the group's owner (phone 0) recalls a member's message.
      const attempts: RecallAttempt[] = [];
      /** What each message asked to be recalled said, by `conv#seq`: lost and duplicated count it. */
      const originals = new Map<string, string>();
      const recallsEnded: Array<Promise<void>> = [];
      const recaller = (async () => {
        for (let round = 0; round < SECONDS * 4 && Date.now() < until; round++) {
          await sleep(250 + int(1000));
          const asOwner = random() < 0.25;
          const slot = asOwner ? slots[0] : slots[int(CLIENTS)];
          const conv = asOwner ? groupConv : slot.convs[int(slot.convs.length)];
          const phone = slot.phone;
          if (!phone) continue;
          const now = Date.now();
          const candidates = phone.client.stores.messages
            .view(conv)
            .items.filter(
              (item) =>
                item.seq > 0 &&
                item.kind === 'text' &&
                item.status === 'sent' &&
                (asOwner ? !item.mine : item.mine && now - item.ts < RECENT_MS),
            );
          // Now and then the user tries again a recall that failed offline: refused (recalled
          // already) when the first one did reach the server, done otherwise.
          const again = attempts.filter(
            (earlier) =>
              earlier.phone === slot.index &&
              earlier.conv === conv &&
              earlier.asOwner === asOwner &&
              earlier.outcome === 'unknown' &&
              now - earlier.ts < RECENT_MS,
          );
          let target: { seq: number; ts: number; body: string } | undefined;
          if (again.length > 0 && random() < 0.5) {
            const earlier = again[int(again.length)];
            target = { seq: earlier.seq, ts: earlier.ts, body: originals.get(`${conv}#${earlier.seq}`)! };
          } else if (candidates.length > 0) {
            // One of the ten newest: what a user recalls is what they just said.
            target = candidates[candidates.length - 1 - int(Math.min(10, candidates.length))];
          }
          if (!target) continue;
          const key = `${conv}#${target.seq}`;
          if (originals.has(key) && originals.get(key) !== target.body)
            throw new Error(`${key} held as ${target.body}, asked before as ${originals.get(key)}`);
          originals.set(key, target.body);
          const attempt: RecallAttempt = {
            phone: slot.index,
            user: users[slot.index].id,
            conv,
            seq: target.seq,
            ts: target.ts,
            age: now - target.ts,
            asOwner,
            outcome: 'pending',
          };
          attempts.push(attempt);
          recallsEnded.push(
            phone.client.recall(conv, target.seq).then(
              () => {
                attempt.outcome = 'resolved';
                figures.recallSlowestMs = Math.max(figures.recallSlowestMs, Date.now() - now);
              },
              (error: unknown) => {
                if (!(error instanceof RecallError)) throw error;
                attempt.code = error.code;
                // No answer in time, or the phone was killed: the frame may have reached the server.
                attempt.outcome = error.code === 'offline' ? 'unknown' : 'refused';
              },
            ),
          );
        }
      })();

      await Promise.all([chat, chaos, membership, recaller]);
      await Promise.all(ending);
      // Every recall ends by itself: answered, refused, or given up after the phone's timeout.
      await Promise.all(recallsEnded);
      for (const attempt of attempts) {
        if (attempt.outcome === 'resolved') figures.recalls++;
        else if (attempt.outcome === 'unknown') figures.recallsUnknown++;
        else if (attempt.outcome === 'refused') figures.recallsRefused++;
      }

      // Heal everything and wait for quiescence.
      for (const slot of slots) slot.proxy.restore();
      const outbox = (slot: Slot) => stored<OutboxEntry[]>(slot.phone!, 'chat.outbox') ?? [];
      await waitFor(
        () =>
          slots.every(
            (slot) =>
              slot.phone!.client.stores.connection.state === 'ready' &&
              outbox(slot).length === 0 &&
              slot.convs.every((conv) =>
                slot.phone!.client.stores.messages.view(conv).items.every((item) => item.seq > 0),
              ),
          ),
        'every phone ready with an empty outbox',
        30_000,
      ).catch((error: Error) => {
        const state = slots.map((slot) => ({
          phone: slot.index,
          connection: slot.phone!.client.stores.connection.state,
          outbox: outbox(slot).map((entry) => `${entry.body}@${entry.tries}`),
          pending: slot.convs.map((conv) =>
            slot
              .phone!.client.stores.messages.view(conv)
              .items.filter((item) => item.seq === 0)
              .map((item) => `${item.body}:${item.status}`),
          ),
          liveSockets: slot.proxy.sockets().length,
        }));
        throw new Error(`${error.message}: ${JSON.stringify(state)}`);
      });

      // The server's history is the truth: read it over a raw socket, as a member.
      const truth = new Map<string, TruthMessage[]>();
      for (const [index, conv] of convs.entries()) {
        const member = slots[readers[index]];
        const login = stored<LoginResponse>(member.phone!, 'chat.session');
        if (!login) throw new Error(`phone ${member.index} has no session`);
        const socket = await rawSocket(`ws://127.0.0.1:${port}/ws`, login.token);
        const messages: TruthMessage[] = [];
        let before: number | undefined;
        for (let page = 0; page < 10_000; page++) {
          const answer = await socket.history(
            before ? { type: 'history', conv, before, limit: 100 } : { type: 'history', conv, limit: 100 },
          );
          messages.unshift(...answer.messages.map(({ seq, from, body, kind }) => ({ seq, from, body, kind })));
          if (!answer.hasMore || answer.messages.length === 0) break;
          before = answer.messages[0].seq;
        }
        socket.close();
        truth.set(conv, messages);
      }

      const problems: string[] = [];
      /** What the server says is recalled, by conversation: each seq with the user whose recall did it. */
      const recalledBy = new Map<string, Map<number, string>>();
      /** The texts of recalled messages: no phone may show them anywhere. */
      const recalledTexts = new Set<string>();
      for (const conv of convs) {
        const history = truth.get(conv)!;
        // Recalls as the server stored them: each recalled message once, by one `recalled` event.
        const events = new Map<number, string>();
        for (const message of history) {
          const target = recalledSeq(message);
          if (target === 0) continue;
          if (events.has(target)) problems.push(`${conv}: message ${target} recalled twice`);
          events.set(target, message.from);
        }
        const recalled = new Map<number, string>();
        for (const message of history.filter((m) => m.kind === 'recalled')) {
          const by = events.get(message.seq);
          if (by === undefined) problems.push(`${conv}: message ${message.seq} recalled with no recalled event`);
          recalled.set(message.seq, by ?? '');
          const original = originals.get(`${conv}#${message.seq}`);
          if (original === undefined) problems.push(`${conv}: message ${message.seq} recalled, never asked to be`);
          else recalledTexts.add(original);
        }
        for (const target of events.keys())
          if (!recalled.has(target)) problems.push(`${conv}: a recalled event for ${target}, not recalled`);
        recalledBy.set(conv, recalled);
        figures.recalled += recalled.size;
        // A group's system messages (membership changes, recalls) are the server's, not sends.
        const sends = history.filter((message) => message.kind !== 'system');
        figures.acked += sends.length;
        history.forEach((message, i) => {
          if (message.seq !== i + 1) problems.push(`${conv}: server seq ${message.seq} at ${i + 1}`);
        });
        // A recalled message was delivered (stored once, as recalled): it counts as what it said.
        const said = (message: TruthMessage) =>
          message.kind === 'recalled' ? (originals.get(`${conv}#${message.seq}`) ?? '') : message.body;
        const counted = new Map<string, number>();
        for (const message of history) counted.set(said(message), (counted.get(said(message)) ?? 0) + 1);
        for (const body of sentBodies.get(conv)!) {
          const times = counted.get(body) ?? 0;
          if (times === 0) figures.lost++;
          if (times > 1) figures.duplicated += times - 1;
        }
        if (sends.length !== sentBodies.get(conv)!.length)
          problems.push(`${conv}: ${sends.length} stored, ${sentBodies.get(conv)!.length} sent`);
      }

      // Every recall's promise told the truth: resolved ones happened; refused ones did not happen
      // by their own hand, and were refused for a reason (the message was recalled already, each
      // asked for well within the window); the `offline` ones are whatever the server says.
      for (const attempt of attempts) {
        const by = recalledBy.get(attempt.conv)!.get(attempt.seq);
        const what = `phone ${attempt.phone}'s recall of ${attempt.conv}#${attempt.seq}${attempt.asOwner ? ' (as owner)' : ''}`;
        if (attempt.outcome === 'pending') problems.push(`${what} never ended`);
        if (attempt.outcome === 'resolved' && by === undefined) problems.push(`${what} resolved, not recalled`);
        if (attempt.outcome === 'refused') {
          if (attempt.code !== 'forbidden') problems.push(`${what} refused ${attempt.code ?? ''}`);
          if (by === undefined)
            problems.push(`${what} refused ${attempt.code ?? ''} at ${attempt.age} ms, not recalled`);
        }
      }
      // Whoever recalled a message asked for it with a recall that did not say it was refused.
      for (const [conv, recalled] of recalledBy) {
        for (const [seq, by] of recalled) {
          const asked = attempts.filter(
            (attempt) => attempt.conv === conv && attempt.seq === seq && attempt.user === by,
          );
          if (asked.length > 0 && asked.every((attempt) => attempt.outcome === 'refused'))
            problems.push(`${conv}#${seq}: recalled by ${by}, whose recall was refused`);
        }
      }

      // Every phone holds exactly that, after scrolling up to the first message.
      for (const slot of slots) {
        const { client } = slot.phone!;
        for (const conv of slot.convs) {
          for (let page = 0; page < 1000 && client.stores.messages.view(conv).hasMore; page++) {
            // A heartbeat that timed out during the chaos may still reconnect the phone now; a page
            // asked for while it is away is not sent (the user scrolls again), so wait until ready.
            await waitFor(
              () => client.stores.connection.state === 'ready',
              `phone ${slot.index} ready to load history`,
              30_000,
            );
            await client.loadOlder(conv);
          }
          const items = client.stores.messages.view(conv).items;
          figures.delivered += items.length;
          // Kinds too: every phone holds exactly the server's recalled messages, each with body ''.
          const held = items.map(({ seq, body, kind }) => ({ seq, body, kind }));
          const expected = truth.get(conv)!.map(({ seq, body, kind }) => ({ seq, body, kind }));
          if (JSON.stringify(held) !== JSON.stringify(expected)) {
            const seqs = items.map((item) => item.seq);
            const twice = seqs.length - new Set(seqs).size;
            const missing = expected.filter((message) => !seqs.includes(message.seq)).map((message) => message.seq);
            figures.duplicated += twice;
            problems.push(
              `phone ${slot.index} ${conv}: holds ${items.length}, server ${expected.length}; twice ${twice}; missing seqs ${missing.slice(0, 20).join(',')}; connection ${client.stores.connection.state}, hasMore ${String(client.stores.messages.view(conv).hasMore)}`,
            );
          }
          if (items.some((item) => item.status !== 'sent'))
            problems.push(`phone ${slot.index} ${conv}: an item not sent`);
          const phoneRecalled = items.filter((item) => item.kind === 'recalled').map((item) => item.seq);
          const serverRecalled = [...recalledBy.get(conv)!.keys()].sort((a, b) => a - b);
          if (JSON.stringify(phoneRecalled) !== JSON.stringify(serverRecalled))
            problems.push(
              `phone ${slot.index} ${conv}: recalled ${phoneRecalled.join(',')}, server ${serverRecalled.join(',')}`,
            );
          for (const item of items) {
            if (item.kind === 'recalled' && item.body !== '')
              problems.push(`phone ${slot.index} ${conv}#${item.seq}: recalled, body ${item.body}`);
            if (recalledTexts.has(item.body))
              problems.push(`phone ${slot.index} ${conv}#${item.seq}: shows recalled text ${item.body}`);
          }
        }
        // Nor does the conversation list: no last message or preview says what a recalled one did.
        for (const session of client.stores.sessions.list) {
          const last = session.last?.body ?? '';
          const shown = session.preview.includes(': ')
            ? session.preview.slice(session.preview.indexOf(': ') + 2)
            : session.preview;
          if (recalledTexts.has(last) || recalledTexts.has(session.preview) || recalledTexts.has(shown))
            problems.push(`phone ${slot.index} ${session.conv}: the list shows recalled text (${session.preview})`);
        }
        if (outbox(slot).length) problems.push(`phone ${slot.index}: outbox not empty`);
      }
      // Nor what the phones keep: closed (as a kill would not: stop saves everything), no storage
      // holds a recalled text (each body is `c<phone>-<n>`, matched whole, however it is quoted).
      for (const slot of slots) {
        slot.phone!.client.stop();
        const kept = [...slot.storage.values()].join('\n');
        const found = [...recalledTexts].filter((text) => new RegExp(`(?<![\\w-])${text}(?!\\d)`).test(kept));
        if (found.length > 0)
          problems.push(`phone ${slot.index}: storage keeps recalled ${found.slice(0, 5).join(',')}`);
        // The cache does keep the texts that were not recalled: the check above looks where they are.
        const texts = slot.convs.flatMap((conv) => sentBodies.get(conv)!).filter((body) => !recalledTexts.has(body));
        if (!texts.some((text) => kept.includes(JSON.stringify(text))))
          problems.push(`phone ${slot.index}: storage keeps no text at all`);
      }
      figures.reconnects =
        slots.reduce(
          (sum, slot) => sum + slot.proxy.accepted.filter((c) => c.firstLine.startsWith('GET /ws')).length,
          0,
        ) - CLIENTS;

      console.log(`chaos figures (seed ${SEED}, ${SECONDS} s, ${CLIENTS} clients): ${JSON.stringify(figures)}`);
      expect(problems).toEqual([]);
      expect(figures.lost).toBe(0);
      expect(figures.duplicated).toBe(0);
      expect(figures.sent).toBeGreaterThan(0);
    },
    SECONDS * 1000 + 120_000,
  );
});
