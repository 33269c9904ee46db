/**
 * Row 15: the directory. `GET /api/users?q=<one letter>` is refused (400 bad_request); a stranger
 * found by name is never shown online; pages hold at most 50; and a new account's default nickname
 * does not give away its login credential (in development mode, the device id).
 */
import { randomBytes } from 'node:crypto';
import type { DirectoryEntry } from '../../../contract/frames';
import { login } from '../kit/accounts';
import { during } from '../kit/chat';
import { describeAnswer, errorCode, request } from '../kit/http';
import { Findings } from '../kit/outcome';
import { RULES } from '../kit/rules';
import type { AttackRow } from '../kit/row';

/** The start of every default nickname, before and after issue 14. */
const DEFAULT_NICKNAME = '微信用户';

export const row: AttackRow = {
  row: 15,
  name: 'directory',
  async run({ target, scope }) {
    // A device id whose end is easy to spot in a nickname: the old default showed its last 4 characters.
    const tail = randomBytes(3).toString('hex').slice(0, 4).toUpperCase();
    const caller = await login(target, `attack-${randomBytes(6).toString('hex')}Q${tail}`);
    const stranger = await scope.person();
    const name = `路人${randomBytes(4).toString('hex')}`;
    const renamed = await request(target, 'PUT', '/api/profile', { token: stranger.token, json: { nickname: name } });
    if (renamed.status !== 200) throw new Error(`could not name the stranger: ${describeAnswer(renamed)}`);

    const { result, chat } = await during(target, async () => ({
      oneLetter: await request(target, 'GET', '/api/users?q=a', { token: caller.token }),
      byName: await request(target, 'GET', `/api/users?q=${encodeURIComponent(name)}`, { token: caller.token }),
      // Every account with a default nickname matches: the replay has made well over a page of them.
      bigPage: await request(target, 'GET', `/api/users?q=${encodeURIComponent(DEFAULT_NICKNAME)}&limit=1000`, {
        token: caller.token,
      }),
    }));
    const findings = new Findings();
    const { oneLetter, byName, bigPage } = result;
    const listed = Array.isArray(oneLetter.body) ? ` with ${oneLetter.body.length} users` : '';
    findings.check(
      oneLetter.status === 400 && errorCode(oneLetter) === 'bad_request',
      `q=a: ${describeAnswer(oneLetter)}${listed}`,
    );
    const found = Array.isArray(byName.body)
      ? (byName.body as DirectoryEntry[]).find((entry) => entry.id === stranger.id)
      : undefined;
    if (found) findings.check(!found.online, `an online stranger found by name shows online: ${found.online}`);
    else findings.note(`the stranger by name: ${describeAnswer(byName)}, not listed`);
    if (Array.isArray(bigPage.body)) {
      findings.check(
        bigPage.body.length <= RULES.directoryPageMax,
        `q=${DEFAULT_NICKNAME}&limit=1000: ${bigPage.body.length} entries`,
      );
    } else {
      findings.check(bigPage.status === 400, `q=${DEFAULT_NICKNAME}&limit=1000: ${describeAnswer(bigPage)}`);
    }
    findings.check(
      !caller.nickname.includes(tail),
      `default nickname "${caller.nickname}" ${caller.nickname.includes(tail) ? 'shows' : 'hides'} the device id's end`,
    );
    findings.check(chat.ok, chat.note);
    return findings.outcome();
  },
};
