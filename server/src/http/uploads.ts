import fs from 'node:fs';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
// The engine-neutral entry: detection from bytes in memory, nothing of file-type's Node file helpers.
// file-type ships only ES modules; Node (≥ 20.19) require()s them from our CommonJS build.
import { fileTypeFromBuffer } from 'file-type/core';
import { LIMITS } from '../../../contract/limits';
import type { Store } from '../store/types';
import { AUDIO_TYPES, looksLikeAudio, readAudio, type AudioExtension } from './upload-audio';
import { HttpError } from './routes';
import { watchPace } from './upload-pace';
import { RetryLaterError, UploadQuota } from './upload-quota';
import type { UploadStore } from './upload-store';
import { originOf, UPLOAD_NAME } from './upload-urls';

/**
 * Uploads: `POST /api/upload` stores one image or audio file (a voice recording) sent the way
 * `wx.uploadFile` sends it, and `GET /uploads/:name` serves it back (byte ranges too, for WeChat's
 * audio player). Files live in `<dataDir>/uploads/` under a name the server picks (random id + the
 * sniffed extension), so nothing a client sends ever becomes a path. What one user may upload is
 * upload-quota.ts (images and audio alike); the files and their rows are upload-store.ts; what an
 * audio file is and how long it plays is upload-audio.ts.
 */

/** The stored image types: extension → Content-Type. */
const IMAGE_TYPES = { jpg: 'image/jpeg', png: 'image/png', gif: 'image/gif', webp: 'image/webp' } as const;
export type ImageExtension = keyof typeof IMAGE_TYPES;

/** Every stored type, images and audio: extension → Content-Type. */
const CONTENT_TYPES: Readonly<Record<string, string>> = { ...IMAGE_TYPES, ...AUDIO_TYPES };

/** Bytes enough to tell an audio container's start from an image's (looksLikeAudio). */
const KIND_BYTES = 12;

/** file-type's answers that we accept, and the extension each is stored under. An APNG is a PNG. */
const ACCEPTED: Readonly<Record<string, ImageExtension>> = {
  jpg: 'jpg',
  png: 'png',
  apng: 'png',
  gif: 'gif',
  webp: 'webp',
};

/** Bytes file-type looks at (its own "reasonable detection size"); the four image formats need far fewer. */
const SNIFF_BYTES = 4100;

/**
 * What a multipart body may carry besides the file (boundaries, part headers, `formData` fields):
 * a request declaring more than `maxBytes` + this is refused before it is read, and one sent
 * without a length (chunked) is cut off once it has sent that much.
 */
const MULTIPART_OVERHEAD = 128 * 1024;

/** An upload body's first stretch, before its average speed is judged (UPLOAD_MIN_BYTES_PER_S). */
const PACE_WINDOW_MS = 10_000;

const CACHE_CONTROL = 'public, max-age=31536000, immutable';

export interface UploadOptions {
  /** The files and their rows (made by the caller, which also checks URLs against it); started here. */
  uploads: UploadStore;
  /** Where the daily byte count comes from. */
  store: Store;
  /** Largest accepted image, in bytes (UPLOAD_MAX_BYTES). */
  maxBytes: number;
  /** Largest accepted audio file, in bytes (UPLOAD_AUDIO_MAX_BYTES). */
  audioMaxBytes: number;
  /** Uploads per user per minute (UPLOAD_RATE); 0 = no limit. */
  perMinute: number;
  /** Upload bytes per user per rolling 24 h (UPLOAD_BYTES_PER_DAY); 0 = no limit. */
  bytesPerDay: number;
  /** Slowest average body speed after the first window (UPLOAD_MIN_BYTES_PER_S); 0 = no floor. */
  minBytesPerS: number;
  /** That first window, in ms (default 10 s; tests shorten it). */
  paceWindowMs?: number;
  /** Base URL of answers (PUBLIC_URL, no trailing slash); derived from each request when unset. */
  publicUrl?: string;
  /** The Bearer-token preHandler of the API routes. */
  authenticate: (request: FastifyRequest) => Promise<void>;
}

/** The answer of `POST /api/upload`. */
export interface UploadAnswer {
  url: string;
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

/**
 * A failed upload as the answer it gets. Ours stand; a client that went away gets a 400 nobody
 * reads, logged at info (it is the client's doing, not the server's); `@fastify/multipart`'s and
 * busboy's refusals of a body (a limit hit, a malformed or truncated form) are 413 / 400. Only a
 * system error (the disk) stays a 500.
 */
function uploadFailure(error: unknown, request: FastifyRequest): unknown {
  if (error instanceof HttpError) return error;
  if (request.raw.destroyed && !request.raw.complete) {
    request.log.info({ user: request.userId }, 'upload aborted before its body was complete');
    return new HttpError(400, 'bad_request', 'the upload was cut short');
  }
  const status = (error as { statusCode?: unknown }).statusCode;
  if (status === 413) return new HttpError(413, 'too_large', (error as Error).message);
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new HttpError(400, 'bad_request', (error as Error).message);
  }
  if (status === undefined && (error as NodeJS.ErrnoException).syscall === undefined) {
    return new HttpError(400, 'bad_request', `not a well-formed multipart body: ${(error as Error).message}`);
  }
  return error;
}

