/**
 * Row 14: every HTTP failure in our shape `{error:{code,message}}`, Fastify's own too: a bad URL
 * encoding and a garbage request line (400), a `text/plain` login (415 unsupported_media_type),
 * and `{"nickname": 123}` refused (400) rather than coerced to "123".
 */
import { login } from '../kit/accounts';
import { during } from '../kit/chat';
import { describeAnswer, errorCode, rawExchange, request, type Answer } from '../kit/http';
import { Findings, Skip } from '../kit/outcome';
import type { AttackRow } from '../kit/row';

interface Case {
  what: string;
  expected: { status: number; code: string };
  send(): Promise<Answer | undefined>;
}

export const row: AttackRow = {
  row: 14,
  name: 'errors in our shape',
  async run({ target }) {
    const cases: Case[] = [
      {
        what: 'bad URL encoding',
        expected: { status: 400, code: 'bad_request' },
        send: () => request(target, 'GET', '/uploads/%E0%A4%A'),
      },
      {
        what: 'garbage request line',
        expected: { status: 400, code: 'bad_request' },
        send: () => rawExchange(target, 'GARBAGE\r\n\r\n'),
      },
      {
        what: 'text/plain login',
        expected: { status: 415, code: 'unsupported_media_type' },
        send: () =>
          request(target, 'POST', '/api/login', {
            headers: { 'content-type': 'text/plain' },
            raw: '{"code":"attack-replay","devId":"attack-text-plain"}',
          }),
      },
      {
        what: '{"nickname": 123}',
        expected: { status: 400, code: 'bad_request' },
        // Needs an account; without one (login limit) this case is left out, the others still judged.
        send: async () => {
          try {
            const account = await login(target);
            return await request(target, 'PUT', '/api/profile', { token: account.token, json: { nickname: 123 } });
          } catch (error) {
            if (error instanceof Skip) return undefined;
            throw error;
          }
        },
      },
    ];
    const { result, chat } = await during(target, () => Promise.all(cases.map((one) => one.send())));
    const findings = new Findings();
    cases.forEach((one, index) => {
      const answer = result[index];
      if (!answer) {
        findings.note(`${one.what}: not replayed (no login allowed)`);
        return;
      }
      if (answer.status === 429) {
        // The login limit answered before the body was read: this case cannot be judged now.
        findings.note(`${one.what}: not judged (429, the login limit is spent)`);
        return;
      }
      const ok = answer.status === one.expected.status && errorCode(answer) === one.expected.code;
      findings.check(ok, `${one.what}: ${describeAnswer(answer)}`);
    });
    findings.check(chat.ok, chat.note);
    return findings.outcome();
  },
};
