import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SignJWT, jwtVerify, errors } from 'jose';

export interface TokenClaims {
  userId: string;
  /** Expiry, in ms since the epoch. */
  expiresAt: number;
}

export class TokenError extends Error {
  constructor(
    readonly code: 'missing' | 'invalid' | 'expired' | 'banned',
    message: string,
  ) {
    super(message);
  }
}

/** Signs and checks the bearer tokens of HTTP routes and the socket (HS256 JWTs). */
export class Tokens {
  private readonly key: Uint8Array;

  constructor(
    secret: string,
    private readonly ttlSeconds: number,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  async issue(userId: string, now = Date.now()): Promise<{ token: string; expiresAt: number }> {
    const issuedAt = Math.floor(now / 1000);
    const exp = issuedAt + this.ttlSeconds;
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(userId)
      .setIssuedAt(issuedAt)
      .setExpirationTime(exp)
      .sign(this.key);
    return { token, expiresAt: exp * 1000 };
  }

  async verify(token: string | undefined): Promise<TokenClaims> {
    if (!token) throw new TokenError('missing', 'a bearer token is required');
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'] });
      if (typeof payload.sub !== 'string' || typeof payload.exp !== 'number') {
        throw new TokenError('invalid', 'the token lacks a subject or an expiry');
      }
      return { userId: payload.sub, expiresAt: payload.exp * 1000 };
    } catch (error) {
      if (error instanceof TokenError) throw error;
      if (error instanceof errors.JWTExpired) throw new TokenError('expired', 'the token has expired');
      throw new TokenError('invalid', 'the token is not valid');
    }
  }
}

/**
 * Tokens that must also name a user this server has: a token signed with the same secret for a
 * store that was since replaced (a new data folder) is refused like a forged one, so the client
 * logs in again instead of sending into the void.
 */
export class VerifiedTokens extends Tokens {
  constructor(
    secret: string,
    ttlSeconds: number,
    private readonly users: { exists(userId: string): Promise<boolean> },
    /** A banned user's tokens are refused while the ban lasts (checked at every use). */
    private readonly bans?: { activeBan(userId: string): Promise<unknown> },
  ) {
    super(secret, ttlSeconds);
  }

  override async verify(token: string | undefined): Promise<TokenClaims> {
    const claims = await super.verify(token);
    if (!(await this.users.exists(claims.userId))) {
      throw new TokenError('invalid', 'the token names no user of this server: log in again');
    }
    if (this.bans && (await this.bans.activeBan(claims.userId))) {
      throw new TokenError('banned', 'this account is banned');
    }
    return claims;
  }
}

/** The configured secret, or one generated once and kept in the data folder (mode 0600). */
export function resolveTokenSecret(configured: string | undefined, dataDir: string): string {
  if (configured) return configured;
  const file = path.join(dataDir, 'token-secret');
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const secret = crypto.randomBytes(32).toString('base64url');
  // 'wx' fails if another process wrote it first; then theirs is the one to use.
  try {
    fs.writeFileSync(file, secret, { mode: 0o600, flag: 'wx' });
    return secret;
  } catch {
    return fs.readFileSync(file, 'utf8').trim();
  }
}

/** The token of an HTTP request: `Authorization: Bearer …`, or `?token=` for the socket. */
export function bearerToken(authorization: string | undefined, url?: string): string | undefined {
  const match = authorization ? /^Bearer\s+(\S+)$/i.exec(authorization) : null;
  if (match) return match[1];
  if (url) {
    const token = new URL(url, 'http://localhost').searchParams.get('token');
    if (token) return token;
  }
  return undefined;
}
