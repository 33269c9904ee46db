/**
 * Row 7: only our own uploads as image bodies and avatars. An image message naming
 * `http://evil.example/uploads/<name>.png` is refused (`bad_frame`), or, for the name of a real
 * upload, stored rewritten to this server's address, never evil.example's. `javascript:`, `data:`
 * and foreign `http:` avatars are refused (400).
 */
import { randomBytes } from 'node:crypto';
import { during } from '../kit/chat';
import { describeAnswer, request } from '../kit/http';
import { Findings } from '../kit/outcome';
import type { AttackRow } from '../kit/row';
import { describeSend, freshCid, sendAndWait } from '../kit/send';
import { upload, uploadedUrl } from '../kit/upload';

const EVIL = 'http://evil.example';
const AVATARS = ['javascript:alert(1)', 'data:image/png;base64,iVBORw0KGgo=', `${EVIL}/avatar.png`];

export const row: AttackRow = {
  row: 7,
  name: 'foreign image and avatar URLs',
  async run({ target, scope }) {
    const alice = await scope.person();
    const bob = await scope.person();
    const uploaded = await upload(target, alice.token);
    const ours = uploadedUrl(uploaded);
    if (!ours) throw new Error(`a real upload was refused: ${describeAnswer(uploaded)}`);
    const name = new URL(ours).pathname.split('/').pop() ?? '';

    const { result, chat } = await during(target, async () => {
      const madeUp = await sendAndWait(alice.socket, {
        to: bob.id,
        kind: 'image',
        body: `${EVIL}/uploads/${randomBytes(18).toString('base64url')}.png`,
      });
      const cid = freshCid();
      const realName = await sendAndWait(alice.socket, {
        cid,
        to: bob.id,
        kind: 'image',
        body: `${EVIL}/uploads/${name}`,
      });
      // What bob was handed, when it was stored.
      const delivered =
        realName.stored === true
          ? await bob.socket.next('message', (frame) => frame.cid === cid).catch(() => undefined)
          : undefined;
      const avatars = await Promise.all(
        AVATARS.map((avatar) => request(target, 'PUT', '/api/profile', { token: alice.token, json: { avatar } })),
      );
      return { madeUp, realName, delivered, avatars };
    });
    const findings = new Findings();
    findings.check(
      result.madeUp.stored === false && result.madeUp.code === 'bad_frame',
      `evil.example with a made-up name: ${describeSend(result.madeUp)}`,
    );
    if (result.realName.stored === true) {
      const body = result.delivered?.body ?? '(not delivered)';
      findings.check(
        body.startsWith(`${new URL(ours).origin}/uploads/`),
        `evil.example with a real upload's name: stored, handed to the peer as ${body}`,
      );
    } else {
      findings.check(
        result.realName.stored === false && result.realName.code === 'bad_frame',
        `evil.example with a real upload's name: ${describeSend(result.realName)}`,
      );
    }
    const taken = AVATARS.filter((_avatar, index) => result.avatars[index].status !== 400);
    findings.check(
      taken.length === 0,
      taken.length === 0
        ? `${AVATARS.length} foreign avatars refused 400`
        : `avatars taken: ${taken.map((avatar) => avatar.split(':')[0] + ':').join(', ')}`,
    );
    findings.check(chat.ok, chat.note);
    return findings.outcome();
  },
};
