import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Store } from '../store/types';
import { UPLOAD_NAME, uploadKindOf, uploadNameOf, type UploadKind } from './upload-urls';

/**
 * The stored uploads: a file in `<dataDir>/uploads/` and a row in the uploads table for each.
 * Keeps them together (a file is kept with its row, removed with it), says whether a URL names
 * one of them (and marks it used), and removes the ones nothing came to use after a grace period.
 */

/** Temporary files being written; the prefix keeps them out of UPLOAD_NAME (never served). */
const TEMP_PREFIX = '.upload-';

/** Temporary files older than this, left by a crash mid-upload, are removed when a server starts. */
const STALE_TEMP_MS = 60 * 60 * 1000;

/** Most uploads one sweep removes; a full batch brings the next sweep forward. */
const SWEEP_BATCH = 500;

/** The pause before the next batch when a sweep found a full one. */
const SWEEP_AGAIN_MS = 1000;

export interface UploadStoreOptions {
  dir: string;
  store: Store;
  /** Seconds an unreferenced upload is kept. */
  graceS: number;
  /** PUBLIC_URL: the only base an upload URL may have when set, and the base of canonical URLs. */
  publicUrl?: string;
  log: Logger;
  /** How often the sweep runs (ms); default a tenth of the grace, between 1 s and 10 min. */
  sweepIntervalMs?: number;
  clock?: () => number;
}

export function uploadsDir(dataDir: string): string {
  return path.join(dataDir, 'uploads');
}

