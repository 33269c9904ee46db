/** Row 13: `GET /metrics` with no credentials (or wrong ones) must not answer the figures: 404 (no METRICS_TOKEN) or 401. */
import { during } from '../kit/chat';
import { request, type Answer } from '../kit/http';
import { Findings } from '../kit/outcome';
import type { AttackRow } from '../kit/row';

/** What an open `/metrics` gives away, named in the detail. */
function exposed(answer: Answer): string {
  const lines = answer.text.split('\n').filter((line) => line && !line.startsWith('#'));
  const node = /nodejs_version_info\{version="([^"]+)"/.exec(answer.text)?.[1];
  return `${lines.length} figures${node ? `, Node ${node}` : ''}`;
}

export const row: AttackRow = {
  row: 13,
  name: 'metrics without credentials',
  async run({ target }) {
    const { result, chat } = await during(target, async () => ({
      none: await request(target, 'GET', '/metrics'),
      wrong: await request(target, 'GET', '/metrics', { headers: { authorization: 'Bearer attack-replay-wrong' } }),
    }));
    const findings = new Findings();
    for (const [what, answer] of [
      ['no credentials', result.none],
      ['a wrong token', result.wrong],
    ] as const) {
      const closed = answer.status === 404 || answer.status === 401;
      findings.check(closed, `${what}: ${answer.status}${answer.status === 200 ? ` with ${exposed(answer)}` : ''}`);
    }
    findings.check(chat.ok, chat.note);
    return findings.outcome();
  },
};
