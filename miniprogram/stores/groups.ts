import { makeAutoObservable, observable } from 'mobx-miniprogram';
import type { Group, GroupMember, GroupRole } from '../../contract/http';

/** A group as the app last heard of it from `GET /api/groups/:id`, and the user's place in it. */
export interface GroupState {
  group: Group;
  /** Current members, longest-standing first (the server's order). */
  members: GroupMember[];
  /** The user's role; null once they are no longer a member. */
  myRole: GroupRole | null;
}

/** Who has read the user's own last message in a group (`N人未读` / `全部已读`). */
export interface ReceiptCount {
  seq: number;
  read: number;
  unread: number;
}

/** The most member faces a group's avatar grid shows (WeChat's nine). */
export const GRID_FACES = 9;

/**
 * Groups the user opened or listed: details (members and roles) and read receipts. Live state
 * fetched over HTTP, refreshed when a system message says the group changed; never kept in storage.
 */
export class GroupsStore {
  private readonly states = observable.map<string, GroupState>({}, { deep: false });
  private readonly receiptCounts = observable.map<string, ReceiptCount>({}, { deep: false });
  private readonly faceCache = new WeakMap<GroupState, string[]>();

  constructor() {
    makeAutoObservable<GroupsStore, 'faceCache'>(this, { faceCache: false });
  }

  /** By conversation id (`g:<id>`). */
  details(conv: string): GroupState | undefined {
    return this.states.get(conv);
  }

  receipt(conv: string): ReceiptCount | undefined {
    return this.receiptCounts.get(conv);
  }

  /** Avatars for the grid of a group without its own: up to nine members', '' for one without. */
  faces(conv: string): string[] {
    const state = this.states.get(conv);
    if (!state) return [];
    // The same array while the members are the same, so a redrawn list item sends no new grid.
    const held = this.faceCache.get(state);
    if (held) return held;
    const faces = state.members.slice(0, GRID_FACES).map((member) => member.avatar);
    this.faceCache.set(state, faces);
    return faces;
  }

  set(conv: string, group: Group, members: GroupMember[], meId: string): void {
    const me = members.find((member) => member.id === meId);
    this.states.set(conv, { group, members, myRole: me ? me.role : null });
  }

  /** The group's own fields changed (a PATCH answer): members stay. */
  setGroup(conv: string, group: Group): void {
    const state = this.states.get(conv);
    if (state) this.states.set(conv, { ...state, group });
  }

  /** The user left, was removed, or the group was dismissed. */
  setLeft(conv: string): void {
    const state = this.states.get(conv);
    if (state && state.myRole !== null) this.states.set(conv, { ...state, myRole: null });
  }

  setReceipt(conv: string, receipt: ReceiptCount): void {
    const held = this.receiptCounts.get(conv);
    // An older answer arriving late does not undo a newer one.
    if (held && held.seq > receipt.seq) return;
    this.receiptCounts.set(conv, receipt);
  }

  clear(): void {
    this.states.clear();
    this.receiptCounts.clear();
  }
}

export type GroupsView = Pick<GroupsStore, 'details' | 'receipt' | 'faces'>;
