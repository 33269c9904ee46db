/** The bodies of the HTTP routes (docs/protocol.md, "HTTP"). */
import type { PublicUser } from './frames';

/** `POST /api/login`. */
export interface LoginRequest {
  /** The code from wx.login. */
  code: string;
  /** Development mode only: a stable id the app generated once and keeps in storage. */
  devId?: string;
}

export interface LoginResponse {
  token: string;
  user: PublicUser;
  /** When the token expires, in ms since the epoch. */
  expiresAt: number;
}

/** `PUT /api/profile`. */
export interface ProfileUpdate {
  nickname?: string;
  avatar?: string;
}

/** The answer of `POST /api/upload`: the address to send as an image message's body. */
export interface UploadResponse {
  url: string;
}

/** Every HTTP failure's body. */
export interface HttpErrorBody {
  error: { code: string; message: string };
}

// ---------------------------------------------------------------------------------------------
// Groups (docs/protocol.md, "Groups")

export type GroupRole = 'owner' | 'admin' | 'member';

/** A group as every group route answers it. */
export interface Group {
  id: string;
  /** Its conversation: `g:<id>`. */
  conv: string;
  name: string;
  /** An uploaded image's url, or '' (the app then draws a grid of members' avatars). */
  avatar: string;
  notice: string;
  owner: string;
  memberCount: number;
}

export interface GroupMember extends PublicUser {
  role: GroupRole;
}

/** `GET /api/groups/:id`. */
export interface GroupDetails {
  group: Group;
  members: GroupMember[];
}

/** `POST /api/groups`. */
export interface CreateGroupRequest {
  name: string;
  members: string[];
}

/** `PATCH /api/groups/:id`: only the fields given change. */
export interface GroupUpdate {
  name?: string;
  notice?: string;
  avatar?: string;
}

/** `POST /api/groups`, `PATCH /api/groups/:id`, `POST /api/groups/:id/members`. */
export interface GroupResponse {
  group: Group;
}

/** `GET /api/groups/:id/receipts?seq=N`. */
export interface GroupReceipts {
  seq: number;
  read: string[];
  unread: string[];
}

/** `PUT /api/conversations/:conv`: either or both; an absent one stays as it is. */
export interface ConversationPrefsUpdate {
  muted?: boolean;
  pinned?: boolean;
}

/** The answer of `PUT /api/conversations/:conv`, and the `conversation` frame's fields. */
export interface ConversationPrefs {
  conv: string;
  muted: boolean;
  pinned: boolean;
}

/**
 * What `wx.requestSubscribeMessage` answered for a template: `accept` gives one notification
 * credit; `reject`, `ban` and `filter` (WeChat's other answers) change nothing.
 */
export type SubscribeResult = 'accept' | 'reject' | 'ban' | 'filter';

/** `POST /api/subscriptions` (after `wx.requestSubscribeMessage`). */
export interface SubscriptionReport {
  templateId: string;
  result: SubscribeResult;
}

/** The answer of `POST /api/subscriptions`: the user's credits for the template (at most 50 kept). */
export interface SubscriptionCredits {
  templateId: string;
  credits: number;
}

/**
 * `GET /api/subscriptions` (an addition to the contract): whether the server sends reminders at
 * all, the template the app asks the user for, and the user's credits. Reminders off: `enabled`
 * false, `templateId` ''.
 */
export interface SubscriptionState extends SubscriptionCredits {
  enabled: boolean;
}

/** `GET /api/blocks`: the people the user blocked (拉黑), newest first. */
export type BlockList = PublicUser[];

/** Why a message or a conversation is reported (举报). */
export type ReportReason = '骚扰' | '诈骗' | '色情低俗' | '违法违规' | '其他';

/**
 * `POST /api/reports` (members of `conv`): `seq` names the message reported; without it (an
 * addition) the conversation as a whole is reported. `reason` ≤ 200 characters: the reason's
 * label, then the reporter's own words if any (`其他：…`).
 */
export interface ReportRequest {
  conv: string;
  seq?: number;
  reason: string;
}

/** The answer of `POST /api/reports` (201). */
export interface ReportCreated {
  id: string;
}
