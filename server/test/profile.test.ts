/**
 * A user's profile over a real server: `PUT /api/profile` tells the people who see the profile at
 * once (a `profile` frame to the user's peers and the user's own connections) and their next
 * `sessions` shows it; `GET /api/me` answers the caller's profile, or what `PUT /api/profile`
 * answers for the same token.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import type { PublicUser, ServerFrameOf } from '../../contract/frames';
import { Tokens } from '../src/auth/tokens';
import { useTestServer } from './support/fixture';
import { api, expectFailure, login, settle, twoPeople, uploadImage, type TestSocket } from './support/server';

const SECRET = 'profile-test-secret';
const server = useTestServer({ tokenSecret: SECRET });

function profileFrames(socket: TestSocket): ServerFrameOf<'profile'>[] {
  return socket.frames.flatMap((frame) => (frame.type === 'profile' ? [frame] : []));
}

async function updateProfile(token: string, update: { nickname?: string; avatar?: string }): Promise<PublicUser> {
  const answer = await api(server.url, 'PUT', '/api/profile', { token, json: update });
  expect(answer.status).toBe(200);
  return answer.body as PublicUser;
}

/** Alice (two devices) and Bob, who share a conversation; a stranger who shares none with Alice. */
async function alicesCircle() {
  const { alice, bob, conv } = await twoPeople(server, server.sockets);
  const aliceLaptop = await alice.connect();
  const stranger = await server.person();
  alice.socket.send({ type: 'send', cid: 'hello', to: bob.id, kind: 'text', body: 'hello' });
  await bob.socket.next('message');
  return { alice, aliceLaptop, bob, conv, stranger };
}

describe('PUT /api/profile tells the people who see the profile', () => {
  it("sends `profile` to the user's peers and every connection of the user's own, not to strangers", async () => {
    const { alice, aliceLaptop, bob, stranger } = await alicesCircle();
    const avatar = await uploadImage(server.url, alice.token);
    const user = await updateProfile(alice.token, { nickname: 'Alice', avatar });
    expect(user).toEqual({ id: alice.id, nickname: 'Alice', avatar });

    const frame = { type: 'profile', user };
    expect(await bob.socket.next('profile')).toEqual(frame);
    expect(await alice.socket.next('profile')).toEqual(frame);
    expect(await aliceLaptop.next('profile')).toEqual(frame);
    await settle(stranger.socket, bob.socket);
    expect(profileFrames(stranger.socket)).toEqual([]);
    // Once each.
    expect(profileFrames(bob.socket)).toEqual([]);
  });

  it('sends nothing when nothing changes: an empty update, or the same values again', async () => {
    const { alice, aliceLaptop, bob } = await alicesCircle();
    const before = await updateProfile(alice.token, {});
    expect(before).toEqual(alice.login.user);
    expect(await updateProfile(alice.token, { nickname: before.nickname, avatar: before.avatar })).toEqual(before);
    await settle(alice.socket, aliceLaptop, bob.socket);
    for (const socket of [alice.socket, aliceLaptop, bob.socket]) expect(profileFrames(socket)).toEqual([]);

    // A change of one field sends the whole profile.
    const avatar = await uploadImage(server.url, alice.token);
    await updateProfile(alice.token, { avatar });
    expect(await bob.socket.next('profile')).toEqual({ type: 'profile', user: { ...before, avatar } });
  });

  it("shows the new nickname and avatar in the peer's next sessions", async () => {
    const { alice, bob, conv } = await alicesCircle();
    const avatar = await uploadImage(server.url, alice.token);
    const user = await updateProfile(alice.token, { nickname: 'Alice Again', avatar });
    bob.socket.send({ type: 'sync', cursors: {} });
    const { sessions } = await bob.socket.next('sessions');
    expect(sessions).toEqual([expect.objectContaining({ conv, peer: user })]);
  });
});

describe('GET /api/me', () => {
  it('answers the caller, as the last profile change left it', async () => {
    const { user, token } = await login(server.url, 'me-device-1');
    expect(await api(server.url, 'GET', '/api/me', { token })).toMatchObject({ status: 200, body: user });
    const changed = await updateProfile(token, { nickname: 'Me Myself' });
    expect(await api(server.url, 'GET', '/api/me', { token })).toMatchObject({ status: 200, body: changed });
  });

  it('answers 401 without a token, with a bad one, an expired one, and one of a user this store never had', async () => {
    const { user, token } = await login(server.url, 'me-device-2');
    const expired = await new Tokens(SECRET, -1).issue(user.id);
    const stranger = await new Tokens(SECRET, 3600).issue('u-never-stored');
    for (const bad of [undefined, 'not.a.token', token.slice(0, -2) + 'xx', expired.token, stranger.token]) {
      const me = await api(server.url, 'GET', '/api/me', { token: bad });
      expectFailure(me, 401, 'unauthorized');
      // The same as a profile change answers for that token, which the app used to ask before.
      const profile = await api(server.url, 'PUT', '/api/profile', { token: bad, json: {} });
      expect(profile.status).toBe(me.status);
    }
  });

  it('answers 404 not_found, as PUT /api/profile does, for a user removed since this server knew them', async () => {
    const { user, token } = await login(server.url, 'me-device-3');
    expect((await api(server.url, 'GET', '/api/me', { token })).status).toBe(200);
    // Removed behind the server's back (an operator's hand on the database).
    const db = new Database(path.join(server.dataDir, 'chat.db'));
    db.pragma('busy_timeout = 5000');
    db.prepare('DELETE FROM identities WHERE user_id = ?').run(user.id);
    db.prepare('DELETE FROM users WHERE id = ?').run(user.id);
    db.close();

    expect(expectFailure(await api(server.url, 'GET', '/api/me', { token }), 404, 'not_found')).toMatch(/no longer/);
    expectFailure(await api(server.url, 'PUT', '/api/profile', { token, json: {} }), 404, 'not_found');
  });
});
