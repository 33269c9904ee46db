/** Sending messages as a client does, and reading the server's answer to each. */
import { randomBytes } from 'node:crypto';
import type { SendFrame } from '../../../contract/frames';
import type { RawSocket } from './socket';

export function freshCid(prefix = 'attack'): string {
  return `${prefix}-${randomBytes(8).toString('hex')}`;
}

/** How the server answered one send: stored (its conv and seq) or refused (its error code). */
export type SendAnswer =
  | { stored: true; conv: string; seq: number }
  | { stored: false; code: string; message: string }
  | { stored: undefined; why: string };

/** Sends one message and waits for its ack or the error that names its cid. */
export async function sendAndWait(
  socket: RawSocket,
  frame: Omit<SendFrame, 'type' | 'cid'> & { cid?: string },
  timeoutMs?: number,
): Promise<SendAnswer> {
  const cid = frame.cid ?? freshCid();
  socket.send({ type: 'send', ...frame, cid });
  try {
    const answer = await socket.answerTo(cid, timeoutMs);
    if (answer.type === 'ack') return { stored: true, conv: answer.conv, seq: answer.seq };
    return { stored: false, code: answer.code, message: answer.message };
  } catch (error) {
    return { stored: undefined, why: (error as Error).message };
  }
}

/** A send answer for a detail line. */
export function describeSend(answer: SendAnswer): string {
  if (answer.stored === true) return `stored (seq ${answer.seq})`;
  if (answer.stored === false) return `refused ${answer.code}`;
  return `unanswered (${answer.why})`;
}
