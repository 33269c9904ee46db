/**
 * Groups over a real server (docs/protocol.md, "Groups"): the routes with their roles and refusals,
 * every change a `system` message with its own seq delivered to the current members (and to whoever
 * left or was removed, for their own message), sends into a group by members only, and mentions.
 * Every test runs on SQLite, and on PostgreSQL when DATABASE_URL is set (a schema of its own).
 */
import type { ChatMessage, ServerFrameOf } from '../../contract/frames';
import type { ServerConfig } from '../src/config';
import { useTestServer } from './support/fixture';
import { DATABASE_URL, dropSchema, newSchemaName, warnSkipped } from './support/services';
import { api, expectFailure, fullHistory, settle, uploadImage, type Person, type TestSocket } from './support/server';
import type { GroupView } from '../src/chat/groups';

const MAX = 4;

/** The group tests against one store: SQLite, or PostgreSQL in a schema of its own. */
function groupSuite(storeName: string, settings: () => Partial<ServerConfig>): void {
  describe(`groups on ${storeName}`, () => {
    const server = useTestServer(() => ({ groupMaxMembers: MAX, ...settings() }));

    /** A group as the API answers it. */
    type GroupBody = GroupView;

    async function people(count: number): Promise<Person[]> {
      const list: Person[] = [];
      for (let i = 0; i < count; i++) list.push(await server.person());
      return list;
    }

    async function createGroup(owner: Person, members: Person[], name = '周末爬山'): Promise<GroupBody> {
      const answer = await api(server.url, 'POST', '/api/groups', {
        token: owner.token,
        json: { name, members: members.map((member) => member.id) },
      });
      expect(answer.status).toBe(201);
      return (answer.body as { group: GroupBody }).group;
    }

    /** The next system message of the conversation on this socket (of that event, when named), parsed. */
    async function nextSystem(
      socket: TestSocket,
      conv: string,
      name?: string,
    ): Promise<{ message: ServerFrameOf<'message'>; event: Record<string, unknown> }> {
      const message = await socket.next(
        'message',
        (frame) =>
          frame.conv === conv &&
          frame.kind === 'system' &&
          (name === undefined || (JSON.parse(frame.body) as { event: string }).event === name),
      );
      return { message, event: JSON.parse(message.body) as Record<string, unknown> };
    }

    function systemEvents(messages: ChatMessage[]): Array<Record<string, unknown>> {
      return messages.filter((m) => m.kind === 'system').map((m) => JSON.parse(m.body) as Record<string, unknown>);
    }

    describe('POST /api/groups', () => {
      it('creates the group with the caller as owner: 201 {group}, and `created` as seq 1 to every member', async () => {
        const [alice, bob, carol] = await people(3);
        const group = await createGroup(alice, [bob, carol, bob, alice]);
        expect(group).toEqual({
          id: expect.any(String),
          conv: `g:${group.id}`,
          name: '周末爬山',
          avatar: '',
          notice: '',
          owner: alice.id,
          memberCount: 3,
        });
        expect(group.id.length).toBeLessThanOrEqual(40);
        for (const person of [alice, bob, carol]) {
          const { message, event } = await nextSystem(person.socket, group.conv);
          expect(message).toMatchObject({ seq: 1, from: alice.id, kind: 'system' });
          expect(event).toEqual({ event: 'created', users: [bob.id, carol.id], name: '周末爬山' });
        }
        const got = await api(server.url, 'GET', `/api/groups/${group.id}`, { token: bob.token });
        expect(got.status).toBe(200);
        expect(got.body).toEqual({
          group,
          // All joined with seq 1: the owner first (as WeChat's member grid starts), then by id.
          members: [alice, bob, carol]
            .map((p) => ({
              id: p.id,
              nickname: p.login.user.nickname,
              avatar: '',
              role: p === alice ? 'owner' : 'member',
            }))
            .sort((a, b) => (a.role !== b.role ? (a.role === 'owner' ? -1 : 1) : a.id < b.id ? -1 : 1)),
        });
      });

      it('refuses a bad name, no members, unknown users and too many members', async () => {
        const [alice, bob] = await people(2);
        const post = (json: unknown) => api(server.url, 'POST', '/api/groups', { token: alice.token, json });
        expectFailure(await post({ name: '', members: [bob.id] }), 400, 'bad_request');
        expectFailure(await post({ name: 'x'.repeat(31), members: [bob.id] }), 400, 'bad_request');
        expect((await post({ name: '😀'.repeat(15), members: [bob.id] })).status).toBe(201);
        expectFailure(await post({ name: '😀'.repeat(16), members: [bob.id] }), 400, 'bad_request');
        expectFailure(await post({ name: 'g', members: [] }), 400, 'bad_request');
        expectFailure(await post({ name: 'g', members: [alice.id] }), 400, 'bad_request');
        expectFailure(await post({ name: 'g', members: ['u-nobody'] }), 404, 'not_found');
        expectFailure(await post({ name: 'g', members: 'x' }), 400, 'bad_request');
        const many = await people(MAX);
        expectFailure(await post({ name: 'g', members: many.map((p) => p.id) }), 409, 'group_full');
        expect((await post({ name: 'g', members: many.slice(1).map((p) => p.id) })).status).toBe(201);
        expectFailure(
          await api(server.url, 'POST', '/api/groups', { json: { name: 'g', members: [bob.id] } }),
          401,
          'unauthorized',
        );
      });
    });

    describe('members of a group', () => {
      it('send into the group: acked, delivered to every other member (not the sending connection), stored in order', async () => {
        const [alice, bob, carol] = await people(3);
        const group = await createGroup(alice, [bob, carol]);
        const aliceLaptop = await alice.connect();
        bob.socket.send({ type: 'send', cid: 'hi', conv: group.conv, kind: 'text', body: '大家好' });
        const ack = await bob.socket.next('ack', (frame) => frame.cid === 'hi');
        expect(ack.seq).toBe(2);
        for (const socket of [alice.socket, aliceLaptop, carol.socket]) {
          expect(await socket.next('message', (frame) => frame.cid === 'hi')).toMatchObject({
            conv: group.conv,
            seq: 2,
            from: bob.id,
            body: '大家好',
          });
        }
        await settle(bob.socket);
        expect(bob.socket.frames.some((frame) => frame.type === 'message' && frame.cid === 'hi')).toBe(false);
        const history = await fullHistory(carol.socket, group.conv);
        expect(history.map((m) => [m.seq, m.kind])).toEqual([
          [1, 'system'],
          [2, 'text'],
        ]);
      });

      it('a stranger cannot send into, read the history of, or see a group', async () => {
        const [alice, bob, stranger] = await people(3);
        const group = await createGroup(alice, [bob]);
        stranger.socket.send({ type: 'send', cid: 's1', conv: group.conv, kind: 'text', body: 'hi' });
        expect(await stranger.socket.next('error', (frame) => frame.ref === 's1')).toMatchObject({ code: 'forbidden' });
        stranger.socket.send({ type: 'history', conv: group.conv });
        expect(await stranger.socket.next('error')).toMatchObject({ code: 'forbidden' });
        expectFailure(
          await api(server.url, 'GET', `/api/groups/${group.id}`, { token: stranger.token }),
          403,
          'forbidden',
        );
        expectFailure(
          await api(server.url, 'GET', `/api/groups/gnothere`, { token: stranger.token }),
          404,
          'not_found',
        );
        const invite = await api(server.url, 'POST', `/api/groups/${group.id}/members`, {
          token: stranger.token,
          json: { users: [stranger.id] },
        });
        expectFailure(invite, 403, 'forbidden');
        await settle(alice.socket, bob.socket);
        expect(alice.socket.frames.some((f) => f.type === 'message' && f.cid === 's1')).toBe(false);
      });

      it('a client may not send kind "system"', async () => {
        const [alice, bob] = await people(2);
        const group = await createGroup(alice, [bob]);
        alice.socket.send({
          type: 'send',
          cid: 'fake',
          conv: group.conv,
          kind: 'system',
          body: '{"event":"dismissed"}',
        });
        expect(await alice.socket.next('error')).toMatchObject({ code: 'bad_frame' });
      });
    });

    describe('changing a group', () => {
      it('PATCH by the owner or an admin: `updated` with the changed fields only; a member is refused', async () => {
        const [alice, bob, carol] = await people(3);
        const group = await createGroup(alice, [bob, carol]);
        const patch = (person: Person, json: unknown) =>
          api(server.url, 'PATCH', `/api/groups/${group.id}`, { token: person.token, json });
        expectFailure(await patch(bob, { name: 'mine' }), 403, 'forbidden');
        const avatar = await uploadImage(server.url, alice.token);
        const answer = await patch(alice, { name: '周末爬山', notice: '周六 8 点', avatar });
        expect(answer.status).toBe(200);
        expect((answer.body as { group: GroupBody }).group).toMatchObject({
          name: '周末爬山',
          notice: '周六 8 点',
          avatar,
        });
        await nextSystem(carol.socket, group.conv);
        const { message, event } = await nextSystem(carol.socket, group.conv);
        expect(message.seq).toBe(2);
        expect(event).toEqual({ event: 'updated', notice: '周六 8 点', avatar });
        // Nothing changed: no message.
        expect((await patch(alice, { name: '周末爬山' })).status).toBe(200);
        expectFailure(await patch(alice, { name: '' }), 400, 'bad_request');
        expectFailure(await patch(alice, { notice: 'x'.repeat(501) }), 400, 'bad_request');
        expectFailure(await patch(alice, { avatar: 'https://evil.example/a.png' }), 400, 'bad_request');
        expectFailure(
          await api(server.url, 'PATCH', `/api/groups/gnothere`, { token: alice.token, json: {} }),
          404,
          'not_found',
        );
        // An admin may.
        expect(
          (await api(server.url, 'PUT', `/api/groups/${group.id}/admins/${bob.id}`, { token: alice.token })).status,
        ).toBe(200);
        expect((await patch(bob, { notice: '' })).status).toBe(200);
        const history = await fullHistory(alice.socket, group.conv);
        expect(history.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
        expect(systemEvents(history).slice(2)).toEqual([
          { event: 'role', users: [bob.id], role: 'admin' },
          { event: 'updated', notice: '' },
        ]);
      });

      it('name and notice are checked as a profile nickname is: strings, UTF-16 lengths, taken as sent', async () => {
        const [alice, bob] = await people(2);
        const group = await createGroup(alice, [bob]);
        const patch = (json: unknown) =>
          api(server.url, 'PATCH', `/api/groups/${group.id}`, { token: alice.token, json });
        expectFailure(await patch({ name: 123 }), 400, 'bad_request');
        expectFailure(await patch({ notice: ['x'] }), 400, 'bad_request');
        expectFailure(await patch({ name: '😀'.repeat(16) }), 400, 'bad_request');
        expectFailure(await patch({ notice: '😀'.repeat(251) }), 400, 'bad_request');
        const notice = `第一行\n第二行${'x'.repeat(500 - 7)}`;
        expect(notice).toHaveLength(500);
        const answer = await patch({ name: ' 三十 '.padEnd(30, '字'), notice });
        expect(answer.status).toBe(200);
        expect((answer.body as { group: GroupBody }).group).toMatchObject({ name: ' 三十 '.padEnd(30, '字'), notice });
        // An avatar must be one of our uploads (a foreign url, or a path we never stored: 400).
        expectFailure(await patch({ avatar: 'https://cdn.example.com/a.png' }), 400, 'bad_request');
        expectFailure(await patch({ avatar: `${server.url}/uploads/nothere.png` }), 400, 'bad_request');
      });

      it('invites: any member adds others (`joined`), members already in are ignored, nobody new → no message, group_full', async () => {
        const [alice, bob, carol, dave, erin] = await people(5);
        const group = await createGroup(alice, [bob]);
        const invite = (person: Person, users: string[]) =>
          api(server.url, 'POST', `/api/groups/${group.id}/members`, { token: person.token, json: { users } });
        const answer = await invite(bob, [carol.id, alice.id, carol.id]);
        expect(answer.status).toBe(200);
        expect((answer.body as { group: GroupBody }).group.memberCount).toBe(3);
        const { message, event } = await nextSystem(carol.socket, group.conv);
        expect(message).toMatchObject({ seq: 2, from: bob.id });
        expect(event).toEqual({ event: 'joined', users: [carol.id] });
        expect((await invite(alice, [bob.id])).status).toBe(200);
        expectFailure(await invite(alice, ['u-nobody']), 404, 'not_found');
        expectFailure(await invite(alice, [dave.id, erin.id]), 409, 'group_full');
        expect((await invite(alice, [dave.id])).status).toBe(200);
        const history = await fullHistory(alice.socket, group.conv);
        expect(systemEvents(history)).toEqual([
          { event: 'created', users: [bob.id], name: '周末爬山' },
          { event: 'joined', users: [carol.id] },
          { event: 'joined', users: [dave.id] },
        ]);
      });

      it('leave and remove: by the roles, the one who leaves gets their `left` and nothing after, and cannot send', async () => {
        const [alice, bob, carol, dave] = await people(4);
        const group = await createGroup(alice, [bob, carol, dave]);
        const remove = (person: Person, target: Person) =>
          api(server.url, 'DELETE', `/api/groups/${group.id}/members/${target.id}`, { token: person.token });
        await api(server.url, 'PUT', `/api/groups/${group.id}/admins/${bob.id}`, { token: alice.token });
        expectFailure(await remove(carol, dave), 403, 'forbidden');
        expectFailure(await remove(bob, alice), 403, 'forbidden');
        expect((await remove(bob, dave)).status).toBe(204);
        const removed = await nextSystem(dave.socket, group.conv, 'removed');
        expect(removed.event).toEqual({ event: 'removed', users: [dave.id] });
        expect(removed.message).toMatchObject({ seq: 3, from: bob.id });
        expectFailure(await remove(bob, dave), 404, 'not_found');
        expect((await remove(carol, carol)).status).toBe(204);
        expect((await nextSystem(carol.socket, group.conv, 'left')).event).toEqual({
          event: 'left',
          users: [carol.id],
        });
        // Sends by those no longer members are refused; the members hear nothing more of them.
        carol.socket.send({ type: 'send', cid: 'late', conv: group.conv, kind: 'text', body: 'still here?' });
        expect(await carol.socket.next('error', (frame) => frame.ref === 'late')).toMatchObject({ code: 'forbidden' });
        alice.socket.send({ type: 'send', cid: 'after', conv: group.conv, kind: 'text', body: 'bye' });
        await bob.socket.next('message', (frame) => frame.cid === 'after');
        await settle(carol.socket, dave.socket);
        for (const socket of [carol.socket, dave.socket]) {
          expect(socket.frames.some((f) => f.type === 'message' && f.cid === 'after')).toBe(false);
        }
        expectFailure(await api(server.url, 'GET', `/api/groups/${group.id}`, { token: dave.token }), 403, 'forbidden');
        const got = await api(server.url, 'GET', `/api/groups/${group.id}`, { token: alice.token });
        expect((got.body as { group: GroupBody }).group.memberCount).toBe(2);
        // The owner removes an admin.
        expect((await remove(alice, bob)).status).toBe(204);
      });

      it('the owner leaving hands over to the longest-standing admin, else member; the last to leave ends the group', async () => {
        const [alice, bob, carol, dave] = await people(4);
        const group = await createGroup(alice, [bob, carol]);
        await api(server.url, 'POST', `/api/groups/${group.id}/members`, {
          token: alice.token,
          json: { users: [dave.id] },
        });
        await api(server.url, 'PUT', `/api/groups/${group.id}/admins/${dave.id}`, { token: alice.token });
        const leave = (person: Person) =>
          api(server.url, 'DELETE', `/api/groups/${group.id}/members/${person.id}`, { token: person.token });
        expect((await leave(alice)).status).toBe(204);
        const got = await api(server.url, 'GET', `/api/groups/${group.id}`, { token: dave.token });
        const body = got.body as { group: GroupBody; members: Array<{ id: string; role: string }> };
        expect(body.group.owner).toBe(dave.id);
        expect(body.members.find((m) => m.id === dave.id)?.role).toBe('owner');
        const history = await fullHistory(bob.socket, group.conv);
        expect(history.slice(-2).map((m) => [m.seq, m.from, JSON.parse(m.body) as unknown])).toEqual([
          [4, alice.id, { event: 'left', users: [alice.id] }],
          [5, alice.id, { event: 'role', users: [dave.id], role: 'owner' }],
        ]);
        // No admin left: the longest-standing member takes over (bob and carol joined together: by id).
        expect((await leave(dave)).status).toBe(204);
        const heir = [bob, carol].sort((a, b) => (a.id < b.id ? -1 : 1))[0];
        const other = heir === bob ? carol : bob;
        const after = await api(server.url, 'GET', `/api/groups/${group.id}`, { token: heir.token });
        expect((after.body as { group: GroupBody }).group.owner).toBe(heir.id);
        expect((await leave(other)).status).toBe(204);
        expect((await leave(heir)).status).toBe(204);
        const last = JSON.stringify({ event: 'left', users: [heir.id] });
        await heir.socket.next('message', (frame) => frame.conv === group.conv && frame.body === last);
        expectFailure(await api(server.url, 'GET', `/api/groups/${group.id}`, { token: heir.token }), 403, 'forbidden');
      });

      it('admins: only the owner appoints and removes them (`role`); unknown members are 404', async () => {
        const [alice, bob, carol] = await people(3);
        const group = await createGroup(alice, [bob, carol]);
        const admins = (method: string, person: Person, target: string) =>
          api(server.url, method, `/api/groups/${group.id}/admins/${target}`, { token: person.token });
        expectFailure(await admins('PUT', bob, carol.id), 403, 'forbidden');
        expect((await admins('PUT', alice, bob.id)).status).toBe(200);
        expectFailure(await admins('PUT', bob, carol.id), 403, 'forbidden');
        expectFailure(await admins('PUT', alice, 'u-nobody'), 404, 'not_found');
        expectFailure(await admins('PUT', alice, alice.id), 400, 'bad_request');
        expect((await admins('DELETE', alice, bob.id)).status).toBe(200);
        const history = await fullHistory(carol.socket, group.conv);
        expect(systemEvents(history).slice(1)).toEqual([
          { event: 'role', users: [bob.id], role: 'admin' },
          { event: 'role', users: [bob.id], role: 'member' },
        ]);
        expect(history.map((m) => m.seq)).toEqual([1, 2, 3]);
      });

      it('dismiss: the owner only; `dismissed` to every member, then every send is forbidden', async () => {
        const [alice, bob] = await people(2);
        const group = await createGroup(alice, [bob]);
        expectFailure(
          await api(server.url, 'DELETE', `/api/groups/${group.id}`, { token: bob.token }),
          403,
          'forbidden',
        );
        expect((await api(server.url, 'DELETE', `/api/groups/${group.id}`, { token: alice.token })).status).toBe(204);
        for (const person of [alice, bob]) {
          const { message, event } = await nextSystem(person.socket, group.conv, 'dismissed');
          expect(message).toMatchObject({ seq: 2, from: alice.id });
          expect(event).toEqual({ event: 'dismissed' });
        }
        for (const person of [alice, bob]) {
          person.socket.send({ type: 'send', cid: 'gone', conv: group.conv, kind: 'text', body: 'hello?' });
          expect(await person.socket.next('error', (frame) => frame.ref === 'gone')).toMatchObject({
            code: 'forbidden',
          });
        }
        expectFailure(
          await api(server.url, 'DELETE', `/api/groups/${group.id}`, { token: alice.token }),
          403,
          'forbidden',
        );
        expectFailure(
          await api(server.url, 'DELETE', `/api/groups/gnothere`, { token: alice.token }),
          404,
          'not_found',
        );
      });

      it("typing in a group is not relayed, and a read tells only the reader's other devices", async () => {
        const [alice, bob] = await people(2);
        const group = await createGroup(alice, [bob]);
        const bobPhone = await bob.connect();
        alice.socket.send({ type: 'send', cid: 'm', conv: group.conv, kind: 'text', body: 'hi' });
        await bob.socket.next('message', (frame) => frame.cid === 'm');
        bob.socket.send({ type: 'typing', conv: group.conv });
        bob.socket.send({ type: 'read', conv: group.conv, seq: 2 });
        expect(await bobPhone.next('states')).toMatchObject({ conv: group.conv, user: bob.id, readSeq: 2 });
        await settle(bob.socket, alice.socket);
        expect(alice.socket.frames.some((f) => f.type === 'typing' || f.type === 'states')).toBe(false);
      });
    });

    describe('who sees what', () => {
      async function groupWithHistory() {
        const [alice, bob, carol] = await people(3);
        const group = await createGroup(alice, [bob]);
        for (const cid of ['m2', 'm3']) {
          alice.socket.send({ type: 'send', cid, conv: group.conv, kind: 'text', body: cid });
          await alice.socket.next('ack', (frame) => frame.cid === cid);
        }
        const invited = await api(server.url, 'POST', `/api/groups/${group.id}/members`, {
          token: alice.token,
          json: { users: [carol.id] },
        });
        expect(invited.status).toBe(200);
        alice.socket.send({ type: 'send', cid: 'm5', conv: group.conv, kind: 'text', body: 'm5' });
        await carol.socket.next('message', (frame) => frame.cid === 'm5');
        return { alice, bob, carol, group };
      }

      it('a member added later: history and sync start at the message that added them', async () => {
        const { carol, group } = await groupWithHistory();
        const history = await fullHistory(carol.socket, group.conv);
        expect(history.map((m) => m.seq)).toEqual([4, 5]);
        carol.socket.send({ type: 'history', conv: group.conv, limit: 1 });
        expect(await carol.socket.next('history')).toMatchObject({ messages: [{ seq: 5 }], hasMore: true });
        carol.socket.send({ type: 'history', conv: group.conv, before: 5, limit: 1 });
        expect(await carol.socket.next('history')).toMatchObject({ messages: [{ seq: 4 }], hasMore: false });
        carol.socket.send({ type: 'history', conv: group.conv, before: 4 });
        expect(await carol.socket.next('history')).toMatchObject({ messages: [], hasMore: false });
        const phone = await carol.connect();
        phone.send({ type: 'sync', cursors: { [group.conv]: 0 } });
        await phone.next('synced');
        const replayed = phone.frames.flatMap((f) => (f.type === 'message' && f.conv === group.conv ? [f.seq] : []));
        expect(replayed).toEqual([4, 5]);
      });

      it('a member who left reads and syncs up to their `left` message, and nothing after', async () => {
        const { alice, bob, group } = await groupWithHistory();
        expect(
          (await api(server.url, 'DELETE', `/api/groups/${group.id}/members/${bob.id}`, { token: bob.token })).status,
        ).toBe(204);
        alice.socket.send({ type: 'send', cid: 'm7', conv: group.conv, kind: 'text', body: 'm7' });
        await alice.socket.next('ack', (frame) => frame.cid === 'm7');
        const history = await fullHistory(bob.socket, group.conv);
        expect(history.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
        expect(JSON.parse(history[5].body)).toEqual({ event: 'left', users: [bob.id] });
        const phone = await bob.connect();
        phone.send({ type: 'sync', cursors: { [group.conv]: 3 } });
        await phone.next('synced');
        const replayed = phone.frames.flatMap((f) => (f.type === 'message' && f.conv === group.conv ? [f.seq] : []));
        expect(replayed).toEqual([4, 5, 6]);
        bob.socket.send({ type: 'read', conv: group.conv, seq: 6 });
        expect(await bob.socket.next('error')).toMatchObject({ code: 'forbidden' });
      });

      it('sessions: a group entry carries the group; sync from nothing replays from the join; dismissed → left', async () => {
        const { alice, carol, group } = await groupWithHistory();
        const phone = await carol.connect();
        phone.send({ type: 'sync', cursors: {} });
        const { sessions } = await phone.next('sessions');
        await phone.next('synced');
        expect(sessions).toEqual([
          {
            conv: group.conv,
            group: { id: group.id, name: group.name, avatar: '', memberCount: 3 },
            last: expect.objectContaining({ seq: 5, body: 'm5' }),
            lastSeq: 5,
            readSeq: 0,
            unread: 1, // m5: the `joined` tip (seq 4) counts for no badge
            mentioned: false,
            left: false,
            muted: false,
            pinned: false,
          },
        ]);
        const replayed = phone.frames.flatMap((f) => (f.type === 'message' && f.conv === group.conv ? [f.seq] : []));
        expect(replayed).toEqual([4, 5]);
        expect((await api(server.url, 'DELETE', `/api/groups/${group.id}`, { token: alice.token })).status).toBe(204);
        await carol.socket.next('message', (frame) => frame.conv === group.conv && frame.seq === 6);
        carol.socket.send({ type: 'sync', cursors: { [group.conv]: 6 } });
        const after = await carol.socket.next('sessions');
        expect(after.sessions).toEqual([expect.objectContaining({ conv: group.conv, lastSeq: 6, left: true })]);
      });

      it('a member who left: their session stays with left: true; read, receipts and invites by them are forbidden', async () => {
        const { alice, bob, carol, group } = await groupWithHistory();
        expect(
          (await api(server.url, 'DELETE', `/api/groups/${group.id}/members/${bob.id}`, { token: bob.token })).status,
        ).toBe(204);
        await bob.socket.next('message', (frame) => frame.conv === group.conv && frame.seq === 6);
        alice.socket.send({ type: 'send', cid: 'm7', conv: group.conv, kind: 'text', body: 'm7' });
        await alice.socket.next('ack', (frame) => frame.cid === 'm7');
        bob.socket.send({ type: 'sync', cursors: {} });
        const { sessions } = await bob.socket.next('sessions');
        expect(sessions).toEqual([
          expect.objectContaining({
            conv: group.conv,
            lastSeq: 6,
            left: true,
            mentioned: false,
            last: expect.objectContaining({ seq: 6 }),
          }),
        ]);
        expectFailure(
          await api(server.url, 'GET', `/api/groups/${group.id}/receipts?seq=2`, { token: bob.token }),
          403,
          'forbidden',
        );
        const dave = await server.person();
        expectFailure(
          await api(server.url, 'POST', `/api/groups/${group.id}/members`, {
            token: bob.token,
            json: { users: [dave.id] },
          }),
          403,
          'forbidden',
        );
        expectFailure(
          await api(server.url, 'PATCH', `/api/groups/${group.id}`, { token: bob.token, json: { notice: 'x' } }),
          403,
          'forbidden',
        );
        // Nothing changed by the refusals: carol still sees 7 messages, no `joined`.
        const history = await fullHistory(alice.socket, group.conv);
        expect(history.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
        void carol;
      });

      it('presence goes to dm peers only, never to fellow group members', async () => {
        const [alice, bob, carol] = await people(3);
        await createGroup(alice, [bob]);
        bob.socket.send({ type: 'send', cid: 'dm', to: carol.id, kind: 'text', body: 'hi' });
        await bob.socket.next('ack', (frame) => frame.cid === 'dm');
        bob.socket.close();
        expect(await carol.socket.next('presence', (frame) => frame.user === bob.id)).toMatchObject({ online: false });
        await settle(alice.socket);
        expect(alice.socket.frames.some((frame) => frame.type === 'presence')).toBe(false);
      });

      it('an avatar set back to "" (none) is stored as ""', async () => {
        const [alice, bob] = await people(2);
        const group = await createGroup(alice, [bob]);
        const avatar = await uploadImage(server.url, alice.token);
        const patch = (json: unknown) =>
          api(server.url, 'PATCH', `/api/groups/${group.id}`, { token: alice.token, json });
        expect(((await patch({ avatar })).body as { group: GroupBody }).group.avatar).toBe(avatar);
        expect(((await patch({ avatar: '' })).body as { group: GroupBody }).group.avatar).toBe('');
        const history = await fullHistory(bob.socket, group.conv);
        expect(systemEvents(history).slice(1)).toEqual([
          { event: 'updated', avatar },
          { event: 'updated', avatar: '' },
        ]);
      });

      it('receipts: of the current members but the sender, who read message N and who did not', async () => {
        const { alice, bob, carol, group } = await groupWithHistory();
        const receipts = (person: Person, seq: string) =>
          api(server.url, 'GET', `/api/groups/${group.id}/receipts?seq=${seq}`, { token: person.token });
        bob.socket.send({ type: 'read', conv: group.conv, seq: 5 });
        await settle(bob.socket);
        const answer = await receipts(carol, '5');
        expect(answer.status).toBe(200);
        expect(answer.body).toEqual({ seq: 5, read: [bob.id], unread: [carol.id] });
        expect((await receipts(alice, '2')).body).toEqual({ seq: 2, read: [bob.id], unread: [carol.id] });
        expectFailure(await receipts(alice, '99'), 404, 'not_found');
        expectFailure(await receipts(alice, '0'), 400, 'bad_request');
        expectFailure(await receipts(alice, 'x'), 400, 'bad_request');
        const stranger = await server.person();
        expectFailure(await receipts(stranger, '5'), 403, 'forbidden');
      });

      it('sessions paging may start after a group the user left; never after a stranger group', async () => {
        const { alice, bob, group } = await groupWithHistory();
        expect(
          (await api(server.url, 'DELETE', `/api/groups/${group.id}/members/${bob.id}`, { token: bob.token })).status,
        ).toBe(204);
        bob.socket.send({ type: 'sessions', after: group.conv });
        expect(await bob.socket.next('sessions')).toMatchObject({ after: group.conv, more: false });
        const stranger = await server.person();
        stranger.socket.send({ type: 'sessions', after: group.conv });
        expect(await stranger.socket.next('error')).toMatchObject({ code: 'forbidden' });
        alice.socket.send({ type: 'sessions', after: group.conv });
        expect(await alice.socket.next('sessions')).toMatchObject({ after: group.conv });
      });
    });

    describe('mentions', () => {
      /** Sends and waits for its ack or its error. */
      async function sendIn(person: Person, conv: string, cid: string, extra: Record<string, unknown> = {}) {
        person.socket.send({ type: 'send', cid, conv, kind: 'text', body: `@ ${cid}`, ...extra });
        return Promise.race([
          person.socket.next('ack', (frame) => frame.cid === cid),
          person.socket.next('error', (frame) => frame.ref === cid),
        ]);
      }

      async function mentionedOf(person: Person, conv: string): Promise<boolean | undefined> {
        const phone = await person.connect();
        phone.send({ type: 'sync', cursors: {} });
        const { sessions } = await phone.next('sessions');
        phone.close();
        return sessions.find((session) => session.conv === conv)?.mentioned;
      }

      it('members: deduped, the sender dropped, stored, carried by message frames, history, sync and sessions.last', async () => {
        const [alice, bob, carol] = await people(3);
        const group = await createGroup(alice, [bob, carol]);
        const ack = await sendIn(alice, group.conv, 'm1', { mentions: [bob.id, bob.id, alice.id, carol.id] });
        expect(ack).toMatchObject({ type: 'ack', seq: 2 });
        for (const person of [bob, carol]) {
          expect(await person.socket.next('message', (frame) => frame.cid === 'm1')).toMatchObject({
            seq: 2,
            mentions: [bob.id, carol.id],
          });
        }
        // A message that mentions nobody has no `mentions`, nor does one that mentions only its sender.
        await sendIn(alice, group.conv, 'm2');
        await sendIn(alice, group.conv, 'm3', { mentions: [alice.id] });
        for (const cid of ['m2', 'm3']) {
          expect(await bob.socket.next('message', (frame) => frame.cid === cid)).not.toHaveProperty('mentions');
        }
        const history = await fullHistory(bob.socket, group.conv);
        expect(history.map((m) => m.mentions)).toEqual([undefined, [bob.id, carol.id], undefined, undefined]);
        const phone = await bob.connect();
        phone.send({ type: 'sync', cursors: { [group.conv]: 1 } });
        const { sessions } = await phone.next('sessions');
        expect(sessions[0]).toMatchObject({ conv: group.conv, mentioned: true, last: { seq: 4 } });
        expect(sessions[0].last).not.toHaveProperty('mentions');
        await phone.next('synced');
        const replayed = phone.frames.filter((f) => f.type === 'message' && f.conv === group.conv);
        expect(replayed.map((f) => (f.type === 'message' ? f.mentions : null))).toEqual([
          [bob.id, carol.id],
          undefined,
          undefined,
        ]);
        // sessions.last carries the mentions of the last message.
        await sendIn(carol, group.conv, 'm5', { mentions: [bob.id] });
        phone.send({ type: 'sync', cursors: {} });
        const again = await phone.next('sessions', (frame) => frame.sessions[0]?.lastSeq === 5);
        expect(again.sessions[0].last).toMatchObject({ seq: 5, mentions: [bob.id] });
      });

      it('mentioned in sessions: while an unread message mentions the user or all, false again once read', async () => {
        const [alice, bob, carol] = await people(3);
        const group = await createGroup(alice, [bob, carol]);
        expect(await mentionedOf(bob, group.conv)).toBe(false);
        await sendIn(carol, group.conv, 'c1', { mentions: [bob.id] });
        expect(await mentionedOf(bob, group.conv)).toBe(true);
        expect(await mentionedOf(alice, group.conv)).toBe(false);
        bob.socket.send({ type: 'read', conv: group.conv, seq: 2 });
        await settle(bob.socket);
        expect(await mentionedOf(bob, group.conv)).toBe(false);
        await sendIn(alice, group.conv, 'a1', { mentions: ['all'] });
        expect(await mentionedOf(bob, group.conv)).toBe(true);
        expect(await mentionedOf(carol, group.conv)).toBe(true);
        expect(await mentionedOf(alice, group.conv)).toBe(false);
        // A dm entry: mentioned false, left false.
        await sendIn(alice, '', 'dm', { conv: undefined, to: bob.id });
        const phone = await bob.connect();
        phone.send({ type: 'sync', cursors: {} });
        const { sessions } = await phone.next('sessions');
        expect(sessions.find((s) => s.conv !== group.conv)).toMatchObject({ mentioned: false, left: false });
      });

      it('all: the owner and admins only (others forbidden); all beside ids, a non-member, a dm: bad_frame; nothing stored', async () => {
        const [alice, bob, carol, stranger] = await people(4);
        const group = await createGroup(alice, [bob, carol]);
        expect(await sendIn(bob, group.conv, 'b1', { mentions: ['all'] })).toMatchObject({
          type: 'error',
          code: 'forbidden',
        });
        expect(
          (await api(server.url, 'PUT', `/api/groups/${group.id}/admins/${bob.id}`, { token: alice.token })).status,
        ).toBe(200);
        expect(await sendIn(bob, group.conv, 'b2', { mentions: ['all', 'all'] })).toMatchObject({ type: 'ack' });
        expect(await carol.socket.next('message', (frame) => frame.cid === 'b2')).toMatchObject({ mentions: ['all'] });
        expect(await sendIn(alice, group.conv, 'a1', { mentions: ['all', carol.id] })).toMatchObject({
          type: 'error',
          code: 'bad_frame',
        });
        const refused = await sendIn(alice, group.conv, 'a2', { mentions: [stranger.id] });
        expect(refused).toMatchObject({ type: 'error', code: 'bad_frame' });
        expect((refused as { message: string }).message).toContain(stranger.id);
        expect(await sendIn(alice, group.conv, 'a3', { mentions: [] })).toMatchObject({ code: 'bad_frame' });
        // A member who left is no longer mentionable.
        await api(server.url, 'DELETE', `/api/groups/${group.id}/members/${carol.id}`, { token: carol.token });
        expect(await sendIn(alice, group.conv, 'a4', { mentions: [carol.id] })).toMatchObject({ code: 'bad_frame' });
        // In a dm, with `to` or with its conv.
        expect(await sendIn(alice, '', 'd1', { conv: undefined, to: bob.id, mentions: [bob.id] })).toMatchObject({
          code: 'bad_frame',
        });
        const dm = [alice.id, bob.id].sort();
        expect(await sendIn(alice, `dm:${dm[0]}:${dm[1]}`, 'd2', { mentions: [bob.id] })).toMatchObject({
          code: 'bad_frame',
        });
        // A stranger is refused as a stranger, mentions or not.
        expect(await sendIn(stranger, group.conv, 's1', { mentions: [alice.id] })).toMatchObject({ code: 'forbidden' });
        const history = await fullHistory(alice.socket, group.conv);
        expect(history.filter((m) => m.kind === 'text').map((m) => m.cid)).toEqual(['b2']);
      });
    });
  });
}

groupSuite('SQLite', () => ({}));

if (DATABASE_URL) {
  const url = DATABASE_URL;
  let schema = '';
  beforeAll(() => {
    schema = newSchemaName('groups');
  });
  afterAll(async () => {
    await dropSchema(url, schema);
  });
  groupSuite('PostgreSQL', () => ({ databaseUrl: url, databaseSchema: schema }));
} else {
  warnSkipped('the group tests on PostgreSQL (server/test/groups.test.ts)', ['DATABASE_URL']);
}
