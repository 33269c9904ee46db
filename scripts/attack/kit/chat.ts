/**
 * The check every attack makes while it runs: two people who have nothing to do with the attacker
 * log in, connect, and one's text reaches the other (acked, delivered, and in the receiver's sync),
 * and `/healthz` answers.
 */
import { randomBytes } from 'node:crypto';
import { directConversationId } from '../../../contract/conversations';
import { accounts, type Account } from './accounts';
import { request } from './http';
import { Skip } from './outcome';
import { RawSocket } from './socket';
import type { Target } from './target';

/** How long each step of the check may take: far more than a healthy server needs. */
const STEP_MS = 10_000;

/** Throws (with what failed) unless a normal two-user chat works on the target now. */
export async function chatStillWorks(target: Target, pair?: readonly [Account, Account]): Promise<void> {
  const health = await request(target, 'GET', '/healthz', { timeoutMs: STEP_MS }).catch(() => undefined);
  if (!health) throw new Error(`/healthz did not answer within ${STEP_MS / 1000} s`);
  if (health.status !== 200) throw new Error(`/healthz answered ${health.status}`);
  const [alice, bob] = pair ?? (await accounts(target, 2));
  const sockets: RawSocket[] = [];
  try {
    const aliceSocket = await RawSocket.open(target.wsUrl, alice.token, STEP_MS);
    sockets.push(aliceSocket);
    const bobSocket = await RawSocket.open(target.wsUrl, bob.token, STEP_MS);
    sockets.push(bobSocket);
    const cid = `still-works-${randomBytes(6).toString('hex')}`;
    const body = '还能聊天吗？';
    aliceSocket.send({ type: 'send', cid, to: bob.id, kind: 'text', body });
    const answer = await aliceSocket.answerTo(cid, STEP_MS);
    if (answer.type === 'error') throw new Error(`the send was refused: ${answer.code} ${answer.message}`);
    const delivered = await bobSocket.next('message', (frame) => frame.cid === cid, STEP_MS);
    if (delivered.body !== body || delivered.from !== alice.id) throw new Error('the message arrived changed');
    bobSocket.send({ type: 'sync', cursors: {} });
    const conv = directConversationId(alice.id, bob.id);
    const sessions = await bobSocket.next('sessions', () => true, STEP_MS);
    if (!sessions.sessions.some((session) => session.conv === conv))
      throw new Error("the receiver's sync lacks the chat");
    await bobSocket.next('synced', () => true, STEP_MS);
  } finally {
    for (const socket of sockets) socket.terminate();
  }
}

/** The chat check's result, for a row's verdict. */
export interface ChatProbe {
  /** False only when the check ran and chat did not work. */
  ok: boolean;
  /** What the operator reads in the row's detail. */
  note: string;
}

/** Runs the chat check and reports it; a check that could not log in is reported, not failed. */
export async function probeChat(target: Target, pair?: readonly [Account, Account]): Promise<ChatProbe> {
  const started = Date.now();
  try {
    await chatStillWorks(target, pair);
    return { ok: true, note: `chat still works (${Date.now() - started} ms)` };
  } catch (error) {
    if (error instanceof Skip) return { ok: true, note: 'chat not checked (no login allowed)' };
    return { ok: false, note: `chat broke during the attack: ${(error as Error).message}` };
  }
}

/**
 * Runs `attack`, and the chat check `afterMs` into it (while it runs, for an attack that lasts
 * longer); answers both once both are done. The attack's failure is thrown as it is.
 */
export async function during<T>(
  target: Target,
  attack: () => Promise<T>,
  options: { afterMs?: number; pair?: readonly [Account, Account] } = {},
): Promise<{ result: T; chat: ChatProbe }> {
  const running = attack();
  const chat = new Promise<ChatProbe>((resolve) =>
    setTimeout(() => resolve(probeChat(target, options.pair)), options.afterMs ?? 0),
  );
  const [result, probe] = await Promise.all([running, chat]);
  return { result, chat: probe };
}
