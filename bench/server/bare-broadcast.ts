/**
 * Baseline for group fan-out: a bare `ws` broadcast relay. Each connection names its user and its
 * group in the query string (`/?id=12&group=3`). Every frame is parsed, the message serialised
 * once, and the same string sent to every other member of the sender's group that is connected —
 * no auth, no validation, no storage, no acks. Prints `listening <port>` once it accepts.
 */
import http from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

interface SendFrame {
  conv: string;
  cid: string;
  kind: string;
  body: string;
}

const groups = new Map<string, Set<WebSocket>>();
const server = http.createServer((_request, response) => response.writeHead(404).end());
const wss = new WebSocketServer({ server, maxPayload: 64 * 1024, perMessageDeflate: false });

wss.on('connection', (socket, request) => {
  const query = new URL(request.url ?? '/', 'http://localhost').searchParams;
  const id = query.get('id') ?? '';
  const group = query.get('group') ?? '';
  let members = groups.get(group);
  if (!members) groups.set(group, (members = new Set()));
  members.add(socket);
  socket.on('message', (data) => {
    const frame = JSON.parse(String(data)) as SendFrame;
    const text = JSON.stringify({
      type: 'message',
      conv: frame.conv,
      from: id,
      cid: frame.cid,
      kind: frame.kind,
      body: frame.body,
      ts: Date.now(),
    });
    for (const member of members) if (member !== socket) member.send(text);
  });
  socket.on('close', () => members.delete(socket));
  socket.on('error', () => socket.terminate());
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening ${typeof address === 'object' && address ? address.port : 0}`);
});
