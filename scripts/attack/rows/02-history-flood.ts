/**
 * Row 2: costly requests from sockets that do not read. One user fills a conversation with 100
 * texts of 4,000 units (a `history` page of 1.2 MB), opens 10 sockets, stops reading them, and
 * sends `history` (limit 100) on each every 10 ms for 2 s (the issue: 5 s). Held when `/healthz`,
 * probed throughout, always answers within a second and a normal chat still works. Afterwards the
 * row waits (up to 30 s) for the server to answer `/healthz` quickly again, so that the next row
 * does not inherit the backlog.
 */
import { directConversationId } from '../../../contract/conversations';
import { login } from '../kit/accounts';
import { during } from '../kit/chat';
import { recovered, watchHealth } from '../kit/health';
import { Findings } from '../kit/outcome';
import { delay, inParallel } from '../kit/pool';
import { RULES } from '../kit/rules';
import type { AttackRow } from '../kit/row';
import { describeSend, freshCid, sendAndWait } from '../kit/send';
import type { Scope } from '../kit/scope';
import type { RawSocket } from '../kit/socket';

const MESSAGES = 100;
const FILL_SOCKETS = 4;
const SOCKETS = 10;
const EVERY_MS = 10;
const ATTACK_MS = 2000;
const RECOVERY_MS = 30_000;
const BODY = '史'.repeat(RULES.maxTextLength);

/** Stores `MESSAGES` long texts from `token`'s user to `to`, spread over a few sockets; a refusal for rate is retried. */
async function fill(scope: Scope, token: string, to: string): Promise<void> {
  const sockets = await inParallel(FILL_SOCKETS, FILL_SOCKETS, () => scope.open(token));
  try {
    await inParallel(MESSAGES, FILL_SOCKETS * 5, async (index) => {
      const socket = sockets[index % FILL_SOCKETS];
      const cid = freshCid('fill');
      for (let attempt = 1; ; attempt++) {
        const answer = await sendAndWait(socket, { cid, to, kind: 'text', body: BODY }, 10_000);
        if (answer.stored === true) return;
        const limited = answer.stored === false && answer.code === 'rate_limited';
        if (!limited || attempt === 5) throw new Error(`could not fill the conversation: ${describeSend(answer)}`);
        await delay(1000 * attempt);
      }
    });
  } finally {
    for (const socket of sockets) socket.terminate();
  }
}

/** Sends `history` on every socket every EVERY_MS for ATTACK_MS; answers how many were sent. */
async function flood(sockets: RawSocket[], conv: string): Promise<number> {
  let sent = 0;
  const timer = setInterval(() => {
    for (const socket of sockets) {
      if (!socket.isOpen) continue;
      socket.send({ type: 'history', conv, limit: 100 });
      sent += 1;
    }
  }, EVERY_MS);
  await delay(ATTACK_MS);
  clearInterval(timer);
  return sent;
}

export const row: AttackRow = {
  row: 2,
  name: 'history flood, not reading',
  budgetMs: () => 90_000,
  async run({ target, scope }) {
    const attacker = await login(target);
    const peer = await login(target);
    await fill(scope, attacker.token, peer.id);
    const conv = directConversationId(attacker.id, peer.id);

    const sockets = await inParallel(SOCKETS, SOCKETS, () => scope.open(attacker.token));
    for (const socket of sockets) socket.pause();
    const health = watchHealth(target);
    const { result: sent, chat } = await during(target, () => flood(sockets, conv), { afterMs: 1000 });
    const { slowestMs, probes, failures } = await health.stop();
    const closedByServer = sockets.filter((socket) => !socket.isOpen).length;
    for (const socket of sockets) socket.terminate();
    const recoveredAfter = await recovered(target, RULES.healthzMs, RECOVERY_MS);

    const findings = new Findings();
    findings.note(`${sent} history requests for 1.2 MB pages on ${SOCKETS} sockets that do not read`);
    findings.check(
      slowestMs < RULES.healthzMs && failures === 0,
      `/healthz slowest ${slowestMs} ms over ${probes} probes${failures ? `, ${failures} failed` : ''}`,
    );
    if (closedByServer > 0) findings.note(`${closedByServer} attack sockets closed by the server`);
    findings.check(
      recoveredAfter !== undefined,
      recoveredAfter === undefined
        ? `/healthz still slow ${RECOVERY_MS / 1000} s after the attack`
        : `quick again ${(recoveredAfter / 1000).toFixed(1)} s after the attack`,
    );
    findings.check(chat.ok, chat.note);
    return findings.outcome();
  },
};
