/**
 * The body of a `system` message (docs/protocol.md, "System messages"): a JSON text naming the
 * event. The server writes them; the app reads them back with `parseSystemEvent`.
 */
import type { GroupRole } from './http';

export type SystemEvent =
  | { event: 'created'; users: string[]; name: string }
  | { event: 'joined'; users: string[] }
  | { event: 'left' | 'removed'; users: [string] }
  /** `previousName`: the name before, when `name` changed (an addition to the contract). */
  | { event: 'updated'; name?: string; notice?: string; avatar?: string; previousName?: string }
  | { event: 'role'; users: [string]; role: GroupRole }
  | { event: 'dismissed' }
  | { event: 'recalled'; seq: number };

const EVENTS = new Set(['created', 'joined', 'left', 'removed', 'updated', 'role', 'dismissed', 'recalled']);

/** The event a system message's body names, or null when it is not one we know (a newer server). */
export function parseSystemEvent(body: string): SystemEvent | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const event = (parsed as { event?: unknown }).event;
  if (typeof event !== 'string' || !EVENTS.has(event)) return null;
  const users = (parsed as { users?: unknown }).users;
  if (users !== undefined && !(Array.isArray(users) && users.every((user) => typeof user === 'string'))) return null;
  return parsed as SystemEvent;
}
