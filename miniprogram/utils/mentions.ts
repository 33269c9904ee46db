import type { GroupMember, GroupRole } from '../../contract/http';

/** The entry of the @ picker that mentions everyone (`mentions: ['all']`). */
export const MENTION_ALL = 'all';
const ALL_NAME = '所有人';

/** Someone the @ picker lists: a member, or everyone (`all`, for the owner and admins). */
export interface MentionChoice {
  id: string;
  nickname: string;
  avatar: string;
  initial: string;
}

/** A mention chosen in the picker while composing: its id, and the name inserted as `@name `. */
export interface Mention {
  id: string;
  name: string;
}

/**
 * Where a single `@` was just typed (not pasted, not part of a deletion), as WeChat opens its
 * picker then; -1 otherwise. `cursor` is where the input's cursor is after the change.
 */
export function typedAt(before: string, value: string, cursor: number): number {
  const at = cursor - 1;
  const typed =
    value.length === before.length + 1 &&
    value.charAt(at) === '@' &&
    value.slice(0, at) + value.slice(cursor) === before;
  return typed ? at : -1;
}

/** Whom the picker lists: every other member, `所有人` first for the owner and admins. */
export function mentionChoices(
  members: readonly GroupMember[],
  meId: string,
  myRole: GroupRole | null,
  query = '',
): MentionChoice[] {
  const choices = members
    .filter((member) => member.id !== meId)
    .map(({ id, nickname, avatar }) => ({ id, nickname, avatar, initial: nickname.slice(0, 1) }));
  if (myRole === 'owner' || myRole === 'admin') {
    choices.unshift({ id: MENTION_ALL, nickname: ALL_NAME, avatar: '', initial: '@' });
  }
  return query ? choices.filter((choice) => choice.nickname.includes(query)) : choices;
}

/**
 * The draft with `name ` put after the `@` at `at` (the one that opened the picker), or `@name `
 * added at the end when that `@` is gone (the draft changed meanwhile).
 */
export function insertMention(draft: string, at: number, name: string): string {
  const head = draft.charAt(at) === '@' ? draft.slice(0, at + 1) : `${draft}@`;
  return `${head}${name} ${draft.slice(head.length)}`;
}

/** The ids of the chosen mentions whose `@name` is still in the text (one deleted is not sent). */
export function mentionIds(text: string, chosen: readonly Mention[]): string[] {
  return [...new Set(chosen.filter((mention) => text.includes(`@${mention.name}`)).map((mention) => mention.id))];
}
