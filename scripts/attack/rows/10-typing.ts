/**
 * Row 10: `typing` from a stranger. Someone who never talked to the victim sends 50 `typing` frames
 * on their (empty) dm: none may reach the victim. And between two who do share a conversation, a
 * burst of 30 is cut to the per-connection budget (TYPING_BURST 3, then TYPING_RATE 1/s).
 */
import { directConversationId } from '../../../contract/conversations';
import { during } from '../kit/chat';
import { Findings } from '../kit/outcome';
import { delay } from '../kit/pool';
import { RULES } from '../kit/rules';
import type { AttackRow } from '../kit/row';
import { describeSend, sendAndWait } from '../kit/send';
import type { Person } from '../kit/scope';

const STRANGER_FRAMES = 50;
const PEER_FRAMES = 30;

/** Sends `count` typing frames on `conv` at once; answers how long the burst took, in ms. */
async function typeBurst(from: Person, conv: string, count: number): Promise<number> {
  const started = Date.now();
  for (let i = 0; i < count; i++) from.socket.send({ type: 'typing', conv });
  await from.socket.settle();
  return Date.now() - started;
}

export const row: AttackRow = {
  row: 10,
  name: 'typing from strangers',
  async run({ target, scope }) {
    const stranger = await scope.person();
    const victim = await scope.person();
    const alice = await scope.person();
    const bob = await scope.person();
    const peers = directConversationId(alice.id, bob.id);
    const first = await sendAndWait(alice.socket, { to: bob.id, kind: 'text', body: '你好' });
    if (first.stored !== true) throw new Error(`the peers' first message: ${describeSend(first)}`);

    const { result, chat } = await during(target, async () => {
      await typeBurst(stranger, directConversationId(stranger.id, victim.id), STRANGER_FRAMES);
      const burstMs = await typeBurst(alice, peers, PEER_FRAMES);
      // Typing is relayed as it arrives; a round trip on each receiver, and a moment, lets it all in.
      await Promise.all([victim.socket.settle(), bob.socket.settle()]);
      await delay(200);
      return { burstMs };
    });
    const findings = new Findings();
    const toVictim = victim.socket.counts.get('typing') ?? 0;
    findings.check(toVictim === 0, `a stranger's ${STRANGER_FRAMES} typing frames: ${toVictim} reached the victim`);
    const strangerErrors = stranger.socket.counts.get('error') ?? 0;
    if (strangerErrors > 0)
      findings.note(`the stranger got ${strangerErrors} error frames (the rule: dropped silently)`);
    const toBob = bob.socket.counts.get('typing') ?? 0;
    const allowed = RULES.typingBurst + Math.ceil((result.burstMs / 1000) * RULES.typingRate) + 1;
    findings.check(toBob <= allowed, `a peer's burst of ${PEER_FRAMES}: ${toBob} relayed (budget ${allowed})`);
    findings.check(chat.ok, chat.note);
    return findings.outcome();
  },
};