/** `<scheme>://<host>` the client reached us at: PUBLIC_URL, or this request's own scheme and Host. */
function baseUrl(request: FastifyRequest, publicUrl: string | undefined): string {
  if (publicUrl) return publicUrl;
  const origin = originOf(request.protocol, request.host);
  // A Host that is not a plain host[:port] would make a broken (or someone else's) URL.
  if (!origin) throw new HttpError(400, 'bad_request', 'no usable Host header (set PUBLIC_URL behind a proxy)');
  return origin;
}

/** What a received file is: an image, or audio with its real length. */
type Received = { ext: ImageExtension } | { ext: AudioExtension; durationMs: number };

/** Audio longer than this is refused at upload: no voice message could carry it. */
const AUDIO_MAX_MS = (LIMITS.voiceMaxSeconds + LIMITS.voiceDurationSlackSeconds) * 1000;

/**
 * Streams one file part into a temporary file beside its final place, sniffs it, and hands the
 * complete file to `keep` (which moves it to its stored name and answers that name); the
 * temporary file is gone whatever fails. A rejection of `abort` cuts the part short.
 *
 * Its first bytes decide the size limit it is held to while it arrives (an audio container's
 * start: `audioMaxBytes`, anything else: `imageMaxBytes`). Once complete, a file that starts like
 * audio is read whole (it is at most `audioMaxBytes`) to find its container and real length; any
 * other is sniffed as an image from its head.
 */
async function receiveUpload(
  file: Readable & { truncated?: boolean },
  temp: string,
  limits: { imageMaxBytes: number; audioMaxBytes: number },
  abort: Promise<never>,
  keep: (received: Received, bytes: number) => Promise<string>,
): Promise<string> {
  abort.catch((error: unknown) => file.destroy(error as Error));
  const head: Buffer[] = [];
  let headBytes = 0;
  let bytes = 0;
  let audio: boolean | undefined;
  const isAudio = () => (audio ??= looksLikeAudio(Buffer.concat(head)));
  const limit = () => (isAudio() ? limits.audioMaxBytes : limits.imageMaxBytes);
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      if (headBytes < SNIFF_BYTES) {
        const piece = chunk.subarray(0, SNIFF_BYTES - headBytes);
        head.push(piece);
        headBytes += piece.length;
      }
      // Over its kind's limit (known once the first bytes are in): cut off now, not at the end.
      if (headBytes >= KIND_BYTES && bytes > limit()) {
        done(tooLarge(limit()));
        return;
      }
      done(null, chunk);
    },
  });
  let kept = false;
  try {
    await pipeline(file, tap, fs.createWriteStream(temp, { flags: 'wx' }));
    // busboy stops passing data at the limit and marks the part truncated; the rest was skipped.
    if (file.truncated || bytes > limit()) throw tooLarge(limit());
    const received = isAudio() ? await receivedAudio(temp) : await receivedImage(Buffer.concat(head));
    const name = await keep(received, bytes);
    kept = true;
    return name;
  } finally {
    if (!kept) await fs.promises.rm(temp, { force: true });
  }
}

function unsupported(): HttpError {
  return new HttpError(
    415,
    'unsupported_type',
    'only JPEG, PNG, GIF and WebP images and AAC (ADTS), M4A and MP3 audio are accepted',
  );
}

async function receivedImage(head: Buffer): Promise<Received> {
  const ext = await sniffImage(head);
  if (!ext) throw unsupported();
  return { ext };
}

/** A complete file that starts like audio: its container and length, or the refusal. */
async function receivedAudio(temp: string): Promise<Received> {
  const info = await readAudio(await fs.promises.readFile(temp));
  if (!info) throw unsupported();
  if (info.durationMs > AUDIO_MAX_MS) {
    throw new HttpError(
      413,
      'too_long',
      `a recording may last at most ${LIMITS.voiceMaxSeconds} s; this one lasts ${(info.durationMs / 1000).toFixed(1)} s`,
    );
  }
  return info;
}

/**
 * The one byte range a `Range` header asks for within a file of `size` bytes: `{start, end}`
 * (inclusive), `'unsatisfiable'` (416), or undefined when the whole file is to be sent (no header,
 * not a single `bytes=` range: several ranges, or a malformed one, are ignored as RFC 9110 allows).
 */
