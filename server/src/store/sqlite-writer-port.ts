import { createRequire } from 'node:module';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ChatMessage } from '../../../contract/frames';
import type { AppendOutcome, SqliteWriter } from './sqlite-writer';
import { storedMessage } from './rows';
import type { AppendResult, GroupChange, NewMessage } from './types';

/** What the store asks of its writer (sqlite-writer.ts), wherever that runs. */
export interface WriterPort {
  append(batch: readonly NewMessage[]): Promise<AppendOutcome[]>;
  recall(event: NewMessage, seq: number, moveRead: boolean): Promise<AppendResult | null>;
  changeGroup(groupId: string, message: NewMessage, change: GroupChange): Promise<ChatMessage>;
  advanceRead(conv: string, userId: string, seq: number): Promise<number | null>;
  /** Finishes a WAL checkpoint between two of the writer's transactions. */
  checkpoint(): Promise<void>;
  /** The checkpoint worker failed: the writer checkpoints inside its commits again. */
  autoCheckpoint(pages: number): Promise<void>;
  close(): Promise<void>;
}

/** The writer on the calling thread (an in-memory database has no file another thread could open). */
export class InlineWriter implements WriterPort {
  constructor(
    private readonly writer: SqliteWriter,
    private readonly setAutoCheckpoint: (pages: number) => void,
  ) {}

  async append(batch: readonly NewMessage[]) {
    return this.writer.append(batch);
  }
  async recall(event: NewMessage, seq: number, moveRead: boolean) {
    return this.writer.recall(event, seq, moveRead);
  }
  async changeGroup(groupId: string, message: NewMessage, change: GroupChange) {
    return this.writer.changeGroup(groupId, message, change);
  }
  async advanceRead(conv: string, userId: string, seq: number) {
    return this.writer.advanceRead(conv, userId, seq);
  }
  async checkpoint() {
    this.writer.checkpoint();
  }
  async autoCheckpoint(pages: number) {
    this.setAutoCheckpoint(pages);
  }
  async close() {}
}

/** A request to the writer thread; `id` pairs it with its response. */
export type WriterRequest = { id: number } &
  /** The batch as JSON text: one string crosses to the thread faster than the objects would. */
  (
    | { op: 'append'; batch: string }
    | { op: 'recall'; event: NewMessage; seq: number; moveRead: boolean }
    | { op: 'changeGroup'; groupId: string; message: NewMessage; change: GroupChange }
    | { op: 'advanceRead'; conv: string; userId: string; seq: number }
    | { op: 'checkpoint' }
    | { op: 'autoCheckpoint'; pages: number }
    | { op: 'close' }
  );

/**
 * One append's answer as it crosses back from the thread: a new message's seq alone (the main
 * thread has the message), anything else in full.
 */
export type AppendAnswer = number | AppendOutcome;

/** What the thread sends back of a batch's outcomes (see AppendAnswer). */
export function appendAnswers(outcomes: readonly AppendOutcome[]): AppendAnswer[] {
  return outcomes.map((outcome) =>
    'result' in outcome && !outcome.result.duplicate ? outcome.result.message.seq : outcome,
  );
}

export type WriterResponse = { id: number; value: unknown } | { id: number; error: string };

/** Distributes Omit over the request union (a plain Omit would merge its members). */
type RequestBody = WriterRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

interface Waiting {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/**
 * The writer in a worker thread with its own connection: the main thread, which does all the
 * socket work, no longer spends its time in statements and commits. Requests are answered in the
 * order they were made. If the thread dies, what it had not answered is rejected (the clients
 * resend; a cid stored meanwhile is answered as a duplicate) and later requests go to `fallback`,
 * a writer on the main thread's connection.
 */
export class ThreadWriter implements WriterPort {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  private fallbackWriter: WriterPort | null = null;
  private closing = false;
  private readonly exited: Promise<void>;

