/**
 * Row 8: a `send` to `dm:<larger id>:<smaller id>` (the two ids out of canonical order) is refused
 * with `bad_frame` (or mapped to the canonical id, as the issue also allows); it must never be
 * stored under a second id for the same two people.
 */
import { directConversationId } from '../../../contract/conversations';
import { during } from '../kit/chat';
import { Findings } from '../kit/outcome';
import type { AttackRow } from '../kit/row';
import { describeSend, sendAndWait } from '../kit/send';

export const row: AttackRow = {
  row: 8,
  name: 'dm id out of order',
  async run({ target, scope }) {
    const alice = await scope.person();
    const bob = await scope.person();
    const canonical = directConversationId(alice.id, bob.id);
    const [, first, second] = canonical.split(':');
    const reversed = `dm:${second}:${first}`;
    const { result, chat } = await during(target, () =>
      sendAndWait(alice.socket, { conv: reversed, kind: 'text', body: '两个会话？' }),
    );
    const findings = new Findings();
    if (result.stored === true) {
      const mapped = result.conv === canonical;
      findings.check(
        mapped,
        `stored under ${mapped ? 'the canonical id' : 'the reversed id: a second chat with one person'}`,
      );
    } else {
      findings.check(
        result.stored === false && result.code === 'bad_frame',
        `the reversed id: ${describeSend(result)}`,
      );
    }
    findings.check(chat.ok, chat.note);
    return findings.outcome();
  },
};