export function byteRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    // A suffix: the last N bytes.
    const length = Number(match[2]);
    if (length === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? Number.POSITIVE_INFINITY : Number(match[2]);
  if (end < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end: Math.min(end, size - 1) };
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
  const { maxBytes, audioMaxBytes, publicUrl, uploads } = options;
  // The larger of the two: what a body may bring before its first bytes tell which one applies.
  const anyMaxBytes = Math.max(maxBytes, audioMaxBytes);
  const dir = uploads.dir;
  const quota = new UploadQuota(options.store, { perMinute: options.perMinute, bytesPerDay: options.bytesPerDay });
  const pace = { minBytesPerS: options.minBytesPerS, windowMs: options.paceWindowMs ?? PACE_WINDOW_MS };
  await uploads.start();
  app.addHook('onClose', () => uploads.stop());

  // An upload refused before its body was read (401, a declared length over the bound, a limit),
  // or cut while it was read (too slow): the client may still be sending, so the connection closes
  // after the answer, as Fastify's own body-limit answer does, instead of waiting for (or reading)
  // the rest.
  app.addHook('onError', async (request, reply) => {
    if (request.method === 'POST' && !request.raw.complete) reply.header('connection', 'close');
  });

  await app.register(multipart, {
    // We check `truncated` ourselves once the part has been read, to answer 413 and remove the file.
    throwFileSizeLimit: false,
    limits: { fileSize: anyMaxBytes, files: 1, fields: 20, fieldSize: 4096, parts: 30, headerPairs: 100 },
  });

  app.post('/api/upload', { preHandler: options.authenticate }, async (request, reply): Promise<UploadAnswer> => {
    const bound = anyMaxBytes + MULTIPART_OVERHEAD;
    const length = request.headers['content-length'];
    const declared = length === undefined ? 0 : Number(length);
    if (declared > bound) throw tooLarge(anyMaxBytes);
    if (!request.isMultipart()) {
      throw new HttpError(400, 'bad_request', 'expected a multipart/form-data body with a file part');
    }
    // Before the body is read: a request that cannot be answered stores nothing, and one over the
    // user's allowance costs no more than its headers (the declared length counts against the quota).
    const base = baseUrl(request, publicUrl);
    try {
      quota.takeUpload(request.userId);
    } catch (error) {
      if (error instanceof RetryLaterError) reply.header('retry-after', String(error.retryAfterS));
      throw error;
    }
    const used = await quota.checkBytes(request.userId, declared);

    try {
      // request.file() pipes the request into the parser before its first await; the byte count
      // is attached in the same tick, so it sees every chunk and changes no flow.
      const pending = request.file();
      // Settled later, when the request ends, if the pace cut it first: not unhandled.
      pending.catch(() => {});
      const watch = watchPace(request.raw, pace, (received) => {
        // Only a body sent without a Content-Length gets here (longer ones were refused above).
        if (received > bound) request.raw.destroy();
      });
      try {
        const part = await Promise.race([pending, watch.tooSlow]);
        if (!part) throw new HttpError(400, 'bad_request', 'no file part in the form');
        const temp = uploads.tempPath();
        const limits = { imageMaxBytes: maxBytes, audioMaxBytes };
        const name = await receiveUpload(part.file, temp, limits, watch.tooSlow, (received, bytes) => {
          quota.checkFits(used, bytes);
          const durationMs = 'durationMs' in received ? received.durationMs : undefined;
          return uploads.keep(temp, received.ext, request.userId, bytes, durationMs);
        });
        return { url: `${base}/uploads/${name}` };
      } finally {
        watch.stop();
      }
    } catch (error) {
      throw uploadFailure(error, request);
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
        // A range (WeChat's audio player asks for them) of this very file: an If-Range naming
        // anything else asks for the whole file instead.
        const ifRange = request.headers['if-range'];
        const range =
          ifRange === undefined || ifRange === etag ? byteRange(request.headers.range, stat.size) : undefined;
        if (range === 'unsatisfiable') {
          reply.header('content-range', `bytes */${stat.size}`);
          throw new HttpError(416, 'range_not_satisfiable', `the file has ${stat.size} bytes`);
        }
        reply
          .header('content-type', CONTENT_TYPES[match[1]])
          .header('accept-ranges', 'bytes')
          .header('cache-control', CACHE_CONTROL)
          .header('etag', etag)
          .header('last-modified', stat.mtime.toUTCString())
          .header('x-content-type-options', 'nosniff');
        if (etagMatches(request.headers['if-none-match'], etag)) return reply.code(304).send();
        const { start, end } = range ?? { start: 0, end: Math.max(0, stat.size - 1) };
        if (range) reply.code(206).header('content-range', `bytes ${start}-${end}/${stat.size}`);
        reply.header('content-length', range ? end - start + 1 : stat.size);
        if (request.method === 'HEAD') return reply.send();
        sending = true;
        // The stream closes the handle when it ends or is destroyed (a client that goes away). With
        // `end` it ends right after the last byte instead of after one more (empty) read, so the
        // response is finished as soon as the client has it all (a stop right after then finds the
        // connection idle and closes it).
        return reply.send(handle.createReadStream({ start, end }));
      } finally {
        if (!sending) await handle.close();
      }
    },
  });
}
