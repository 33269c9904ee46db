import type { GroupRole } from '../../contract/http';
import { parseSystemEvent, type SystemEvent } from '../../contract/system-events';

/** A user's name as a tip says it: 你 for the user, else their nickname (looked up when drawn). */
export type NameOf = (userId: string) => string;

/** What a recall's tip needs beyond the event: who sent the recalled message, the recaller's role. */
export interface RecallContext {
  /** The sender of message `seq` of the conversation, when the app holds it. */
  senderOf?: (seq: number) => string | undefined;
  /** A group member's role, when the app has the group's members. */
  roleOf?: (userId: string) => GroupRole | null | undefined;
}

/** The names of `users` joined as WeChat joins them: 你 first (你和李四、王五), the rest with 、. */
function list(users: readonly string[], meId: string, name: NameOf): string {
  const others = users.filter((user) => user !== meId).map((user) => quoted(user, name));
  if (!users.includes(meId)) return others.join('、');
  return others.length > 0 ? `你和${others.join('、')}` : '你';
}

/** Someone whose profile the app has not fetched yet (the tip is drawn again once it has). */
const UNKNOWN = '群成员';

function quoted(userId: string, name: NameOf): string {
  return `"${name(userId) || UNKNOWN}"`;
}

function who(userId: string, meId: string, name: NameOf): string {
  return userId === meId ? '你' : quoted(userId, name);
}

function updatedTip(event: Extract<SystemEvent, { event: 'updated' }>, actor: string): string {
  const parts: string[] = [];
  if (event.name !== undefined) {
    parts.push(
      event.previousName
        ? `${actor}将"${event.previousName}"改名为"${event.name}"`
        : `${actor}修改群名为"${event.name}"`,
    );
  }
  if (event.notice !== undefined) parts.push(event.notice ? `${actor}修改了群公告` : `${actor}清空了群公告`);
  if (event.avatar !== undefined) parts.push(`${actor}更换了群头像`);
  return parts.join('，');
}

/**
 * WeChat's recall tips: `你撤回了一条消息`, `"张三"撤回了一条消息` (`对方` while the name is unknown), and
 * when a group's manager recalled someone else's message `群主撤回了一条成员消息`.
 */
export function recallTip(
  recaller: string,
  sender: string | undefined,
  meId: string,
  name: NameOf,
  roleOf?: RecallContext['roleOf'],
): string {
  if (sender === undefined || sender === recaller) {
    if (recaller === meId) return '你撤回了一条消息';
    const nickname = name(recaller);
    return nickname ? `"${nickname}"撤回了一条消息` : '对方撤回了一条消息';
  }
  if (recaller === meId) return '你撤回了一条成员消息';
  const role = roleOf?.(recaller);
  if (role === 'owner') return '群主撤回了一条成员消息';
  if (role === 'admin') return '群管理员撤回了一条成员消息';
  return `${quoted(recaller, name)}撤回了一条成员消息`;
}

/**
 * The grey tip a system message shows, written from the event and the reader's point of view
 * (`张三邀请李四、王五加入了群聊`, `你被移出了群聊`); '' for an event this app does not know.
 */
export function systemTip(body: string, from: string, meId: string, name: NameOf, recall: RecallContext = {}): string {
  const event = parseSystemEvent(body);
  if (!event) return '';
  const actor = who(from, meId, name);
  switch (event.event) {
    case 'created':
    case 'joined':
      return `${actor}邀请${list(event.users, meId, name)}加入了群聊`;
    case 'left':
      return event.users[0] === meId ? '你已退出群聊' : `${who(event.users[0], meId, name)}退出了群聊`;
    case 'removed':
      if (event.users[0] === meId) return '你被移出了群聊';
      return `${actor}将${who(event.users[0], meId, name)}移出了群聊`;
    case 'updated':
      return updatedTip(event, actor);
    case 'role': {
      const target = who(event.users[0], meId, name);
      if (event.role === 'owner') return `${target}已成为新群主`;
      if (event.role === 'admin') return `${actor}将${target}设为管理员`;
      return `${actor}取消了${target}的管理员身份`;
    }
    case 'dismissed':
      return from === meId ? '你已解散该群聊' : '群主已解散该群聊';
    case 'recalled':
      return recallTip(from, recall.senderOf?.(event.seq), meId, name, recall.roleOf);
    default:
      return '';
  }
}
