import crypto from 'node:crypto';

/**
 * A new user's id: `u` + 12 base64url characters (docs/protocol.md, "user id"). Random, so it
 * tells nothing of the WeChat openid or device id behind it, and both stores make the same kind.
 */
export function newUserId(): string {
  return 'u' + crypto.randomBytes(9).toString('base64url');
}

/**
 * The epoch of a new database: 16 hex characters, written once by its first migration. A client
 * whose cursors name another epoch synced against another database, so the server ignores them.
 */
export function newEpoch(): string {
  return crypto.randomBytes(8).toString('hex');
}

/** A new group's id: `g` + 12 base64url characters (its conversation is `g:<id>`). */
export function newGroupId(): string {
  return 'g' + crypto.randomBytes(9).toString('base64url');
}
