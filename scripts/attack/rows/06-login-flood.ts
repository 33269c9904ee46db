/**
 * Row 6: a login flood from one address. Development logins with new device ids, 10 at a time,
 * until the server refuses one, at most LOGIN_BURST × 1.25 + 10 (the issue made 500): held when
 * a `429 rate_limited` with `Retry-After` comes. `--login-burst` tells the row the target's
 * LOGIN_BURST when the operator raised it for the replay. Production logins (calls to WeChat's
 * code2session) cannot be replayed against a development-mode target. This row spends the login
 * budget of this address, so the runner replays it last.
 */
import { accounts, loginCall, type Account } from '../kit/accounts';
import { during } from '../kit/chat';
import { describeAnswer, errorCode, type Answer } from '../kit/http';
import { Findings, Skip } from '../kit/outcome';
import { inParallel } from '../kit/pool';
import type { AttackRow } from '../kit/row';

/** The most logins the row makes for a target whose LOGIN_BURST is `burst`. */
export function loginAttempts(burst: number): number {
  return Math.ceil(burst * 1.25) + 10;
}

export const row: AttackRow = {
  row: 6,
  name: 'login flood',
  async run({ target, options }) {
    // The chat check's two people log in first: once the flood has spent the budget, no one can.
    let pair: [Account, Account] | undefined;
    try {
      const [alice, bob] = await accounts(target, 2);
      pair = [alice, bob];
    } catch (error) {
      if (!(error instanceof Skip)) throw error;
    }
    const most = loginAttempts(options.loginBurst);
    const { result, chat } = await during(
      target,
      async () => {
        let taken = 0;
        let refused: Answer | undefined;
        await inParallel(most, 10, async () => {
          if (refused) return;
          const answer = await loginCall(target);
          if (answer.status === 429) refused ??= answer;
          else taken += 1;
        });
        return { taken, refused };
      },
      { afterMs: 50, pair },
    );
    const findings = new Findings();
    const { taken, refused } = result;
    if (!refused) {
      findings.check(false, `all ${taken} logins taken from one address, nothing refused`);
    } else {
      const retryAfter = refused.headers.get('retry-after');
      findings.check(
        errorCode(refused) === 'rate_limited' && retryAfter !== null,
        `${taken} taken, then ${describeAnswer(refused)}, Retry-After: ${retryAfter ?? 'missing'}`,
      );
    }
    findings.note('production logins not replayed (development mode)');
    findings.check(chat.ok, chat.note);
    return findings.outcome();
  },
};
