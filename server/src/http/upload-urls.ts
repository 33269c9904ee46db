import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

/**
 * What an upload's URL looks like, and the base it is written with: pure string checks, no
 * storage. Whether the file exists is the upload store's question (upload-store.ts).
 */

/**
 * A stored file's name: what `GET /uploads/:name` accepts; checked before the file system is touched.
 * The extension is the server's own (from the sniffed content): an image's or an audio file's.
 */
export const UPLOAD_NAME = /^[A-Za-z0-9_-]{16,64}\.(jpg|png|gif|webp|aac|m4a|mp3)$/;

/** The file-name-free part of an upload URL, from the `/uploads/` path on. */
const UPLOAD_PATH = /^\/uploads\/([A-Za-z0-9_-]{16,64}\.(?:jpg|png|gif|webp|aac|m4a|mp3))$/;

/** What a stored upload holds, by the extension the server gave it. */
export type UploadKind = 'image' | 'audio';

const AUDIO_NAME = /\.(aac|m4a|mp3)$/;

/** Whether a stored file's name (one UPLOAD_NAME admits) is an image's or an audio file's. */
export function uploadKindOf(name: string): UploadKind {
  return AUDIO_NAME.test(name) ? 'audio' : 'image';
}

/** An upload URL when the server has no PUBLIC_URL: scheme, a plain authority, and the upload path. */
const DERIVED_UPLOAD_URL = /^https?:\/\/[A-Za-z0-9.:[\]-]+(\/uploads\/[^/?#]+)$/;

/** A Host header that is a plain `host[:port]` (or `[ipv6][:port]`): anything else would make a broken URL. */
const PLAIN_HOST = /^[A-Za-z0-9.-]+(:\d+)?$|^\[[0-9A-Fa-f:.]+\](:\d+)?$/;

/**
 * Whether a string has the shape of an upload URL of this server: an absolute `http(s)` URL whose
 * path is exactly `/uploads/<name>` with a valid stored-file name (no query, no fragment, no
 * credentials, no `..`). With `publicUrl` (the server's PUBLIC_URL) the URL must start with it
 * exactly, so other hosts' URLs are refused; without it the server knows no name of its own (it
 * answers with the Host each client used), so any host passes and only the path is checked.
 * It does not check that the file exists.
 */
export function isUploadUrl(body: string, publicUrl?: string): boolean {
  if (publicUrl !== undefined) {
    const base = publicUrl.replace(/\/+$/, '');
    return body.startsWith(`${base}/`) && UPLOAD_PATH.test(body.slice(base.length));
  }
  const match = DERIVED_UPLOAD_URL.exec(body);
  if (!match || !UPLOAD_PATH.test(match[1])) return false;
  try {
    new URL(body);
    return true;
  } catch {
    return false;
  }
}

/** The stored-file name an upload URL names (see `isUploadUrl`), or undefined for anything else. */
export function uploadNameOf(url: string, publicUrl?: string): string | undefined {
  return isUploadUrl(url, publicUrl) ? url.slice(url.lastIndexOf('/') + 1) : undefined;
}

/** `<scheme>://<host>` from a Host header, or undefined when the header is missing or no plain host. */
export function originOf(scheme: 'http' | 'https', host: string | undefined): string | undefined {
  return host && PLAIN_HOST.test(host) ? `${scheme}://${host}` : undefined;
}

/**
 * The base a WebSocket client reached us at: its upgrade request's Host, with `https` when the
 * connection itself is TLS. Forwarded headers are not trusted (behind a proxy, set PUBLIC_URL).
 */
export function upgradeOrigin(request: IncomingMessage): string | undefined {
  const encrypted = (request.socket as Partial<TLSSocket>).encrypted === true;
  return originOf(encrypted ? 'https' : 'http', request.headers.host);
}
