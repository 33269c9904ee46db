import type { RawData } from 'ws';
import type { ClientFrame, HistoryFrame, SessionsRequestFrame, SyncFrame } from '../../../contract/frames';
import type { ErrorCode } from '../../../contract/limits';
import type { ConnectionBudgets, UserBudgets } from './budgets';
import { parseClientFrame } from './validate';

/** What becomes of a frame that arrived, decided before it waits behind the connection's earlier frames. */
export type Admission =
  /** The bare text `ping` (the protocol's other heartbeat): a bare `pong`. */
  | { kind: 'pong' }
  /** Refused: told with an `error` frame in its turn. */
  | { kind: 'error'; code: ErrorCode; message: string; ref?: string }
  /**
   * A `history`, `sync` or `sessions` page within its budgets: in its turn, refused still if
   * earlier answers are unread.
   */
  | { kind: 'request'; frame: HistoryFrame | SyncFrame | SessionsRequestFrame; ref: string }
  | { kind: 'handle'; frame: ClientFrame }
  /** Dropped without a word (a `typing` beyond its budget). */
  | { kind: 'drop' };

/** The text of a frame as `ws` hands it over (a Buffer, unless fragments or an ArrayBuffer). */
function textOf(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function rateLimited(message: string, ref?: string): Admission {
  return { kind: 'error', code: 'rate_limited', message, ref };
}

/**
 * Parses a frame as it arrives and spends the budgets of the frames that cost the server work:
 * a flood of them queues nothing but its refusals. The budgets of one connection, then of its user.
 */
export function admit(
  data: RawData,
  isBinary: boolean,
  userId: string,
  budgets: ConnectionBudgets,
  users: UserBudgets,
): Admission {
  if (isBinary) return { kind: 'error', code: 'bad_frame', message: 'binary frames are not part of the protocol' };
  const text = textOf(data);
  if (text === 'ping') return { kind: 'pong' };
  const parsed = parseClientFrame(text);
  if (!parsed.ok) return { kind: 'error', code: parsed.code, message: parsed.message, ref: parsed.ref };
  const frame = parsed.frame;
  switch (frame.type) {
    case 'typing':
      // A hint, not data: beyond the budget it is dropped without a word.
      return budgets.typing.take() ? { kind: 'handle', frame } : { kind: 'drop' };
    case 'history':
    case 'sync':
    case 'sessions': {
      const ref = frame.type === 'history' ? frame.conv : frame.type;
      if (!budgets.requests.take() || !users.request(userId)) {
        return rateLimited(`too many ${frame.type} requests: wait a moment and ask again`, ref);
      }
      return { kind: 'request', frame, ref };
    }
    case 'send': {
      // Refused sends are not stored: the client keeps them and resends later with the same cid.
      if (!budgets.sends.take()) return rateLimited('too many messages: wait and resend with the same cid', frame.cid);
      const refusal = users.send(userId, Buffer.byteLength(frame.body));
      if (refusal === 'rate') {
        return rateLimited('too many messages from this user: wait and resend with the same cid', frame.cid);
      }
      if (refusal === 'quota') {
        return rateLimited("today's quota of message bytes is spent: resend later with the same cid", frame.cid);
      }
      return { kind: 'handle', frame };
    }
    case 'recall': {
      // Budgeted as a send (it stores a message), its body no bytes of the user's quota.
      if (!budgets.sends.take()) return rateLimited('too many messages: wait and resend with the same cid', frame.cid);
      if (users.send(userId, 0) === 'rate') {
        return rateLimited('too many messages from this user: wait and resend with the same cid', frame.cid);
      }
      return { kind: 'handle', frame };
    }
    default:
      return { kind: 'handle', frame };
  }
}
