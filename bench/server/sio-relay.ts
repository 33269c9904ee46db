/**
 * Baseline (c): a Socket.IO relay on the websocket transport only (no long-polling). Each `send`
 * event is forwarded to the peer named in `to` as a `message` event — no auth, no storage, no acks.
 * The user id comes from the handshake's `auth.id`. Prints `listening <port>` once it accepts.
 */
import http from 'node:http';
import { Server, type Socket } from 'socket.io';

interface SendEvent {
  cid: string;
  to: string;
  kind: string;
  body: string;
}

const byId = new Map<string, Socket>();
const server = http.createServer();
const io = new Server(server, {
  transports: ['websocket'],
  perMessageDeflate: false,
  httpCompression: false,
  maxHttpBufferSize: 64 * 1024,
  serveClient: false,
});

io.on('connection', (socket) => {
  const id = String((socket.handshake.auth as { id?: unknown }).id ?? '');
  byId.set(id, socket);
  socket.on('send', (frame: SendEvent) => {
    const peer = byId.get(frame.to);
    if (!peer) return;
    peer.emit('message', { from: id, cid: frame.cid, kind: frame.kind, body: frame.body, ts: Date.now() });
  });
  socket.on('disconnect', () => {
    if (byId.get(id) === socket) byId.delete(id);
  });
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening ${typeof address === 'object' && address ? address.port : 0}`);
});
