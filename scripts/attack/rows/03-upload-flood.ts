/**
 * Row 3: an upload flood from one token. Tiny PNGs are uploaded (4 at a time) until the server
 * refuses one, at most 40 (the issue sent 1,000, then 40 of 5 MiB): held when a `429 rate_limited`
 * with `Retry-After` comes (UPLOAD_RATE, 20 a minute). The daily byte quota (100 MiB, `413
 * quota_exceeded`) and the removal of unreferenced uploads after a day are not replayed: one
 * needs over 100 MiB, the other a day. The files taken stay on the target (the server removes
 * unreferenced ones after UPLOAD_GRACE_S).
 */
import { login } from '../kit/accounts';
import { during } from '../kit/chat';
import { describeAnswer, errorCode, type Answer } from '../kit/http';
import { Findings } from '../kit/outcome';
import { inParallel } from '../kit/pool';
import { RULES } from '../kit/rules';
import type { AttackRow } from '../kit/row';
import { upload } from '../kit/upload';

const MOST = 2 * RULES.uploadRatePerMinute;

export const row: AttackRow = {
  row: 3,
  name: 'upload flood',
  async run({ target }) {
    const account = await login(target);
    const { result, chat } = await during(
      target,
      async () => {
        const answers: Answer[] = [];
        let refused: Answer | undefined;
        await inParallel(MOST, 4, async () => {
          if (refused) return;
          const answer = await upload(target, account.token);
          answers.push(answer);
          if (answer.status !== 200) refused ??= answer;
        });
        return { taken: answers.filter((answer) => answer.status === 200).length, refused };
      },
      { afterMs: 50 },
    );
    const findings = new Findings();
    const { taken, refused } = result;
    if (!refused) {
      findings.check(false, `all ${taken} uploads taken, nothing refused`);
    } else {
      const limited = refused.status === 429 && errorCode(refused) === 'rate_limited';
      const retryAfter = refused.headers.get('retry-after');
      findings.check(limited && retryAfter !== null, `${taken} taken, then ${describeAnswer(refused)}`);
      if (limited) findings.check(retryAfter !== null, `Retry-After: ${retryAfter ?? 'missing'}`);
    }
    findings.note('daily byte quota and clean-up not replayed');
    findings.check(chat.ok, chat.note);
    return findings.outcome();
  },
};
