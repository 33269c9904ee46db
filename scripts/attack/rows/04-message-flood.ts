/**
 * Row 4: a message flood from one user. 10 sockets send 20 texts of 4,000 units each (12 KB in
 * UTF-8) at once: 200 messages, more than USER_SEND_BURST (120). Held when the server refuses some
 * with `rate_limited` naming their cid, and stores no more than the burst plus what refills.
 */
import { during } from '../kit/chat';
import { Findings } from '../kit/outcome';
import { inParallel } from '../kit/pool';
import { RULES } from '../kit/rules';
import type { AttackRow } from '../kit/row';
import { sendAndWait, type SendAnswer } from '../kit/send';

const SOCKETS = 10;
const EACH = 20;
const BODY = '满'.repeat(RULES.maxTextLength);

export const row: AttackRow = {
  row: 4,
  name: 'message flood',
  async run({ target, scope }) {
    const sender = await scope.person();
    const receiver = await scope.person();
    const sockets = [sender.socket, ...(await inParallel(SOCKETS - 1, 5, () => scope.open(sender.token)))];
    const started = Date.now();
    const { result: answers, chat } = await during(
      target,
      () =>
        Promise.all(
          sockets.flatMap((socket) =>
            Array.from({ length: EACH }, () =>
              sendAndWait(socket, { to: receiver.id, kind: 'text', body: BODY }, 15_000),
            ),
          ),
        ),
      { afterMs: 50 },
    );
    const seconds = (Date.now() - started) / 1000;
    const count = (test: (answer: SendAnswer) => boolean) => answers.filter(test).length;
    const stored = count((answer) => answer.stored === true);
    const limited = count((answer) => answer.stored === false && answer.code === 'rate_limited');
    const other = answers.length - stored - limited;
    const allowed = RULES.userSendBurst + Math.ceil((seconds / 60) * RULES.userSendRatePerMinute) + 1;
    const findings = new Findings();
    const mib = ((stored * Buffer.byteLength(BODY)) / 2 ** 20).toFixed(1);
    findings.check(
      limited > 0 && stored <= allowed,
      limited > 0
        ? `${answers.length} sent: ${stored} stored (${mib} MiB, bound ${allowed}), ${limited} refused rate_limited`
        : `${answers.length} sent: ${stored} stored (${mib} MiB), nothing refused`,
    );
    if (other > 0) findings.note(`${other} answered otherwise`);
    findings.check(chat.ok, chat.note);
    return findings.outcome();
  },
};
