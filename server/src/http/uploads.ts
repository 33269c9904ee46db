import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
// The engine-neutral entry: detection from bytes in memory, nothing of file-type's Node file helpers.
// file-type ships only ES modules; Node (≥ 20.19) require()s them from our CommonJS build.
import { fileTypeFromBuffer } from 'file-type/core';
import { HttpError } from './routes';

/**
 * Image uploads: `POST /api/upload` stores one image sent the way `wx.uploadFile` sends it, and
 * `GET /uploads/:name` serves it back. Files live in `<dataDir>/uploads/` under a name the server
 * picks (random id + the sniffed extension), so nothing a client sends ever becomes a path.
 */

/** The stored file types: extension → Content-Type. */
const IMAGE_TYPES = { jpg: 'image/jpeg', png: 'image/png', gif: 'image/gif', webp: 'image/webp' } as const;
export type ImageExtension = keyof typeof IMAGE_TYPES;

/** file-type's answers that we accept, and the extension each is stored under. An APNG is a PNG. */
const ACCEPTED: Readonly<Record<string, ImageExtension>> = {
  jpg: 'jpg',
  png: 'png',
  apng: 'png',
  gif: 'gif',
  webp: 'webp',
};

/** A stored file's name: what `GET /uploads/:name` accepts; checked before the file system is touched. */
export const UPLOAD_NAME = /^[A-Za-z0-9_-]{16,64}\.(jpg|png|gif|webp)$/;

/** The file-name-free part of an upload URL, from the `/uploads/` path on. */
const UPLOAD_PATH = /^\/uploads\/([A-Za-z0-9_-]{16,64}\.(?:jpg|png|gif|webp))$/;

