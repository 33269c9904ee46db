/**
 * The durable peer: a Socket.IO server written the way Socket.IO's own chat tutorial teaches
 * (https://socket.io/docs/v4/tutorial/step-7 "server delivery", step-8 "client delivery"):
 *
 * - `connectionStateRecovery` on, and on a connection that was not recovered, every stored message
 *   after the client's `auth.serverOffset` is replayed;
 * - a SQLite table `messages (id INTEGER PRIMARY KEY AUTOINCREMENT, client_offset TEXT UNIQUE,
 *   content TEXT)`, one INSERT per `send` event with the client's offset (the load generator's cid);
 *   a duplicate (SQLITE_CONSTRAINT) is acked without being stored again; any other error is not
 *   acked (the client retries);
 * - the message goes out with its server offset (the row id) for recovery, and the sender is acked
 *   through Socket.IO's ack callback.
 *
 * Two departures, both stated in docs/benchmarks.md: the tutorial uses the `sqlite3`/`sqlite`
 * packages with their defaults; this uses better-sqlite3 (a dependency of the repo) with
 * `journal_mode = WAL` and `synchronous = NORMAL`, the durability our server has. And the message
 * goes to the peer named in `to` (as the relays do: the load is pairs) instead of `io.emit` to all.
 * The user id comes from the handshake's `auth.id`; the database file from `SIO_DB`.
 */
import http from 'node:http';
import Database from 'better-sqlite3';
import { Server, type Socket } from 'socket.io';

interface SendEvent {
  cid: string;
  to: string;
  kind: string;
  body: string;
}

const file = process.env.SIO_DB;
if (!file) throw new Error('SIO_DB (the SQLite file) is not set');
const db = new Database(file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec(`
  CREATE TABLE IF NOT EXISTS messages (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      client_offset TEXT UNIQUE,
      content TEXT
  );
`);
const insert = db.prepare<[string, string]>('INSERT INTO messages (content, client_offset) VALUES (?, ?)');
const after = db.prepare<[number], { id: number; content: string }>('SELECT id, content FROM messages WHERE id > ?');

const byId = new Map<string, Socket>();
const server = http.createServer();
const io = new Server(server, {
  transports: ['websocket'],
  perMessageDeflate: false,
  httpCompression: false,
  maxHttpBufferSize: 64 * 1024,
  serveClient: false,
  connectionStateRecovery: {},
});

io.on('connection', (socket) => {
  const auth = socket.handshake.auth as { id?: unknown; serverOffset?: unknown };
  const id = String(auth.id ?? '');
  byId.set(id, socket);
  socket.on('send', (frame: SendEvent, callback?: () => void) => {
    let result: Database.RunResult;
    try {
      result = insert.run(frame.body, frame.cid);
    } catch (error) {
      // The message was stored already: tell the client so it stops retrying.
      if ((error as { code?: string }).code?.startsWith('SQLITE_CONSTRAINT')) callback?.();
      // Anything else: no ack, the client retries.
      return;
    }
    byId
      .get(frame.to)
      ?.emit(
        'message',
        { from: id, cid: frame.cid, kind: frame.kind, body: frame.body, ts: Date.now() },
        Number(result.lastInsertRowid),
      );
    callback?.();
  });
  socket.on('disconnect', () => {
    if (byId.get(id) === socket) byId.delete(id);
  });
  if (!socket.recovered) {
    // The tutorial's catch-up: every message after the client's offset.
    for (const row of after.iterate(Number(auth.serverOffset ?? 0))) {
      socket.emit('message', { body: row.content }, row.id);
    }
  }
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening ${typeof address === 'object' && address ? address.port : 0}`);
});
