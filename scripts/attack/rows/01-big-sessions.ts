/**
 * Row 1: a `sessions` frame no client can take. 150 accounts each send one text of 4,000 UTF-16
 * units of emoji to one user, who then syncs. Held when the sync completes without a 1013 close,
 * and the `sessions` frame is bounded: at most `sessionsPage` (100) entries, `more` when there are
 * others, and each text's `last.body` an excerpt of at most 50 units.
 */
import { accounts } from '../kit/accounts';
import { during } from '../kit/chat';
import { Findings } from '../kit/outcome';
import { inParallel } from '../kit/pool';
import { RULES } from '../kit/rules';
import type { AttackRow } from '../kit/row';
import { describeSend, sendAndWait } from '../kit/send';

const SENDERS = 150;
/** 2,000 emoji: 4,000 UTF-16 units, the longest body the documents allow. */
const BODY = '🧱'.repeat(RULES.maxTextLength / 2);
const SYNC_MS = 20_000;

export const row: AttackRow = {
  row: 1,
  name: 'sessions too big to sync',
  async run({ target, scope }) {
    const [victim] = await accounts(target, 1);
    const senders = await accounts(target, SENDERS);
    // Each sender connects, sends its one text, and leaves: at most 10 at a time.
    await inParallel(SENDERS, 10, async (index) => {
      const socket = await scope.open(senders[index].token);
      try {
        const answer = await sendAndWait(socket, { to: victim.id, kind: 'text', body: BODY }, 10_000);
        if (answer.stored !== true) throw new Error(`sender ${index + 1}'s text: ${describeSend(answer)}`);
      } finally {
        socket.terminate();
      }
    });

    const socket = await scope.open(victim.token);
    const { result, chat } = await during(
      target,
      async () => {
        socket.send({ type: 'sync', cursors: {} });
        const sessions = await socket.next('sessions', () => true, SYNC_MS).catch((error: Error) => error);
        const synced = await socket.next('synced', () => true, SYNC_MS).catch((error: Error) => error);
        return { sessions, synced };
      },
      { afterMs: 20 },
    );
    const findings = new Findings();
    const { sessions, synced } = result;
    const bytes = socket.largest.get('sessions');
    const closed = socket.closedWith;
    if (closed) {
      findings.check(
        closed.code !== RULES.notReadingCloseCode,
        `the socket was closed with ${closed.code} ${closed.reason}`,
      );
    }
    if (synced instanceof Error) findings.check(false, `sync did not complete${closed ? '' : `: ${synced.message}`}`);
    else findings.note('sync completed, no 1013');
    if (!(sessions instanceof Error)) {
      const entries = sessions.sessions;
      const longest = Math.max(
        0,
        ...entries.map((entry) => (entry.last?.kind === 'text' ? entry.last.body.length : 0)),
      );
      const more = (sessions as { more?: unknown }).more;
      const size = bytes === undefined ? '' : ` (${(bytes / 2 ** 20).toFixed(2)} MiB)`;
      findings.check(entries.length <= RULES.sessionsPage, `sessions frame${size}: ${entries.length} entries`);
      findings.check(longest <= RULES.excerptLength, `longest last.body ${longest} units`);
      if (entries.length < SENDERS) findings.check(more === true, `more: ${String(more)}`);
    }
    findings.check(chat.ok, chat.note);
    return findings.outcome();
  },
};
