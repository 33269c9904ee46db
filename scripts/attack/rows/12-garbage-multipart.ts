/**
 * Row 12: `POST /api/upload` declaring a multipart body that is `garbage` must be refused as the
 * client's fault: `400 bad_request` in our error shape, not `500 internal`. (That an aborted upload
 * is logged at info, not error, shows only in the target's log.)
 */
import { login } from '../kit/accounts';
import { during } from '../kit/chat';
import { describeAnswer, errorCode, request } from '../kit/http';
import { Findings } from '../kit/outcome';
import type { AttackRow } from '../kit/row';

export const row: AttackRow = {
  row: 12,
  name: 'garbage multipart upload',
  async run({ target }) {
    const account = await login(target);
    const { result, chat } = await during(target, () =>
      request(target, 'POST', '/api/upload', {
        token: account.token,
        headers: { 'content-type': 'multipart/form-data; boundary=----attack-replay' },
        raw: 'garbage',
      }),
    );
    const findings = new Findings();
    findings.check(result.status === 400 && errorCode(result) === 'bad_request', `answered ${describeAnswer(result)}`);
    findings.check(chat.ok, chat.note);
    return findings.outcome();
  },
};