/** An upload URL when the server has no PUBLIC_URL: scheme, a plain authority, and the upload path. */
const DERIVED_UPLOAD_URL = /^https?:\/\/[A-Za-z0-9.:[\]-]+(\/uploads\/[^/?#]+)$/;

/** Bytes file-type looks at (its own "reasonable detection size"); the four image formats need far fewer. */
const SNIFF_BYTES = 4100;

/**
 * What a multipart body may carry besides the file (boundaries, part headers, `formData` fields):
 * a request declaring more than `maxBytes` + this is refused before it is read, and one sent
 * without a length (chunked) is cut off once it has sent that much.
 */
const MULTIPART_OVERHEAD = 128 * 1024;

/** Temporary files being written; the prefix keeps them out of UPLOAD_NAME (never served). */
const TEMP_PREFIX = '.upload-';

/** Temporary files older than this, left by a crash mid-upload, are removed when a server starts. */
const STALE_TEMP_MS = 60 * 60 * 1000;

const CACHE_CONTROL = 'public, max-age=31536000, immutable';

export interface UploadOptions {
  /** The data folder; files go to its `uploads/` folder. */
  dataDir: string;
  /** Largest accepted file, in bytes (UPLOAD_MAX_BYTES). */
  maxBytes: number;
  /** Base URL of answers (PUBLIC_URL, no trailing slash); derived from each request when unset. */
  publicUrl?: string;
  /** The Bearer-token preHandler of the API routes. */
  authenticate: (request: FastifyRequest) => Promise<void>;
}

/** The answer of `POST /api/upload`. */
export interface UploadAnswer {
  url: string;
}

export function uploadsDir(dataDir: string): string {
  return path.join(dataDir, 'uploads');
}

/**
 * Whether a message body is the URL of an upload this server serves: an absolute `http(s)` URL
 * whose path is exactly `/uploads/<name>` with a valid stored-file name (no query, no fragment,
 * no credentials, no `..`). With `publicUrl` (the server's PUBLIC_URL) the URL must start with it
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

/** The image type of a file from its first bytes (content sniffing), or undefined when not one we take. */
export async function sniffImage(head: Uint8Array): Promise<ImageExtension | undefined> {
  try {
    // A copy made here: under jest's jsdom environment Node's Buffer is another realm's Uint8Array,
    // which file-type's instanceof check refuses.
    const type = await fileTypeFromBuffer(new Uint8Array(head));
    return type ? ACCEPTED[type.ext] : undefined;
  } catch {
    return undefined;
  }
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(413, 'too_large', `the file is larger than ${maxBytes} bytes`);
}

function notFound(): HttpError {
  return new HttpError(404, 'not_found', 'no such upload');
}

/** `@fastify/multipart`'s own errors (a limit hit, a truncated body) as our JSON errors. */
function multipartError(error: unknown): unknown {
  if (error instanceof HttpError) return error;
  const status = (error as { statusCode?: unknown }).statusCode;
  if (status === 413) return new HttpError(413, 'too_large', (error as Error).message);
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new HttpError(400, 'bad_request', (error as Error).message);
  }
  return error;
}

/** `<scheme>://<host>` the client reached us at: PUBLIC_URL, or this request's own scheme and Host. */
function baseUrl(request: FastifyRequest, publicUrl: string | undefined): string {
  if (publicUrl) return publicUrl;
  const host = request.host;
  // A Host that is not a plain host[:port] would make a broken (or someone else's) URL.
  if (!/^[A-Za-z0-9.-]+(:\d+)?$|^\[[0-9A-Fa-f:.]+\](:\d+)?$/.test(host)) {
    throw new HttpError(400, 'bad_request', 'no usable Host header (set PUBLIC_URL behind a proxy)');
  }
  return `${request.protocol}://${host}`;
}

/**
 * Streams one file part into a temporary file beside its final place, sniffs its first bytes, and
 * renames it to `<random id>.<ext>`; the temporary file is gone whatever fails. Answers the name.
 */
async function storeImage(file: Readable & { truncated?: boolean }, dir: string, maxBytes: number): Promise<string> {
  const head: Buffer[] = [];
  let headBytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (headBytes < SNIFF_BYTES) {
        const piece = chunk.subarray(0, SNIFF_BYTES - headBytes);
        head.push(piece);
        headBytes += piece.length;
      }
      done(null, chunk);
    },
  });
  const temp = path.join(dir, `${TEMP_PREFIX}${randomBytes(12).toString('hex')}`);
  let stored = false;
  try {
    await pipeline(file, tap, fs.createWriteStream(temp, { flags: 'wx' }));
    // busboy stops passing data at the limit and marks the part truncated; the rest was skipped.
    if (file.truncated) throw tooLarge(maxBytes);
    const ext = await sniffImage(Buffer.concat(head));
    if (!ext) throw new HttpError(415, 'unsupported_type', 'only JPEG, PNG, GIF and WebP images are accepted');
    // 18 random bytes: 24 base64url characters, unguessable; the name never comes from the client.
    const name = `${randomBytes(18).toString('base64url')}.${ext}`;
    await fs.promises.rename(temp, path.join(dir, name));
    stored = true;
    return name;
  } finally {
    if (!stored) await fs.promises.rm(temp, { force: true });
  }
}

/** Removes temporary files a crashed server left behind (only old ones: another instance may be writing). */
async function sweepTempFiles(dir: string): Promise<void> {
  const now = Date.now();
  for (const entry of await fs.promises.readdir(dir)) {
    if (!entry.startsWith(TEMP_PREFIX)) continue;
    const file = path.join(dir, entry);
    try {
      if (now - (await fs.promises.stat(file)).mtimeMs > STALE_TEMP_MS) await fs.promises.rm(file, { force: true });
    } catch {
      // Gone meanwhile.
    }
  }
}

/** Whether an If-None-Match header matches the ETag (`*`, a list, weak forms). */
function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((tag) => {
    const value = tag.trim();
    return value === '*' || value === etag || value === `W/${etag}`;
  });
}

/**
 * The upload routes, registered as their own encapsulated plugin so that the multipart parser
 * (and its hooks) apply to `POST /api/upload` only: every other route still refuses multipart.
 */
