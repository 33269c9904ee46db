import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Where the worker finds better-sqlite3: where this module does (a plain `require` would do, but
 * the mini-program typings, loaded beside Node's in the tests' type check, redefine it). */
const DRIVER = createRequire(__filename).resolve('better-sqlite3');

/**
 * The worker's whole program: its own connection to the same SQLite file; on each `checkpoint`
 * message it copies the WAL back into the database (PASSIVE: it never waits for, nor blocks, the
 * writer) and answers `done`. Evaluated from a string so that it runs the same from the compiled
 * server and under the tests.
 */
const PROGRAM = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 1000');
parentPort.on('message', (message) => {
  if (message === 'checkpoint') {
    let complete = false;
    let frames = 0;
    try {
      // Under steady commits a pass ends with the pages committed meanwhile still to copy, and
      // only a complete checkpoint lets the WAL start over: passes again (a few), each shorter.
      for (let pass = 0; pass < workerData.maxPasses && !complete; pass++) {
        const [state] = db.pragma('wal_checkpoint(PASSIVE)');
        complete = !state || state.log === state.checkpointed;
        frames = state ? state.log : 0;
      }
    } catch (error) {
      // SQLITE_BUSY and the like: the next round tries again.
    }
    parentPort.postMessage({ complete, frames });
  } else if (message === 'stop') {
    db.close();
    parentPort.close();
  }
});
`;

/** Passes in one round at most: enough to catch up with the commits made during the first. */
const MAX_PASSES = 8;

export interface CheckpointerEvents {
  /**
   * A round of the worker ended: the WAL (`frames` pages long) is in the database now (complete),
   * or most of it (commits went on during every pass).
   */
  afterPass(round: { complete: boolean; frames: number }): void;
  /** The worker died; the caller falls back to checkpointing on its own. */
  onFailure(error: Error): void;
}

/**
 * Moves the bulk of SQLite's WAL checkpoints off the event loop. With the automatic checkpoint,
 * the commit that crosses 1,000 WAL pages copies them into the database file (and syncs it) on the
 * main thread, holding up every connection for milliseconds. Here a worker thread copies them
 * while the main thread keeps committing (WAL mode lets one connection checkpoint while another
 * writes), one round of passes every `intervalMs`, never two at once.
 */
export class WalCheckpointer {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private failed = false;

  constructor(
    file: string,
    private readonly intervalMs: number,
    events: CheckpointerEvents,
  ) {
    this.worker = new Worker(PROGRAM, {
      eval: true,
      workerData: { file, driver: DRIVER, maxPasses: MAX_PASSES },
    });
    // The worker must not keep a finished process alive.
    this.worker.unref();
    const fail = (error: Error) => {
      if (this.stopped || this.failed) return;
      this.failed = true;
      if (this.timer) clearTimeout(this.timer);
      events.onFailure(error);
    };
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`the WAL checkpoint worker exited with code ${code}`)));
    this.worker.on('message', (round: { complete: boolean; frames: number }) => {
      if (this.stopped || this.failed) return;
      events.afterPass(round);
      this.schedule();
    });
    this.schedule();
  }

  private schedule(): void {
    this.timer = setTimeout(() => this.worker.postMessage('checkpoint'), this.intervalMs);
    this.timer.unref();
  }

  /** Stops the passes and closes the worker's connection; resolves once the thread has exited. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.worker.postMessage('stop');
    const timer = setTimeout(() => void this.worker.terminate(), 2000);
    await this.exited;
    clearTimeout(timer);
  }
}
