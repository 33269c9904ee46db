/** Accounts on the target: development logins (`POST /api/login {code, devId}`), each a fresh device. */
import { randomBytes } from 'node:crypto';
import type { LoginResponse } from '../../../contract/http';
import { describeAnswer, request, type Answer } from './http';
import { inParallel } from './pool';
import { LOGIN_LIMITED, Skip } from './outcome';
import type { Target } from './target';

export interface Account {
  id: string;
  nickname: string;
  token: string;
  devId: string;
}

/** A device id nobody has used: the attacks never touch an existing account. */
export function freshDevId(): string {
  return `attack-${randomBytes(9).toString('base64url')}`;
}

/** One login call, answered as it came: row 6 counts these. */
export function loginCall(target: Target, devId: string = freshDevId()): Promise<Answer> {
  return request(target, 'POST', '/api/login', { json: { code: 'attack-replay', devId } });
}

/**
 * A fresh account. A 429 means the target's login limit is spent: the row cannot get the accounts
 * it needs, and is skipped with a sentence telling the operator what to change. Any other refusal
 * means the target is not in development login mode, which the replay needs.
 */
export async function login(target: Target, devId: string = freshDevId()): Promise<Account> {
  const answer = await loginCall(target, devId);
  if (answer.status === 429) throw new Skip(LOGIN_LIMITED);
  if (answer.status !== 200) {
    throw new Skip(
      `the target refused a development login (${describeAnswer(answer)}): the replay needs a server without WX_APPID/WX_SECRET`,
    );
  }
  const { token, user } = answer.body as LoginResponse;
  return { id: user.id, nickname: user.nickname, token, devId };
}

/** `count` fresh accounts, at most `parallel` logins at a time; the first refusal stops the rest. */
export function accounts(target: Target, count: number, parallel = 10): Promise<Account[]> {
  return inParallel(count, parallel, () => login(target));
}
