/**
 * Conversation ids. A one-to-one conversation's id is made from its two members, so both sides
 * name it the same way before it has a single message.
 */

/** The one-to-one conversation id of two users: the same whichever of the two asks. */
export function directConversationId(userA: string, userB: string): string {
  return userA < userB ? `dm:${userA}:${userB}` : `dm:${userB}:${userA}`;
}

/** Whether an id claims to be a one-to-one conversation (canonical or not). */
export function isDirectConversationId(conv: string): boolean {
  return conv.startsWith('dm:');
}

/**
 * The two members of a one-to-one conversation id, or null when it is not one. Only the
 * canonical spelling (the smaller id first) is one: `dm:b:a` would be a second id for the same two
 * people, so it names no conversation.
 */
export function directConversationMembers(conv: string): [string, string] | null {
  const parts = conv.split(':');
  if (parts.length !== 3 || parts[0] !== 'dm' || !parts[1] || !parts[2] || !(parts[1] < parts[2])) {
    return null;
  }
  return [parts[1], parts[2]];
}

/** The other member of a one-to-one conversation, or null when `conv` is not one of `userId`'s. */
export function directPeer(conv: string, userId: string): string | null {
  const members = directConversationMembers(conv);
  if (!members || !members.includes(userId)) return null;
  return members[0] === userId ? members[1] : members[0];
}

/** Whether an id names a group's conversation (`g:<group id>`). */
export function isGroupConversationId(conv: string): boolean {
  return conv.startsWith('g:');
}
