/**
 * Baseline (b): a bare `ws` relay. It parses each frame's JSON, looks up the peer named in `to`,
 * and forwards a `message` frame to it — no auth, no validation, no storage, no acks. The user id
 * comes from the query string (`/?id=12`). Prints `listening <port>` once it accepts connections.
 */
import http from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

interface SendFrame {
  cid: string;
  to: string;
  kind: string;
  body: string;
}

const byId = new Map<string, WebSocket>();
const server = http.createServer((_request, response) => response.writeHead(404).end());
const wss = new WebSocketServer({ server, maxPayload: 64 * 1024, perMessageDeflate: false });

wss.on('connection', (socket, request) => {
  const id = new URL(request.url ?? '/', 'http://localhost').searchParams.get('id') ?? '';
  byId.set(id, socket);
  socket.on('message', (data) => {
    const frame = JSON.parse(String(data)) as SendFrame;
    const peer = byId.get(frame.to);
    if (!peer) return;
    peer.send(
      JSON.stringify({ type: 'message', from: id, cid: frame.cid, kind: frame.kind, body: frame.body, ts: Date.now() }),
    );
  });
  socket.on('close', () => {
    if (byId.get(id) === socket) byId.delete(id);
  });
  socket.on('error', () => socket.terminate());
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening ${typeof address === 'object' && address ? address.port : 0}`);
});
