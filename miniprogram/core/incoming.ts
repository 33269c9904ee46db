/**
 * What each frame from the server does to the stores: pure functions of (stores, frame), with no
 * socket, timer or storage in sight, so each can be tested on its own. What a frame asks the
 * client to do next (fetch a hole, mark a conversation read, list the sessions again) comes back
 * as follow-ups; core/client.ts carries them out.
 */
import { directPeer, isGroupConversationId } from '../../contract/conversations';
import { parseSystemEvent } from '../../contract/system-events';
import { isDirectSession, type ChatMessage, type PublicUser, type ServerFrameOf } from '../../contract/frames';
import { LIMITS } from '../../contract/limits';
import type { Stores } from '../stores/index';
import { recalledSeq } from '../stores/messages';

/** What the client knows that a frame alone does not say. */
export interface FrameContext {
  /** The conversation the message page shows, '' when none. */
  activeConv: string;
  /** The connection has synced: a message now is live, not part of the sync's replay. */
  live: boolean;
}

export type FollowUp =
  /** Messages are missing below `before`: fetch up to `limit` of them with `history`. */
  | { type: 'fetchHistory'; conv: string; before: number; limit: number }
  /** The conversation on screen got a message from the peer: it is read. */
  | { type: 'markRead'; conv: string }
  /** A message for a conversation the list has never heard of: ask for the session list again. */
  | { type: 'resync' }
  /** A system message changed a group (members, roles, name): its details are stale. */
  | { type: 'groupChanged'; conv: string };

/** The other member of a one-to-one conversation, if the app knows who they are. */
export function peerOf(stores: Stores, conv: string): PublicUser | undefined {
  const peerId = directPeer(conv, stores.me.id);
  return peerId ? stores.people.profile(peerId) : undefined;
}

/**
 * Lists a message in its conversation. One the list has not heard of, with someone whose profile
 * the app does not know yet, is listed at once under the peer's id alone, and the session list
 * (which carries the profile) is asked for again.
 */
function listMessage(stores: Stores, message: ChatMessage, active: boolean): FollowUp[] {
  const me = stores.me.id;
  const known = peerOf(stores, message.conv);
  if (known) return stores.sessions.applyMessage(message, me, active, known) ? [] : [{ type: 'resync' }];
  // Rare (the list names everyone the user talks to): only then is the list searched twice.
  const unlisted = !stores.sessions.find(message.conv);
  const peerId = directPeer(message.conv, me);
  const peer = peerId ? { id: peerId, nickname: '', avatar: '' } : undefined;
  const listed = stores.sessions.applyMessage(message, me, active, peer);
  return !listed || unlisted ? [{ type: 'resync' }] : [];
}

/**
 * `sessions`: the first page (the answer to `sync`) replaces the local list; a next page (with
 * `after`) is added to it, each conversation once. Pins and deletions stay the device's own.
 * Returns how many entries the frame added to the list.
 */
export function applySessions(stores: Stores, frame: ServerFrameOf<'sessions'>): number {
  const direct = frame.sessions.filter(isDirectSession);
  stores.people.remember(direct.map((session) => session.peer));
  // Who is online now (`presence` frames keep it up to date from here).
  for (const session of direct)
    if (session.online !== undefined) stores.people.setOnline(session.peer.id, session.online);
  const added =
    frame.after !== undefined
      ? stores.sessions.appendPage(frame.sessions, frame.more)
      : (stores.sessions.replaceAll(frame.sessions, frame.more), stores.sessions.list.length);
  for (const session of frame.sessions) showNewestKept(stores, session.conv);
  return added;
}

/**
 * When the list's last message of `conv` was deleted on this device, the list shows the newest
 * one still here instead (none: an empty preview), as WeChat does; the counts stay the server's.
 */
export function showNewestKept(stores: Stores, conv: string): void {
  const last = stores.sessions.find(conv)?.last;
  if (!last || !stores.messages.isDeleted(conv, last.cid || `${conv}#${last.seq}`)) return;
  const kept = stores.messages.view(conv).items.filter((item) => item.seq > 0 && !item.deleted);
  const newest = kept[kept.length - 1];
  if (!newest) return stores.sessions.showLast(conv, null);
  const { seq, cid, from, kind, body, ts, mentions } = newest;
  stores.sessions.showLast(
    conv,
    mentions ? { conv, seq, cid, from, kind, body, ts, mentions } : { conv, seq, cid, from, kind, body, ts },
  );
}

