/**
 * The writer thread's program (started by sqlite-writer-port.ts): its own connection to the store's
 * file and a SqliteWriter on it, answering each request in the order they came, one transaction
 * each. The main thread batches appends, so one request may store many messages in one commit.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openConnection, SQLITE } from './sqlite-connection';
import { SqliteWriter } from './sqlite-writer';
import { appendAnswers, type WriterRequest, type WriterResponse } from './sqlite-writer-port';
import type { NewMessage } from './types';

const { file, autoCheckpoint } = workerData as { file: string; autoCheckpoint: boolean };
const port = parentPort;
if (!port) throw new Error('sqlite-writer-thread.ts runs as a worker thread');
const db = openConnection(file, { autoCheckpoint });
const writer = new SqliteWriter(db, SQLITE);

function answer(request: WriterRequest): unknown {
  switch (request.op) {
    case 'append':
      return appendAnswers(writer.append(JSON.parse(request.batch) as NewMessage[]));
    case 'recall':
      return writer.recall(request.event, request.seq, request.moveRead);
    case 'changeGroup':
      return writer.changeGroup(request.groupId, request.message, request.change);
    case 'advanceRead':
      return writer.advanceRead(request.conv, request.userId, request.seq);
    case 'checkpoint':
      return writer.checkpoint();
    case 'autoCheckpoint':
      return db.pragma(`wal_autocheckpoint = ${request.pages}`);
    case 'close':
      db.close();
      return null;
  }
}

port.on('message', (request: WriterRequest) => {
  let response: WriterResponse;
  try {
    response = { id: request.id, value: answer(request) };
  } catch (error) {
    response = { id: request.id, error: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(response);
  if (request.op === 'close') port.close();
});