  constructor(
    file: string,
    options: { autoCheckpoint: boolean },
    private readonly fallback: () => WriterPort,
    private readonly onFailure: (error: Error) => void = () => {},
  ) {
    this.worker = startWriterThread({ file, autoCheckpoint: options.autoCheckpoint });
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    // Idle, the thread must not keep a finished process alive; busy, it must (an append awaited
    // by a script is not enough to).
    this.worker.unref();
    this.worker.on('message', (response: WriterResponse) => {
      const waiting = this.waiting.get(response.id);
      if (!waiting) return;
      this.waiting.delete(response.id);
      if (this.waiting.size === 0) this.worker.unref();
      if ('error' in response) waiting.reject(new Error(response.error));
      else waiting.resolve(response.value);
    });
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => {
      if (!this.closing) this.fail(new Error(`the SQLite writer thread exited with code ${code}`));
    });
  }

  async append(batch: readonly NewMessage[]) {
    const answers = await this.ask<AppendAnswer[]>({ op: 'append', batch: JSON.stringify(batch) }, (writer) =>
      writer.append(batch),
    );
    return answers.map((answer, i) =>
      typeof answer === 'number' ? { result: { message: storedMessage(batch[i], answer), duplicate: false } } : answer,
    );
  }
  recall(event: NewMessage, seq: number, moveRead: boolean) {
    return this.ask<AppendResult | null>({ op: 'recall', event, seq, moveRead }, (writer) =>
      writer.recall(event, seq, moveRead),
    );
  }
  changeGroup(groupId: string, message: NewMessage, change: GroupChange) {
    return this.ask<ChatMessage>({ op: 'changeGroup', groupId, message, change }, (writer) =>
      writer.changeGroup(groupId, message, change),
    );
  }
  advanceRead(conv: string, userId: string, seq: number) {
    return this.ask<number | null>({ op: 'advanceRead', conv, userId, seq }, (writer) =>
      writer.advanceRead(conv, userId, seq),
    );
  }
  async checkpoint() {
    await this.ask({ op: 'checkpoint' }, (writer) => writer.checkpoint());
  }
  async autoCheckpoint(pages: number) {
    await this.ask({ op: 'autoCheckpoint', pages }, (writer) => writer.autoCheckpoint(pages));
  }

  /** Answers what was asked before, closes the thread's connection, and waits for the thread to end. */
  async close(): Promise<void> {
    if (this.fallbackWriter) return this.fallbackWriter.close();
    const closed = this.ask({ op: 'close' }, async () => {});
    this.closing = true;
    await closed;
    const timer = setTimeout(() => void this.worker.terminate(), 2000);
    await this.exited;
    clearTimeout(timer);
  }

  private ask<T>(request: RequestBody, onFallback: (writer: WriterPort) => Promise<T>): Promise<T> {
    if (this.fallbackWriter) return onFallback(this.fallbackWriter);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      if (this.waiting.size === 0) this.worker.ref();
      this.waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.worker.postMessage({ ...request, id });
    });
  }

  private fail(error: Error): void {
    if (this.fallbackWriter || this.closing) return;
    this.fallbackWriter = this.fallback();
    for (const waiting of this.waiting.values()) waiting.reject(error);
    this.waiting.clear();
    this.onFailure(error);
  }
}

/**
 * Starts sqlite-writer-thread: the compiled .js in the built server; under the tests, which run
 * the TypeScript sources, the .ts through the same compiler (@swc/core) the tests use.
 */
function startWriterThread(workerData: { file: string; autoCheckpoint: boolean }): Worker {
  const extension = path.extname(__filename);
  const entry = path.join(__dirname, `sqlite-writer-thread${extension}`);
  if (extension !== '.ts') return new Worker(entry, { workerData });
  const swc = createRequire(__filename).resolve('@swc/core');
  const program = `
    const fs = require('node:fs');
    const { transformSync } = require(${JSON.stringify(swc)});
    require.extensions['.ts'] = (module, filename) => {
      const { code } = transformSync(fs.readFileSync(filename, 'utf8'), {
        filename,
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'commonjs' },
      });
      module._compile(code, filename);
    };
    require(${JSON.stringify(entry)});
  `;
  return new Worker(program, { eval: true, workerData });
}