export async function uploadRoutes(app: FastifyInstance, options: UploadOptions): Promise<void> {
  const { maxBytes, publicUrl } = options;
  const dir = uploadsDir(options.dataDir);
  await fs.promises.mkdir(dir, { recursive: true });
  await sweepTempFiles(dir);

  // An upload refused before its body was read (401, a declared length over the bound, a limit):
  // the client may still be sending, so the connection closes after the answer, as Fastify's
  // own body-limit answer does, instead of waiting for (or reading) the rest.
  app.addHook('onError', async (request, reply) => {
    if (request.method === 'POST' && !request.raw.complete) reply.header('connection', 'close');
  });

  await app.register(multipart, {
    // We check `truncated` ourselves once the part has been read, to answer 413 and remove the file.
    throwFileSizeLimit: false,
    limits: { fileSize: maxBytes, files: 1, fields: 20, fieldSize: 4096, parts: 30, headerPairs: 100 },
  });

  app.post('/api/upload', { preHandler: options.authenticate }, async (request): Promise<UploadAnswer> => {
    const bound = maxBytes + MULTIPART_OVERHEAD;
    const declared = Number(request.headers['content-length']);
    if (declared > bound) throw tooLarge(maxBytes);
    if (!request.isMultipart()) {
      throw new HttpError(400, 'bad_request', 'expected a multipart/form-data body with a file part');
    }
    // Before the body is read: a request that cannot be answered stores nothing.
    const base = baseUrl(request, publicUrl);

    try {
      // request.file() pipes the request into the parser before its first await; the byte count
      // below is attached in the same tick, so it sees every chunk and changes no flow.
      const pending = request.file();
      let received = 0;
      request.raw.on('data', (chunk: Buffer) => {
        received += chunk.length;
        // Only a body sent without a Content-Length gets here (longer ones were refused above).
        if (received > bound) request.raw.destroy();
      });
      const part = await pending;
      if (!part) throw new HttpError(400, 'bad_request', 'no file part in the form');
      return { url: `${base}/uploads/${await storeImage(part.file, dir, maxBytes)}` };
    } catch (error) {
      throw multipartError(error);
    }
  });

  app.route<{ Params: { name: string } }>({
    method: ['GET', 'HEAD'],
    url: '/uploads/:name',
    handler: async (request, reply: FastifyReply) => {
      const { name } = request.params;
      // The pattern admits no `/`, `\`, `..` or absolute path: nothing else reaches the file system.
      const match = UPLOAD_NAME.exec(name);
      if (!match) throw notFound();
      let handle: fs.promises.FileHandle;
      try {
        handle = await fs.promises.open(path.join(dir, name), 'r');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw notFound();
        throw error;
      }
      let sending = false;
      try {
        const stat = await handle.stat();
        if (!stat.isFile()) throw notFound();
        // A name's content never changes, so the name itself is a strong validator.
        const etag = `"${name.slice(0, name.indexOf('.'))}"`;
        reply
          .header('content-type', IMAGE_TYPES[match[1] as ImageExtension])
          .header('cache-control', CACHE_CONTROL)
          .header('etag', etag)
          .header('last-modified', stat.mtime.toUTCString())
          .header('x-content-type-options', 'nosniff');
        if (etagMatches(request.headers['if-none-match'], etag)) return reply.code(304).send();
        reply.header('content-length', stat.size);
        if (request.method === 'HEAD') return reply.send();
        sending = true;
        // The stream closes the handle when it ends or is destroyed (a client that goes away). With
        // `end` it ends right after the last byte instead of after one more (empty) read, so the
        // response is finished as soon as the client has it all (a stop right after then finds the
        // connection idle and closes it).
        return reply.send(handle.createReadStream({ start: 0, end: Math.max(0, stat.size - 1) }));
      } finally {
        if (!sending) await handle.close();
      }
    },
  });
}
