import net from 'node:net';
import { backoffDelay, DEFAULT_BACKOFF } from '../../miniprogram/core/backoff';
import type { LoginResponse } from '../../contract/http';
import { createPhone, startPhone, stored, waitFor, type Phone } from '../support/app';
import { startServerProcess, type ServerProcess } from '../support/server-process';
import { seeded } from '../support/fixtures';

/** A port on which nothing listens (for a moment at least). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('backoff', () => {
  it('stays within full-jitter bounds that double from 0.5 s up to the 30 s cap', () => {
    const random = seeded(42);
    const delays = Array.from({ length: 12 }, (_, attempt) => backoffDelay(attempt, DEFAULT_BACKOFF, random));
    delays.forEach((delay, attempt) => {
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(Math.min(30_000, 500 * 2 ** attempt));
    });
    // The same seed gives the same sequence.
    const again = seeded(42);
    expect(Array.from({ length: 12 }, (_, attempt) => backoffDelay(attempt, DEFAULT_BACKOFF, again))).toEqual(delays);
    // The extremes of the random source reach the bounds.
    expect(backoffDelay(3, DEFAULT_BACKOFF, () => 0)).toBe(0);
    expect(backoffDelay(3, DEFAULT_BACKOFF, () => 0.999999)).toBe(3999);
    expect(backoffDelay(40, DEFAULT_BACKOFF, () => 0.999999)).toBe(29_999);
  });
});

describe('the connection', () => {
  const phones: Phone[] = [];
  const servers: ServerProcess[] = [];

  afterEach(async () => {
    for (const phone of phones.splice(0)) phone.client.stop();
    for (const server of servers.splice(0)) await server.stop();
  });

  it('gives up after its try limit, offers a retry, and connects once the server is there', async () => {
    const port = await freePort();
    const phone = createPhone(`http://127.0.0.1:${port}`, {
      maxAttempts: 3,
      backoff: { baseMs: 20, capMs: 50 },
    });
    phones.push(phone);
    const first = await startServerProcess({ port });
    servers.push(first);
    phone.client.start();
    await waitFor(() => phone.client.stores.connection.state === 'ready', 'the first connection');
    await first.kill();
    servers.splice(0);

    await waitFor(() => phone.client.stores.connection.state === 'failed', 'the try limit', 10_000);
    expect(phone.client.stores.connection.banner).toBe('连接失败，点击重试');
    const attempts = phone.adapter.tasks.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(phone.adapter.tasks.length).toBe(attempts);

    servers.push(await startServerProcess({ port, dataDir: first.dataDir }));
    phone.client.retry();
    await waitFor(() => phone.client.stores.connection.state === 'ready', 'the manual retry');
    expect(phone.adapter.maxConcurrentTasks).toBe(1);
  });

  it('logs in as part of connecting: a failed login is a failed attempt, with the same backoff and try limit', async () => {
    const port = await freePort();
    const phone = createPhone(`http://127.0.0.1:${port}`, { maxAttempts: 3, backoff: { baseMs: 20, capMs: 50 } });
    phones.push(phone);
    const states: string[] = [];
    const seen = setInterval(() => {
      const state = phone.client.stores.connection.state;
      if (states.at(-1) !== state) states.push(state);
    }, 1);
    // No server yet: the login itself fails, so no socket is ever opened.
    phone.client.start();
    await waitFor(() => phone.client.stores.connection.state === 'failed', 'the try limit', 10_000);
    clearInterval(seen);
    expect(phone.adapter.tasks).toHaveLength(0);
    expect(states).toContain('waiting');
    expect(phone.client.stores.me.user).toBeNull();
    expect(phone.client.stores.connection.lastError).not.toBe('');

    servers.push(await startServerProcess({ port }));
    phone.client.retry();
    await waitFor(() => phone.client.stores.connection.state === 'ready', 'the login and connection after retry');
    expect(phone.client.stores.me.id).toMatch(/^u/);
    expect(phone.adapter.tasks).toHaveLength(1);
  });

  it('does not try while the network is down and reconnects at once when it is back', async () => {
    const server = await startServerProcess();
    servers.push(server);
    const phone = await startPhone(server.url, { heartbeatMs: 60_000 });
    phones.push(phone);
    phone.adapter.setNetwork(false);
    phone.adapter.liveTasks()[0].ws.terminate();
    await waitFor(() => phone.client.stores.connection.state === 'offline', 'offline');
    expect(phone.client.stores.connection.banner).toBe('网络不可用');
    const attempts = phone.adapter.tasks.length;
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(phone.adapter.tasks.length).toBe(attempts);

    phone.adapter.setNetwork(true);
    await waitFor(() => phone.client.stores.connection.state === 'ready', 'back online');
    expect(phone.adapter.tasks.length).toBe(attempts + 1);
  });

  it('detects a silent connection by its heartbeat and replaces it', async () => {
    const server = await startServerProcess();
    servers.push(server);
    const phone = await startPhone(server.url, { heartbeatMs: 100, heartbeatTimeoutMs: 200 });
    phones.push(phone);
    const task = phone.adapter.liveTasks()[0];
    // The server stops answering on this socket without closing it: a half-open connection.
    // ws keeps its TCP socket in a private field; pausing it stops every byte from the server.
    (task.ws as unknown as { _socket: net.Socket })._socket.pause();
    await waitFor(() => phone.adapter.tasks.length > 1, 'a new task after the heartbeat timeout', 5000);
    await waitFor(() => phone.client.stores.connection.state === 'ready', 'the new connection');
    expect(task.live).toBe(false);
    expect(phone.adapter.liveTasks()).toHaveLength(1);
  });

  it('logs in again when the server closes with 4001 (token expired) and carries on', async () => {
    const server = await startServerProcess({ env: { TOKEN_TTL_SECONDS: '2' } });
    servers.push(server);
    const phone = await startPhone(server.url);
    phones.push(phone);
    const id = phone.client.stores.me.id;
    const token = stored<LoginResponse>(phone, 'chat.session')?.token;
    await waitFor(
      () => phone.adapter.tasks.length > 1 && phone.client.stores.connection.state === 'ready',
      'a new connection',
      8000,
    );
    const renewed = stored<LoginResponse>(phone, 'chat.session')?.token;
    expect(token).toBeDefined();
    expect(renewed).not.toBe(token);
    expect(phone.client.stores.me.id).toBe(id);
    expect(phone.adapter.tasks[0].closeCode).toBe(4001);
  });
});
