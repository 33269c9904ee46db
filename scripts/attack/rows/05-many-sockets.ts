/**
 * Row 5: many sockets with one token. 12 are opened one after another (the issue opened 1,000);
 * held when at most MAX_CONNECTIONS_PER_USER (10) stay open and each one closed is among the
 * oldest, closed with 4004 `replaced`.
 */
import { during } from '../kit/chat';
import { Findings } from '../kit/outcome';
import { delay } from '../kit/pool';
import { RULES } from '../kit/rules';
import type { AttackRow } from '../kit/row';
import type { RawSocket } from '../kit/socket';

const SOCKETS = RULES.maxConnectionsPerUser + 2;

export const row: AttackRow = {
  row: 5,
  name: 'many sockets with one token',
  async run({ target, scope }) {
    const owner = await scope.person();
    const { result: sockets, chat } = await during(
      target,
      async () => {
        const opened: RawSocket[] = [owner.socket];
        // One at a time, each answered before the next: "oldest" is then well defined.
        while (opened.length < SOCKETS) {
          const socket = await scope.open(owner.token);
          await socket.settle();
          opened.push(socket);
        }
        // The replaced ones are closed as the newer ones open; a moment for their close frames.
        await opened[opened.length - 1].settle();
        await delay(200);
        return opened;
      },
      { afterMs: 100 },
    );
    const findings = new Findings();
    const open = sockets.filter((socket) => socket.isOpen).length;
    const closes = sockets.map((socket) => socket.closedWith);
    const closed = closes.filter((close) => close !== undefined);
    const lastClosed = closes.reduce((last, close, index) => (close ? index : last), -1);
    findings.check(open <= RULES.maxConnectionsPerUser, `${SOCKETS} opened, ${open} still open`);
    if (closed.length > 0) {
      const codes = [...new Set(closed.map((close) => close.code))].join(', ');
      findings.check(
        closed.every((close) => close.code === RULES.replacedCloseCode),
        `${closed.length} closed with ${codes}`,
      );
      findings.check(
        lastClosed < closed.length,
        lastClosed < closed.length ? 'the oldest closed' : 'newer ones closed',
      );
    }
    findings.check(chat.ok, chat.note);
    return findings.outcome();
  },
};
