/**
 * The HTTP half of the protocol over a real port and a real SQLite file: health, development
 * login, the user directory with its online flags, the profile, and JSON errors.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DirectoryEntry, PublicUser } from '../../contract/frames';
import type { LoginResponse } from '../../contract/http';
import { Tokens } from '../src/auth/tokens';
import { useTestServer } from './support/fixture';
import { api, expectFailure, login, uploadImage } from './support/server';
import { waitFor } from './support/wait';

const server = useTestServer();

/** A device id unique to this run, valid for the dev login's pattern. */
function devId(label: string): string {
  return `${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

async function setNickname(token: string, nickname: string): Promise<PublicUser> {
  const answer = await api(server.url, 'PUT', '/api/profile', { token, json: { nickname } });
  expect(answer.status).toBe(200);
  return answer.body as PublicUser;
}

/** A user of a fresh device, with this nickname when one is given. */
async function newUser(label: string, nickname?: string): Promise<LoginResponse> {
  const user = await login(server.url, devId(label));
  if (nickname !== undefined) await setNickname(user.token, nickname);
  return user;
}

/** The directory as the token's user sees it, filtered with `?q=` when `q` is given. */
async function directory(token: string, q?: string): Promise<DirectoryEntry[]> {
  const query = q === undefined ? '' : `?q=${encodeURIComponent(q)}`;
  const answer = await api(server.url, 'GET', `/api/users${query}`, { token });
  expect(answer.status).toBe(200);
  return answer.body as DirectoryEntry[];
}

describe('GET /healthz', () => {
  it('answers 200 while the server accepts connections', async () => {
    const answer = await api(server.url, 'GET', '/healthz');
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ status: 'ok' });
  });
});

describe('POST /api/login (development mode)', () => {
  it('gives the same user for the same devId every time, with a token and its expiry', async () => {
    const id = devId('same');
    const before = Date.now();
    const first = await login(server.url, id);
    const second = await login(server.url, id);
    expect(second.user.id).toBe(first.user.id);
    expect(first.user.id).toMatch(/^\S+$/);
    expect(first.user.id).not.toContain(id);
    expect(typeof first.token).toBe('string');
    expect(first.token.split('.')).toHaveLength(3);
    // The default lifetime is 7 days.
    expect(first.expiresAt).toBeGreaterThan(before + 6 * 24 * 3600 * 1000);
    expect(first.expiresAt).toBeLessThanOrEqual(Date.now() + 7 * 24 * 3600 * 1000);
  });

  it('gives a new user the default nickname 微信用户 + 4 random characters (nothing of the devId) and no avatar', async () => {
    const id = devId('nick') + '____';
    const { user } = await login(server.url, id);
    expect(user).toEqual({
      id: expect.any(String),
      nickname: expect.stringMatching(/^微信用户[A-Za-z0-9]{4}$/),
      avatar: '',
    });
  });

  it('gives a different devId a different user', async () => {
    const a = await login(server.url, devId('a'));
    const b = await login(server.url, devId('b'));
    expect(a.user.id).not.toBe(b.user.id);
  });

  it('answers 400 JSON when devId is missing', async () => {
    const answer = await api(server.url, 'POST', '/api/login', { json: { code: 'dev-code' } });
    expect(expectFailure(answer, 400, 'bad_request')).toContain('devId');
  });

  it.each([
    ['no code', { devId: 'abcdefgh12' }],
    ['an empty code', { code: '', devId: 'abcdefgh12' }],
    ['a devId that is too short', { code: 'x', devId: 'short' }],
    ['a devId with characters outside [A-Za-z0-9_-]', { code: 'x', devId: 'has spaces in it' }],
    ['an array body', [1, 2, 3]],
  ])('answers 400 JSON for a body with %s', async (_label, json) => {
    const answer = await api(server.url, 'POST', '/api/login', { json });
    expectFailure(answer, 400, 'bad_request');
  });
});

describe('other request failures answer JSON too', () => {
  it.each([
    {
      status: 400,
      code: 'bad_request',
      what: 'a body that is not JSON',
      request: { raw: '{"code": "x", devId', headers: { 'content-type': 'application/json' } },
    },
    {
      status: 413,
      code: 'too_large',
      what: 'a body over 64 KiB',
      request: { json: { code: 'x', devId: 'abcdefgh12', pad: 'x'.repeat(64 * 1024) } },
    },
    {
      status: 415,
      code: 'unsupported_media_type',
      what: 'a body that is not application/json',
      request: { raw: 'code=x&devId=abcdefgh12', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
    },
  ])('answers $status JSON for $what', async ({ status, code, request }) => {
    expectFailure(await api(server.url, 'POST', '/api/login', request), status, code);
  });
});

describe('GET /api/users', () => {
  it('answers 401 JSON without a token, with a bad one and with an expired one', async () => {
    const none = await api(server.url, 'GET', '/api/users');
    expectFailure(none, 401, 'unauthorized');

    const bad = await api(server.url, 'GET', '/api/users', { token: 'not.a.token' });
    expectFailure(bad, 401, 'unauthorized');

    const { user, token } = await login(server.url, devId('tamper'));
    const tampered = await api(server.url, 'GET', '/api/users', { token: token.slice(0, -2) + 'xx' });
    expect(tampered.status).toBe(401);

    const secret = fs.readFileSync(path.join(server.dataDir, 'token-secret'), 'utf8').trim();
    const expired = await new Tokens(secret, -1).issue(user.id);
    const old = await api(server.url, 'GET', '/api/users', { token: expired.token });
    expect(expectFailure(old, 401, 'unauthorized')).toMatch(/expired/);

    const otherSecret = await new Tokens('another-secret', 3600).issue(user.id);
    const foreign = await api(server.url, 'GET', '/api/users', { token: otherSecret.token });
    expect(foreign.status).toBe(401);

    const wrongScheme = await api(server.url, 'GET', '/api/users', { headers: { authorization: `Basic ${token}` } });
    expect(wrongScheme.status).toBe(401);

    // The directory is header-only: `?token=` is for the socket.
    const query = await api(server.url, 'GET', `/api/users?token=${token}`);
    expect(query.status).toBe(401);
  });

  it("lists the caller's peers, not the caller, with online true only while they have a socket open", async () => {
    const tag = `dir${Math.random().toString(36).slice(2, 8)}`;
    const me = await newUser('me', `${tag} me`);
    const alice = await newUser('alice', `${tag} alice`);
    const bob = await newUser('bob', `${tag} bob`);
    // Without a query the directory lists the caller's peers: people they share a conversation with.
    const mine = await server.open(me.token);
    for (const peer of [alice, bob]) {
      mine.send({ type: 'send', cid: `hello-${peer.user.id}`, to: peer.user.id, kind: 'text', body: 'hello' });
      await mine.next('ack', (frame) => frame.cid === `hello-${peer.user.id}`);
    }
    mine.close();
    await mine.closed;

    const list = () => directory(me.token);
    const entry = (entries: DirectoryEntry[], user: LoginResponse) => entries.find((e) => e.id === user.user.id);

    const offline = await list();
    expect(entry(offline, me)).toBeUndefined();
    expect(entry(offline, alice)).toEqual({ id: alice.user.id, nickname: `${tag} alice`, avatar: '', online: false });
    expect(entry(offline, bob)).toEqual({ id: bob.user.id, nickname: `${tag} bob`, avatar: '', online: false });

    const socket = await server.open(alice.token);
    const online = await list();
    expect(entry(online, alice)?.online).toBe(true);
    expect(entry(online, bob)?.online).toBe(false);

    // A second connection and then closing one of them: still online until the last one goes.
    const second = await server.open(alice.token);
    socket.close();
    await socket.closed;
    await waitFor(async () => (await list()).length > 0, 'the directory');
    expect(entry(await list(), alice)?.online).toBe(true);

    second.close();
    await second.closed;
    await waitFor(async () => entry(await list(), alice)?.online === false, 'alice to go offline');
  });

  it('filters by nickname with ?q= (case-insensitive substring)', async () => {
    const tag = `Q${Math.random().toString(36).slice(2, 8)}`;
    const me = await newUser('q-me');
    const carol = await newUser('carol', `${tag} Carol`);
    const dave = await newUser('dave', `${tag} Dave`);

    const search = async (q: string): Promise<string[]> => (await directory(me.token, q)).map((user) => user.id);

    expect(await search(`${tag} carol`)).toEqual([carol.user.id]);
    expect((await search(tag)).sort()).toEqual([carol.user.id, dave.user.id].sort());
    expect(await search(tag.toLowerCase() + ' dave')).toEqual([dave.user.id]);
    expect(await search(`${tag} nobody`)).toEqual([]);
  });
});

describe('PUT /api/profile', () => {
  it('changes the nickname and the avatar, and others see the change', async () => {
    const myDevice = devId('profile');
    const me = await login(server.url, myDevice);
    const other = await login(server.url, devId('viewer'));
    const nickname = `Prof${Math.random().toString(36).slice(2, 8)}`;

    expect(await setNickname(me.token, nickname)).toEqual({ id: me.user.id, nickname, avatar: '' });

    const avatar = await uploadImage(server.url, me.token);
    const changed = await api(server.url, 'PUT', '/api/profile', { token: me.token, json: { avatar } });
    expect(changed.status).toBe(200);
    expect(changed.body).toEqual({ id: me.user.id, nickname, avatar });

    const seen = await api(server.url, 'GET', `/api/users?q=${nickname}`, { token: other.token });
    expect(seen.body).toEqual([{ id: me.user.id, nickname, avatar, online: false }]);

    // Logging in again does not reset the profile to the defaults.
    const again = await login(server.url, myDevice);
    expect(again.user).toEqual({ id: me.user.id, nickname, avatar });
  });

  it('refuses an empty or too long nickname with 400 JSON and changes nothing', async () => {
    const me = await login(server.url, devId('bad-profile'));
    for (const nickname of ['', 'x'.repeat(33)]) {
      const answer = await api(server.url, 'PUT', '/api/profile', { token: me.token, json: { nickname } });
      expectFailure(answer, 400, 'bad_request');
    }
    const unchanged = await api(server.url, 'PUT', '/api/profile', { token: me.token, json: {} });
    expect(unchanged.status).toBe(200);
    expect(unchanged.body).toEqual(me.user);
  });

  it('needs a token', async () => {
    const answer = await api(server.url, 'PUT', '/api/profile', { json: { nickname: 'x' } });
    expectFailure(answer, 401, 'unauthorized');
  });
});

describe('unknown routes', () => {
  it.each([
    ['GET', '/nope'],
    ['GET', '/api/login'],
    ['POST', '/api/users'],
    ['DELETE', '/api/profile'],
    ['GET', '/api/upload'],
  ])('%s %s answers 404 JSON', async (method, route) => {
    const answer = await api(server.url, method, route);
    expectFailure(answer, 404, 'not_found');
  });
});
