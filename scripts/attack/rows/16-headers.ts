/**
 * Row 16: security headers on every answer (`@fastify/helmet`): a Content-Security-Policy,
 * framing forbidden, no MIME sniffing. HSTS is the TLS proxy's (deploy/ nginx): judged only when
 * the target is reached over https.
 */
import { during } from '../kit/chat';
import { request, type Answer } from '../kit/http';
import { Findings } from '../kit/outcome';
import type { AttackRow } from '../kit/row';

/** The headers an answer lacks. */
function missing(answer: Answer, https: boolean): string[] {
  const lacks: string[] = [];
  const csp = answer.headers.get('content-security-policy');
  if (!csp) lacks.push('Content-Security-Policy');
  if (!answer.headers.get('x-frame-options') && !csp?.includes('frame-ancestors')) lacks.push('X-Frame-Options');
  if (answer.headers.get('x-content-type-options') !== 'nosniff') lacks.push('X-Content-Type-Options: nosniff');
  if (https && !answer.headers.get('strict-transport-security')) lacks.push('Strict-Transport-Security');
  return lacks;
}

export const row: AttackRow = {
  row: 16,
  name: 'security headers',
  async run({ target }) {
    const routes = ['/healthz', '/api/me', '/no-such-route'];
    const { result, chat } = await during(target, () =>
      Promise.all(routes.map((route) => request(target, 'GET', route))),
    );
    const findings = new Findings();
    const lacking = result.map((answer) => missing(answer, target.https).join(', '));
    // Routes that lack the same headers share one phrase.
    for (const lacks of new Set(lacking)) {
      if (!lacks) continue;
      const where = routes.filter((_route, index) => lacking[index] === lacks);
      findings.check(false, `${where.join(', ')} lack ${lacks}`);
    }
    if (lacking.every((lacks) => !lacks)) findings.note(`CSP, framing and nosniff on ${routes.join(', ')}`);
    if (!target.https) findings.note('HSTS not judged over plain http (deploy/ nginx sends it)');
    findings.check(chat.ok, chat.note);
    return findings.outcome();
  },
};
