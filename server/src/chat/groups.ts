import crypto from 'node:crypto';
import type { ChatMessage } from '../../../contract/frames';
import type { Group, GroupMember, GroupUpdate } from '../../../contract/http';
import type { SystemEvent } from '../../../contract/system-events';
import type { GroupChange, GroupMemberRecord, GroupRecord, GroupRole, Store } from '../store/types';
import { newGroupId } from '../store/ids';
import { groupConv } from '../store/rows';
import { KnownUsers } from './known-users';
import type { Fanout } from './ports';

/** The limits of a group's fields, in UTF-16 units (docs/protocol.md, "Groups"). */
export const GROUP_LIMITS = { nameMax: 30, noticeMax: 500 } as const;

/** A group as the API answers it. */
export type GroupView = Group;
export type GroupMemberView = GroupMember;

/** A refusal of a group operation; the HTTP routes answer it with its status. */
export class GroupError extends Error {
  constructor(
    readonly code: 'forbidden' | 'not_found' | 'bad_request' | 'group_full',
    message: string,
  ) {
    super(message);
  }
}

export interface GroupOptions {
  /** The most members a group may have, its owner included (GROUP_MAX_MEMBERS). */
  maxMembers: number;
  /**
   * The canonical URL of the upload an avatar names (marked as used), or null when it names none
   * of ours. Absent: avatars are taken as sent.
   */
  avatarUrl?: (url: string, origin: string | undefined) => Promise<string | null>;
  clock?: () => number;
  users?: KnownUsers;
}

export type { GroupUpdate };

function view(group: GroupRecord): GroupView {
  const { id, name, avatar, notice, owner, memberCount } = group;
  return { id, conv: groupConv(id), name, avatar, notice, owner, memberCount };
}

function checkName(name: string): void {
  if (name.length < 1 || name.length > GROUP_LIMITS.nameMax) {
    throw new GroupError('bad_request', `"name" must be 1–${GROUP_LIMITS.nameMax} characters`);
  }
}

/**
 * Groups: who is in them, in which role, and every change as a system message in the group's
 * conversation (stored with its seq in the same transaction as the change, then delivered to the
 * current members through the bus, like any message). HTTP routes reach groups through here only.
 */