/** `message`: stored once, listed, and read at once when its conversation is on screen. */
export function applyMessage(stores: Stores, message: ChatMessage, context: FrameContext): FollowUp[] {
  const me = stores.me.id;
  const followUps: FollowUp[] = [];
  if (message.from !== me) stores.people.stopTyping(message.conv);
  const cursor = stores.messages.cursor(message.conv);
  stores.messages.addStored([message], me);
  // A live message beyond the next seq means frames were missed (sync replays come in order):
  // fetch the hole now rather than at the next connection.
  if (context.live && cursor > 0 && message.seq > cursor + 1) {
    const limit = Math.min(LIMITS.historyMax, message.seq - cursor - 1);
    followUps.push({ type: 'fetchHistory', conv: message.conv, before: message.seq, limit });
  }
  const active = message.conv === context.activeConv;
  const newest = message.seq > (stores.sessions.find(message.conv)?.lastSeq ?? 0);
  followUps.push(...listMessage(stores, message, active));
  // A replay of a message deleted on this device does not become the list's last message.
  showNewestKept(stores, message.conv);
  // A recall changes nothing of the group itself (the message store recalls the message).
  if (message.kind === 'system' && isGroupConversationId(message.conv) && recalledSeq(message) === 0) {
    followUps.push(...applyGroupEvent(stores, message, newest));
  }
  if (active && message.from !== me && context.live) followUps.push({ type: 'markRead', conv: message.conv });
  return followUps;
}

/**
 * What a group's system message changes here at once: its name and avatar in the list, and
 * whether the user is still in it. Only the newest news decides membership (an old `removed`
 * replayed after the user was invited back does not put them out again). The members and roles
 * are fetched again by the client (`groupChanged`).
 */
export function applyGroupEvent(stores: Stores, message: ChatMessage, newest: boolean): FollowUp[] {
  const event = parseSystemEvent(message.body);
  if (!event) return [];
  const me = stores.me.id;
  const conv = message.conv;
  if (event.event === 'updated') {
    const change: { name?: string; avatar?: string } = {};
    if (event.name !== undefined) change.name = event.name;
    if (event.avatar !== undefined) change.avatar = event.avatar;
    if (newest && (change.name !== undefined || change.avatar !== undefined)) stores.sessions.updateGroup(conv, change);
  }
  const out =
    event.event === 'dismissed' || ((event.event === 'left' || event.event === 'removed') && event.users[0] === me);
  if (out && newest) {
    stores.sessions.setLeft(conv);
    stores.groups.setLeft(conv);
  }
  return [{ type: 'groupChanged', conv }];
}

/** The ack of one's own send, as the message it stored (the outbox knows its body). */
export function applyAck(stores: Stores, message: ChatMessage): FollowUp[] {
  // A send restored from the outbox may go to a conversation the list has not heard of yet.
  return listMessage(stores, message, true);
}

/** `history`: a page merged into the conversation (older, or the newest one). */
export function applyHistory(stores: Stores, frame: ServerFrameOf<'history'>, context: FrameContext): void {
  const me = stores.me.id;
  const view = stores.messages.view(frame.conv);
  const first = frame.messages[0];
  const older = view.loaded && first !== undefined && first.seq < (view.items[0]?.seq || Infinity);
  stores.messages.addHistory(frame.conv, frame.messages, frame.hasMore, me, older);
  const newest = frame.messages[frame.messages.length - 1];
  if (newest) stores.sessions.applyMessage(newest, me, frame.conv === context.activeConv);
  // A list entry left with no last message (all deleted here) must not get a deleted one back.
  showNewestKept(stores, frame.conv);
}

/**
 * `synced`'s `truncated`: the sync replayed only the newest of these conversations' missed
 * messages, or none (see MessagesStore.truncated); `cursors` are those the sync was sent with.
 */
export function applyTruncated(
  stores: Stores,
  truncated: readonly string[],
  cursors: Readonly<Record<string, number>>,
): void {
  for (const conv of truncated) stores.messages.truncated(conv, cursors[conv] ?? 0);
}

/** `states`: someone read up to `readSeq` — the user on another device, or the peer ("已读"). */
export function applyStates(stores: Stores, frame: ServerFrameOf<'states'>): void {
  if (frame.user === stores.me.id) stores.sessions.markRead(frame.conv, frame.readSeq);
  // In a group, others' cursors are not sent (receipts come over HTTP).
  else if (!isGroupConversationId(frame.conv)) stores.sessions.setPeerRead(frame.conv, frame.readSeq);
}

/** `conversation`: the user muted or pinned a conversation (on this device or another). */
export function applyConversation(stores: Stores, frame: ServerFrameOf<'conversation'>): void {
  stores.sessions.setFlags(frame.conv, { muted: frame.muted, pinned: frame.pinned });
}

/** `presence`: a peer came online or went offline. */
export function applyPresence(stores: Stores, frame: ServerFrameOf<'presence'>): void {
  stores.people.setOnline(frame.user, frame.online);
}

/** `profile`: someone's new nickname or avatar, everywhere it shows (one's own too, from another device). */
export function applyProfile(stores: Stores, frame: ServerFrameOf<'profile'>): void {
  stores.people.remember([frame.user]);
  stores.sessions.updatePeer(frame.user);
  if (frame.user.id === stores.me.id) stores.me.setUser(frame.user);
}

/** `typing`: the peer's hint shows until `until` (ms since the epoch) or their message. */
export function applyTyping(stores: Stores, frame: ServerFrameOf<'typing'>, until: number): void {
  stores.people.setTyping(frame.conv, until);
}

/** A new epoch: nothing held of the old store can be trusted; the list comes with the next sync. */
export function startOver(stores: Stores): void {
  stores.messages.clear();
}
