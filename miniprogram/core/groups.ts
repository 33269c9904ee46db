import type { PublicUser } from '../../contract/frames';
import type { GroupDetails, GroupMember } from '../../contract/http';
import type { Stores } from '../stores/index';
import type { Api } from './api';

/** The longest group name the server takes (docs/protocol.md, "Groups"). */
export const GROUP_NAME_MAX = 30;

/** Groups of the list whose details are fetched when it shows (the first screen's worth). */
const PREFETCH = 20;

/** Members whose nicknames make a new group's default name, as WeChat names an unnamed group. */
const NAME_FROM_MEMBERS = 3;

/** Who read the user's message in a group, and who has not yet (people, for the list it shows). */
export interface Receipts {
  seq: number;
  read: PublicUser[];
  unread: PublicUser[];
}

/** `g:<id>` → `<id>`; '' for a conversation that is no group's. */
export function groupIdOf(conv: string): string {
  return conv.startsWith('g:') ? conv.slice(2) : '';
}

/**
 * A new group's default name: the creator's and the first members' nicknames joined with 、
 * (张三、李四、王五), cut to what the server takes.
 */
export function defaultGroupName(me: PublicUser | null, members: readonly PublicUser[]): string {
  const names = [me, ...members]
    .filter((user): user is PublicUser => !!user && !!user.nickname)
    .slice(0, NAME_FROM_MEMBERS)
    .map((user) => user.nickname);
  const name = names.join('、') || '群聊';
  return name.length > GROUP_NAME_MAX ? name.slice(0, GROUP_NAME_MAX - 1) + '…' : name;
}

/**
 * Groups, for the pages: create, fetch details, invite, remove, leave, dismiss, rename, receipts.
 * Every change is an HTTP call; the server's system message then reaches every member's devices
 * (this one too) and `changed()` fetches the details again, so the stores follow one path.
 */
export class GroupActions {
  /** Detail fetches on their way, by conversation: a second ask waits for the first. */
  private readonly loading = new Map<string, Promise<void>>();
  /** Groups `prefetch` has asked for already (not again on every list update). */
  private readonly tried = new Set<string>();

  constructor(
    private readonly api: Api,
    private readonly stores: Stores,
  ) {}

  /** Creates a group with the user as owner and opens it in the list; resolves with its conversation. */
  async create(members: readonly PublicUser[], name?: string): Promise<string> {
    const { stores } = this;
    stores.people.remember(members);
    const title = (name ?? '').trim() || defaultGroupName(stores.me.user, members);
    const group = await this.api.createGroup(
      title,
      members.map((member) => member.id),
    );
    // Listed at once (its `created` message follows on the socket and makes it the newest).
    stores.sessions.ensureGroup(group.conv, {
      id: group.id,
      name: group.name,
      avatar: group.avatar,
      memberCount: group.memberCount,
    });
    await this.load(group.conv);
    return group.conv;
  }

  /** Fetches the group's details and members into the stores. */
  load(conv: string): Promise<void> {
    const held = this.loading.get(conv);
    if (held) return held;
    const work = this.api
      .group(groupIdOf(conv))
      .then((details) => this.show(conv, details))
      .finally(() => this.loading.delete(conv));
    this.loading.set(conv, work);
    return work;
  }

  /**
   * The list shows groups whose members the app does not know yet: their names (for `昵称: 内容`)
   * and faces (for the grid) are fetched, the first few once each.
   */
  prefetch(limit = PREFETCH): void {
    const wanted = this.stores.sessions.list
      .filter(
        (item) => item.isGroup && !item.left && !this.stores.groups.details(item.conv) && !this.tried.has(item.conv),
      )
      .slice(0, limit);
    for (const item of wanted) {
      this.tried.add(item.conv);
      this.load(item.conv).catch(() => this.tried.delete(item.conv));
    }
  }

  /** A system message changed the group: details held (or on screen) are fetched again. */
  changed(conv: string, onScreen: boolean): void {
    if (!onScreen && !this.stores.groups.details(conv)) return;
    const left = this.stores.sessions.find(conv)?.left;
    if (left) return;
    // A failure here is not the user's action: the page shows what it had until the next change.
    this.load(conv).catch(() => undefined);
  }

  async invite(conv: string, userIds: readonly string[]): Promise<void> {
    await this.api.inviteToGroup(groupIdOf(conv), userIds);
    await this.load(conv);
  }

  async remove(conv: string, userId: string): Promise<void> {
    await this.api.removeFromGroup(groupIdOf(conv), userId);
    await this.load(conv);
  }

  /** The user leaves: the entry stays in the list, marked, as WeChat keeps it until deleted. */
  async leave(conv: string): Promise<void> {
    await this.api.removeFromGroup(groupIdOf(conv), this.stores.me.id);
    this.stores.sessions.setLeft(conv);
    this.stores.groups.setLeft(conv);
  }

  async dismiss(conv: string): Promise<void> {
    await this.api.dismissGroup(groupIdOf(conv));
    this.stores.sessions.setLeft(conv);
    this.stores.groups.setLeft(conv);
  }

  /** Renames the group or changes its notice (owner and admins). */
  async update(conv: string, update: { name?: string; notice?: string }): Promise<void> {
    const change: { name?: string; notice?: string } = {};
    if (update.name !== undefined) change.name = update.name.trim();
    if (update.notice !== undefined) change.notice = update.notice.trim();
    const group = await this.api.updateGroup(groupIdOf(conv), change);
    this.stores.groups.setGroup(conv, group);
    this.stores.sessions.updateGroup(conv, { name: group.name, avatar: group.avatar });
  }

  async setAdmin(conv: string, userId: string, admin: boolean): Promise<void> {
    await this.api.setGroupAdmin(groupIdOf(conv), userId, admin);
    await this.load(conv);
  }

  /**
   * Who has read message `seq` (the user's own) and who not: the counts go to the store for
   * `N人未读` / `全部已读`, the people to the caller for the list it shows.
   */
  async receipts(conv: string, seq: number): Promise<Receipts> {
    const answer = await this.api.groupReceipts(groupIdOf(conv), seq);
    this.stores.groups.setReceipt(conv, { seq, read: answer.read.length, unread: answer.unread.length });
    const person = (id: string): PublicUser => this.stores.people.profile(id) ?? { id, nickname: '', avatar: '' };
    return { seq, read: answer.read.map(person), unread: answer.unread.map(person) };
  }

  private show(conv: string, details: GroupDetails): void {
    const { stores } = this;
    stores.people.remember(details.members.map(({ id, nickname, avatar }: GroupMember) => ({ id, nickname, avatar })));
    stores.groups.set(conv, details.group, details.members, stores.me.id);
    const { id, name, avatar, memberCount } = details.group;
    stores.sessions.updateGroup(conv, { id, name, avatar, memberCount });
    // Names and faces are known now: previews (`昵称: 内容`) and the avatar grid can be drawn.
    stores.sessions.refreshGroups();
  }
}