export class GroupService {
  private readonly clock: () => number;
  private readonly users: KnownUsers;
  /**
   * Changes to one group, one after the other on this instance (checks, then the change); the
   * store's group lock does the same across instances, and this queue spares it the waits.
   */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    private readonly store: Store,
    private readonly fanout: Fanout,
    private readonly options: GroupOptions,
  ) {
    this.clock = options.clock ?? Date.now;
    this.users = options.users ?? new KnownUsers(store);
  }

  async create(callerId: string, name: string, memberIds: readonly string[]): Promise<GroupView> {
    checkName(name);
    const others = [...new Set(memberIds)].filter((id) => id !== callerId);
    if (others.length === 0) throw new GroupError('bad_request', 'a group needs at least one member besides you');
    if (others.length > this.options.maxMembers - 1) {
      throw new GroupError('group_full', `a group has at most ${this.options.maxMembers} members`);
    }
    await this.checkUsersExist(others);
    const id = newGroupId();
    const now = this.clock();
    const change: GroupChange = {
      create: { name, avatar: '', notice: '', owner: callerId, createdAt: now },
      join: [{ userId: callerId, role: 'owner' }, ...others.map((userId) => ({ userId, role: 'member' as const }))],
    };
    await this.record(id, callerId, { event: 'created', users: others, name }, change, [callerId, ...others]);
    return view(await this.group(id));
  }

  /** The group and its current members, for a current member. */
  async get(callerId: string, groupId: string): Promise<{ group: GroupView; members: GroupMemberView[] }> {
    const group = await this.group(groupId);
    const members = await this.store.groupMembers(groupId);
    if (!members.some((member) => member.id === callerId)) throw this.notMember(groupId);
    return {
      group: view(group),
      members: members.map(({ id, nickname, avatar, role }) => ({ id, nickname, avatar, role })),
    };
  }

  async update(callerId: string, groupId: string, update: GroupUpdate, origin?: string): Promise<GroupView> {
    if (update.name !== undefined) checkName(update.name);
    if (update.notice !== undefined && update.notice.length > GROUP_LIMITS.noticeMax) {
      throw new GroupError('bad_request', `"notice" must be at most ${GROUP_LIMITS.noticeMax} characters`);
    }
    return this.serial(groupId, async () => {
      const { group, me } = await this.context(callerId, groupId);
      if (me.role === 'member') throw new GroupError('forbidden', 'only the owner and admins may change the group');
      const wanted: GroupUpdate = { ...update };
      if (wanted.avatar && this.options.avatarUrl) {
        const avatar = await this.options.avatarUrl(wanted.avatar, origin);
        if (avatar === null) {
          throw new GroupError('bad_request', '"avatar" must be the url POST /api/upload answered, or ""');
        }
        wanted.avatar = avatar;
      }
      const changed: GroupUpdate = {};
      for (const field of ['name', 'notice', 'avatar'] as const) {
        const value = wanted[field];
        if (value !== undefined && value !== group[field]) changed[field] = value;
      }
      if (Object.keys(changed).length === 0) return view(group);
      // The old name too, so a tip can say "X将"周末爬山"改名为"周日爬山"" without history.
      const previous = changed.name !== undefined ? { previousName: group.name } : {};
      await this.record(groupId, callerId, { event: 'updated', ...changed, ...previous }, { update: changed });
      return view(await this.group(groupId));
    });
  }

  /** Adds those of `userIds` who are not members yet; nobody new, no message. */
  async invite(callerId: string, groupId: string, userIds: readonly string[]): Promise<GroupView> {
    return this.serial(groupId, async () => {
      const { group, members } = await this.context(callerId, groupId);
      const current = new Set(members.map((member) => member.id));
      const added = [...new Set(userIds)].filter((id) => !current.has(id));
      await this.checkUsersExist(added);
      if (added.length === 0) return view(group);
      if (members.length + added.length > this.options.maxMembers) {
        throw new GroupError('group_full', `a group has at most ${this.options.maxMembers} members`);
      }
      const join = added.map((userId) => ({ userId, role: 'member' as const }));
      await this.record(groupId, callerId, { event: 'joined', users: added }, { join });
      return view(await this.group(groupId));
    });
  }

  /** The caller leaves (`userId` is theirs), or removes someone (owner: anyone; admin: plain members). */
  async remove(callerId: string, groupId: string, userId: string): Promise<void> {
    return this.serial(groupId, async () => {
      const { me, members } = await this.context(callerId, groupId);
      const target = members.find((member) => member.id === userId);
      if (!target) throw new GroupError('not_found', `${userId} is not a member of the group`);
      if (userId !== callerId) {
        const allowed = me.role === 'owner' || (me.role === 'admin' && target.role === 'member');
        if (!allowed) throw new GroupError('forbidden', 'you may not remove this member');
        await this.record(groupId, callerId, { event: 'removed', users: [userId] }, { leave: [userId] }, [userId]);
        return;
      }
      const rest = members.filter((member) => member.id !== callerId);
      if (rest.length === 0) {
        // The last member leaves: the group ends.
        await this.record(
          groupId,
          callerId,
          { event: 'left', users: [callerId] },
          { leave: [callerId], dismiss: true },
          [callerId],
        );
        return;
      }
      if (me.role !== 'owner') {
        await this.record(groupId, callerId, { event: 'left', users: [callerId] }, { leave: [callerId] }, [callerId]);
        return;
      }
      // The owner leaves: the longest-standing admin, else member, takes over in the same change.
      const heir = rest.find((member) => member.role === 'admin') ?? rest[0];
      await this.record(
        groupId,
        callerId,
        { event: 'left', users: [callerId] },
        { leave: [callerId], roles: [{ userId: heir.id, role: 'owner' }], update: { owner: heir.id } },
        [callerId],
      );
      await this.record(groupId, callerId, { event: 'role', users: [heir.id], role: 'owner' }, {});
    });
  }

  /** The owner makes (`admin` true) or unmakes an admin; no change, no message. */
  async setAdmin(callerId: string, groupId: string, userId: string, admin: boolean): Promise<GroupView> {
    return this.serial(groupId, async () => {
      const { group, me, members } = await this.context(callerId, groupId);
      if (me.role !== 'owner') throw new GroupError('forbidden', 'only the owner may appoint admins');
      const target = members.find((member) => member.id === userId);
      if (!target) throw new GroupError('not_found', `${userId} is not a member of the group`);
      if (target.role === 'owner') throw new GroupError('bad_request', 'the owner is not made an admin');
      const role: GroupRole = admin ? 'admin' : 'member';
      if (target.role === role) return view(group);
      await this.record(groupId, callerId, { event: 'role', users: [userId], role }, { roles: [{ userId, role }] });
      return view(await this.group(groupId));
    });
  }

  /**
   * Who of the current members other than its sender has read message `seq` (read cursor ≥ seq),
   * and who has not; for a current member.
   */
  async receipts(
    callerId: string,
    groupId: string,
    seq: number,
  ): Promise<{ seq: number; read: string[]; unread: string[] }> {
    const { members } = await this.context(callerId, groupId);
    const [message] = (await this.store.history(groupConv(groupId), seq + 1, 1)).messages;
    if (!message || message.seq !== seq) throw new GroupError('not_found', `no message ${seq} in the group`);
    const others = members.filter((member) => member.id !== message.from);
    return {
      seq,
      read: others.filter((member) => member.readSeq >= seq).map((member) => member.id),
      unread: others.filter((member) => member.readSeq < seq).map((member) => member.id),
    };
  }

  /** The owner ends the group: `dismissed`, then every send into it is refused. */
  async dismiss(callerId: string, groupId: string): Promise<void> {
    return this.serial(groupId, async () => {
      const { me, members } = await this.context(callerId, groupId);
      if (me.role !== 'owner') throw new GroupError('forbidden', 'only the owner may dismiss the group');
      // Every member until now hears of it (after it, nobody is a current member).
      const everyone = members.map((member) => member.id);
      await this.record(groupId, callerId, { event: 'dismissed' }, { dismiss: true }, everyone);
    });
  }

  private async group(groupId: string): Promise<GroupRecord> {
    const group = await this.store.getGroup(groupId);
    if (!group) throw new GroupError('not_found', `no group ${groupId}`);
    return group;
  }

  /** The group (not dismissed), its current members and the caller among them; refused otherwise. */
  private async context(
    callerId: string,
    groupId: string,
  ): Promise<{ group: GroupRecord; members: GroupMemberRecord[]; me: GroupMemberRecord }> {
    const group = await this.group(groupId);
    const members = await this.store.groupMembers(groupId);
    const me = members.find((member) => member.id === callerId);
    if (!me || group.dismissed) throw this.notMember(groupId);
    return { group, members, me };
  }

  private notMember(groupId: string): GroupError {
    return new GroupError('forbidden', `you are not a member of group ${groupId}`);
  }

  private async checkUsersExist(userIds: readonly string[]): Promise<void> {
    for (const id of userIds) {
      if (!(await this.users.exists(id))) throw new GroupError('not_found', `no user ${id}`);
    }
  }

  /**
   * Stores the system message with the change, then delivers it to the members after the change
   * and to `alsoTo` (who left or was removed: they get the message that says so).
   */
  private async record(
    groupId: string,
    actorId: string,
    event: SystemEvent,
    change: GroupChange,
    alsoTo: readonly string[] = [],
  ): Promise<ChatMessage> {
    const message = await this.store.changeGroup(
      groupId,
      {
        conv: groupConv(groupId),
        members: [],
        from: actorId,
        cid: `sys:${crypto.randomBytes(12).toString('base64url')}`,
        kind: 'system',
        body: JSON.stringify(event),
        ts: this.clock(),
      },
      change,
    );
    const current = await this.store.groupMembers(groupId);
    const to = new Set([...current.map((member) => member.id), ...alsoTo]);
    this.fanout.deliver([...to], { type: 'message', ...message });
    return message;
  }

  /**
   * Runs `work` (a change's checks, then its write) after every earlier change to the same group
   * on this instance, and while no instance sharing the store changes that group (the store's
   * group lock): the checks always see the group as the write will change it.
   */
  private serial<T>(groupId: string, work: () => Promise<T>): Promise<T> {
    const before = this.queues.get(groupId) ?? Promise.resolve();
    const locked = () => this.store.withGroupLock(groupId, work);
    const result = before.then(locked, locked);
    const tail = result.catch(() => undefined);
    this.queues.set(groupId, tail);
    void tail.then(() => {
      if (this.queues.get(groupId) === tail) this.queues.delete(groupId);
    });
    return result;
  }
}
