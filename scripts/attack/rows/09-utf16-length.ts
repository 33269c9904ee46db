/**
 * Row 9: lengths count UTF-16 units, as documented. A body of 4,000 emoji (8,000 units) is refused
 * with `bad_frame`; one of 2,000 emoji (4,000 units, the limit) is taken.
 */
import { during } from '../kit/chat';
import { Findings } from '../kit/outcome';
import { RULES } from '../kit/rules';
import type { AttackRow } from '../kit/row';
import { describeSend, sendAndWait } from '../kit/send';

export const row: AttackRow = {
  row: 9,
  name: 'emoji bodies over the limit',
  async run({ target, scope }) {
    const alice = await scope.person();
    const bob = await scope.person();
    const atLimit = '😀'.repeat(RULES.maxTextLength / 2);
    const twice = '😀'.repeat(RULES.maxTextLength);
    const { result, chat } = await during(target, async () => ({
      atLimit: await sendAndWait(alice.socket, { to: bob.id, kind: 'text', body: atLimit }),
      twice: await sendAndWait(alice.socket, { to: bob.id, kind: 'text', body: twice }),
    }));
    const findings = new Findings();
    findings.check(
      result.twice.stored === false && result.twice.code === 'bad_frame',
      `${twice.length} units: ${describeSend(result.twice)}`,
    );
    findings.check(result.atLimit.stored === true, `${atLimit.length} units: ${describeSend(result.atLimit)}`);
    findings.check(chat.ok, chat.note);
    return findings.outcome();
  },
};
