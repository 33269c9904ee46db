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