export class UploadStore {
  readonly dir: string;
  private readonly clock: () => number;
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly options: UploadStoreOptions) {
    this.dir = options.dir;
    this.clock = options.clock ?? Date.now;
  }

  /** Makes the folder, clears a crash's leftovers, adopts files from before uploads were recorded, sweeps once. */
  async start(): Promise<void> {
    await fs.promises.mkdir(this.dir, { recursive: true });
    await this.removeStaleTempFiles();
    await this.adoptUnrecordedFiles();
    await this.sweep();
    // A full first batch has scheduled its follow-up already.
    if (!this.timer) this.schedule(this.sweepIntervalMs());
  }

  /** Stops the sweep, waiting for a run under way (the store closes after this). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.sweeping;
  }

  /** A fresh temporary path in the uploads folder, for a file being received. */
  tempPath(): string {
    return path.join(this.dir, `${TEMP_PREFIX}${randomBytes(12).toString('hex')}`);
  }

  /**
   * Moves a complete temporary file to its stored name and records it; answers the name. The name
   * never comes from the client: 18 random bytes, 24 base64url characters, unguessable.
   */
  async keep(temp: string, ext: string, owner: string, bytes: number, durationMs?: number): Promise<string> {
    const name = `${randomBytes(18).toString('base64url')}.${ext}`;
    const file = path.join(this.dir, name);
    await fs.promises.rename(temp, file);
    try {
      await this.options.store.addUpload({
        name,
        owner,
        bytes,
        createdAt: this.clock(),
        referenced: false,
        ...(durationMs === undefined ? {} : { durationMs }),
      });
    } catch (error) {
      // A file without its row could never be used: not kept.
      await fs.promises.rm(file, { force: true });
      throw error;
    }
    return name;
  }

  /**
   * The canonical URL of an upload a message or an avatar starts to use, which is marked used in
   * the same step (so a sweep can never remove it after this), or null when `url` names no upload
   * of ours of that kind (an image message or an avatar takes images only, a voice message audio
   * only). `origin` is the base the asker reached us at; PUBLIC_URL wins when set.
   */
  async claim(url: string, origin: string | undefined, kind: UploadKind = 'image'): Promise<string | null> {
    const { publicUrl, store } = this.options;
    const name = uploadNameOf(url, publicUrl);
    const base = publicUrl ?? origin;
    if (!name || !base || uploadKindOf(name) !== kind) return null;
    return (await store.claimUpload(name)) ? `${base}/uploads/${name}` : null;
  }

  /**
   * A voice message's body: the canonical URL of the audio upload `url` names, claimed like any
   * other, when `durationS` (whole seconds, as the sender gave it) is at most `slackMs` from the
   * length read from the file at upload; otherwise why not (nothing claimed). Only numbers are
   * compared here: the file was parsed once, when it was stored.
   */
  async claimVoice(
    url: string,
    origin: string | undefined,
    durationS: number,
    slackMs: number,
  ): Promise<{ url: string } | { refused: string }> {
    const { publicUrl, store } = this.options;
    const name = uploadNameOf(url, publicUrl);
    const notAudio = {
      refused: 'a voice message\'s "body" must be the url POST /api/upload answered for an audio file',
    };
    if (!name || uploadKindOf(name) !== 'audio') return notAudio;
    const upload = await store.getUpload(name);
    if (!upload || upload.durationMs === undefined) return notAudio;
    const offMs = Math.abs(durationS * 1000 - upload.durationMs);
    if (offMs > slackMs) {
      const real = (upload.durationMs / 1000).toFixed(1);
      return { refused: `"duration" ${durationS} s is more than ${slackMs / 1000} s off the recording's ${real} s` };
    }
    const claimed = await this.claim(url, origin, 'audio');
    return claimed === null ? notAudio : { url: claimed };
  }

  /** Removes one batch of uploads nothing used within the grace period: rows first, then their files. */
  sweep(): Promise<void> {
    this.sweeping ??= this.sweepBatch()
      .then((full) => {
        if (full) this.schedule(SWEEP_AGAIN_MS);
      })
      .catch((error: unknown) => this.options.log.error({ err: error }, 'the upload sweep failed'))
      .finally(() => (this.sweeping = null));
    return this.sweeping;
  }

  /** True when the batch was full (more may be waiting). */
  private async sweepBatch(): Promise<boolean> {
    const before = this.clock() - this.options.graceS * 1000;
    const names = await this.options.store.deleteStaleUploads(before, SWEEP_BATCH);
    for (const name of names) {
      // The row is gone, so nothing can claim it any more; the file follows. The pattern is checked
      // again so that nothing but an upload's own file is ever removed.
      if (UPLOAD_NAME.test(name)) await fs.promises.rm(path.join(this.dir, name), { force: true });
    }
    if (names.length > 0) this.options.log.info({ removed: names.length }, 'removed unused uploads');
    return names.length >= SWEEP_BATCH;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.sweep().then(() => {
        // A full batch scheduled its follow-up already.
        if (!this.timer) this.schedule(this.sweepIntervalMs());
      });
    }, delayMs);
    this.timer.unref();
  }

  private sweepIntervalMs(): number {
    return this.options.sweepIntervalMs ?? Math.min(10 * 60_000, Math.max(1000, (this.options.graceS * 1000) / 10));
  }

  /**
   * Files stored before uploads were recorded (an older version of the server) have no row, so no
   * message could name them again. The first start with an empty table records them as used:
   * which messages use them is not known, so none is ever removed.
   */
  private async adoptUnrecordedFiles(): Promise<void> {
    const { store, log } = this.options;
    if (await store.hasUploads()) return;
    let adopted = 0;
    for (const entry of await fs.promises.readdir(this.dir)) {
      if (!UPLOAD_NAME.test(entry)) continue;
      try {
        const stat = await fs.promises.stat(path.join(this.dir, entry));
        if (!stat.isFile()) continue;
        await store.addUpload({
          name: entry,
          owner: '',
          bytes: stat.size,
          createdAt: Math.floor(stat.mtimeMs),
          referenced: true,
        });
        adopted++;
      } catch {
        // Gone meanwhile.
      }
    }
    if (adopted > 0) log.info({ adopted }, 'recorded uploads stored before uploads were recorded');
  }

  /** Removes temporary files a crashed server left behind (only old ones: another instance may be writing). */
  private async removeStaleTempFiles(): Promise<void> {
    const now = Date.now();
    for (const entry of await fs.promises.readdir(this.dir)) {
      if (!entry.startsWith(TEMP_PREFIX)) continue;
      const file = path.join(this.dir, entry);
      try {
        if (now - (await fs.promises.stat(file)).mtimeMs > STALE_TEMP_MS) await fs.promises.rm(file, { force: true });
      } catch {
        // Gone meanwhile.
      }
    }
  }
}
