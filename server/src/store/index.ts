import path from 'node:path';
import type { Logger } from 'pino';
import type { ServerConfig } from '../config';
import { PostgresStore } from './postgres';
import { SqliteStore } from './sqlite';
import type { Store } from './types';

/** PostgreSQL when `DATABASE_URL` is set (several instances share it), else the SQLite file in the data folder. */
export async function openStore(config: ServerConfig, log?: Logger): Promise<Store> {
  if (config.databaseUrl) {
    return PostgresStore.open({
      url: config.databaseUrl,
      schema: config.databaseSchema,
      poolSize: config.databasePoolSize,
    });
  }
  return new SqliteStore(path.join(config.dataDir, 'chat.db'), {
    writerThread: config.sqliteWriter === 'thread',
    onCheckpointFailure: (error) =>
      log?.error({ err: error }, 'the WAL checkpoint worker failed: checkpointing inside commits again'),
    onWriterFailure: (error) =>
      log?.error({ err: error }, 'the SQLite writer thread failed: writing messages on the main thread from now on'),
  });
}
