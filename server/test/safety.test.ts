/**
 * Safety over a real server (docs/protocol.md, "Safety"): block both ways, report and its budget,
 * the admin API's token, moderators' reports, recall, bans (4003, login 403, token 401, timed bans
 * ending by themselves, unban), user search, the live panel and the audit log. Every test runs on
 * SQLite, and on PostgreSQL when DATABASE_URL is set. The ban across instances is in
 * safety-cluster.test.ts.
 */
import { CLOSE_CODES } from '../../contract/limits';
import type { ServerFrameOf } from '../../contract/frames';
import type { GroupView } from '../src/chat/groups';
import type { ReportView, UserView } from '../src/chat/moderation';
import { loadConfig, type ServerConfig } from '../src/config';
import type { AuditEntry } from '../src/store/safety-types';
import { useOwnServers, useTestServer } from './support/fixture';
import { DATABASE_URL, dropSchema, newSchemaName, warnSkipped } from './support/services';
import {
  api,
  expectFailure,
  fullHistory,
  refusedUpgrade,
  settle,
  TestSocket,
  type ApiAnswer,
  type Person,
} from './support/server';

const ADMIN_TOKEN = 'test-admin-token-0123456789abcdefghij';
const HOUR_MS = 3600_000;

type Answer = ServerFrameOf<'ack'> | ServerFrameOf<'error'>;

async function send(person: Person, target: { to: string } | { conv: string }, cid: string): Promise<Answer> {
  person.socket.send({ type: 'send', cid, kind: 'text', body: `text ${cid}`, ...target });
  return Promise.race<Answer>([
    person.socket.next('ack', (frame) => frame.cid === cid),
    person.socket.next('error', (frame) => frame.ref === cid),
  ]);
}

function safetySuite(storeName: string, settings: () => Partial<ServerConfig>): void {
  describe(`safety on ${storeName}`, () => {
    let now = 1_800_000_000_000;
    const server = useTestServer(() => ({ ...settings(), adminToken: ADMIN_TOKEN, safetyClock: () => now }));

    const admin = (method: string, route: string, json?: unknown): Promise<ApiAnswer> =>
      api(server.url, method, route, { token: ADMIN_TOKEN, ...(json === undefined ? {} : { json }) });

    async function audit(): Promise<AuditEntry[]> {
      const answer = await admin('GET', '/api/admin/audit?limit=100');
      expect(answer.status).toBe(200);
      return (answer.body as { entries: AuditEntry[] }).entries;
    }

    describe('block', () => {
      it('refuses a blocked sender\'s dm with "blocked" (nothing stored or delivered), both ways, until unblocked', async () => {
        const ann = await server.person();
        const ben = await server.person();
        expect((await send(ben, { to: ann.id }, 'before')).type).toBe('ack');
        await ann.socket.next('message', (frame) => frame.cid === 'before');

        const put = await api(server.url, 'PUT', `/api/blocks/${ben.id}`, { token: ann.token });
        expect(put.status).toBe(204);
        const list = await api(server.url, 'GET', '/api/blocks', { token: ann.token });
        expect(list.body).toEqual([ben.login.user]);

        // By `to` and by `conv`: refused, with the cid as ref.
        const refused = await send(ben, { to: ann.id }, 'b1');
        expect(refused).toMatchObject({ type: 'error', code: 'blocked', ref: 'b1' });
        const conv = directConv(ann, ben);
        expect(await send(ben, { conv }, 'b2')).toMatchObject({ type: 'error', code: 'blocked', ref: 'b2' });
        // Typing and a profile change of the blocked reach the blocker no more.
        ben.socket.send({ type: 'typing', conv });
        await api(server.url, 'PUT', '/api/profile', { token: ben.token, json: { nickname: '被拉黑的人' } });
        await settle(ann.socket, ben.socket);
        expect(
          ann.socket.frames.filter((f) => f.type === 'message' || f.type === 'typing' || f.type === 'profile'),
        ).toEqual([]);
        // Nothing stored: the blocker's history has only the first message.
        const history = await fullHistory(ann.socket, conv);
        expect(history.map((message) => message.cid)).toEqual(['before']);

        // The blocker may still write to the one they blocked (WeChat lets them).
        expect((await send(ann, { to: ben.id }, 'a1')).type).toBe('ack');

        // Blocked both ways: each refuses the other.
        await api(server.url, 'PUT', `/api/blocks/${ann.id}`, { token: ben.token });
        expect(await send(ann, { to: ben.id }, 'a2')).toMatchObject({ type: 'error', code: 'blocked' });

        // Unblocked: messages flow again.
        expect((await api(server.url, 'DELETE', `/api/blocks/${ben.id}`, { token: ann.token })).status).toBe(204);
        expect((await api(server.url, 'DELETE', `/api/blocks/${ann.id}`, { token: ben.token })).status).toBe(204);
        expect((await api(server.url, 'GET', '/api/blocks', { token: ann.token })).body).toEqual([]);
        expect((await send(ben, { to: ann.id }, 'after')).type).toBe('ack');
        await ann.socket.next('message', (frame) => frame.cid === 'after');
      });

      it('answers 400 for yourself, 404 for an unknown user, 401 without a token; lists newest first', async () => {
        const ann = await server.person();
        const ben = await server.person();
        const cat = await server.person();
        expectFailure(await api(server.url, 'PUT', `/api/blocks/${ann.id}`, { token: ann.token }), 400, 'bad_request');
        expectFailure(await api(server.url, 'PUT', '/api/blocks/u-nobody', { token: ann.token }), 404, 'not_found');
        expectFailure(await api(server.url, 'PUT', `/api/blocks/${ben.id}`), 401, 'unauthorized');
        await api(server.url, 'PUT', `/api/blocks/${ben.id}`, { token: ann.token });
        now += 1000;
        await api(server.url, 'PUT', `/api/blocks/${cat.id}`, { token: ann.token });
        const list = await api(server.url, 'GET', '/api/blocks', { token: ann.token });
        expect(list.body).toEqual([cat.login.user, ben.login.user]);
      });

      it("tells the blocker nothing of the blocked one's presence (others still hear it)", async () => {
        const ann = await server.person();
        const ben = await server.person();
        const cat = await server.person();
        expect((await send(ben, { to: ann.id }, 'p1')).type).toBe('ack');
        expect((await send(ben, { to: cat.id }, 'p2')).type).toBe('ack');
        await api(server.url, 'PUT', `/api/blocks/${ben.id}`, { token: ann.token });
        ben.socket.close();
        await cat.socket.next('presence', (frame) => frame.user === ben.id && !frame.online);
        await settle(ann.socket);
        expect(ann.socket.frames.filter((frame) => frame.type === 'presence')).toEqual([]);
      });

      it('leaves groups as they are: a blocked member still reaches the group', async () => {
        const ann = await server.person();
        const ben = await server.person();
        const created = await api(server.url, 'POST', '/api/groups', {
          token: ann.token,
          json: { name: '群', members: [ben.id] },
        });
        const group = (created.body as { group: GroupView }).group;
        await api(server.url, 'PUT', `/api/blocks/${ben.id}`, { token: ann.token });
        expect((await send(ben, { conv: group.conv }, 'g1')).type).toBe('ack');
        await ann.socket.next('message', (frame) => frame.cid === 'g1');
      });
    });

    describe('report', () => {
      it("takes a member's report of a message or a conversation; refuses others, bad reasons, missing messages", async () => {
        const ann = await server.person();
        const ben = await server.person();
        const eve = await server.person();
        const ack = await send(ben, { to: ann.id }, 'r1');
        if (ack.type !== 'ack') throw new Error('not sent');
        const report = (who: Person, json: unknown) =>
          api(server.url, 'POST', '/api/reports', { token: who.token, json });

        const made = await report(ann, { conv: ack.conv, seq: ack.seq, reason: '骚扰' });
        expect(made.status).toBe(201);
        expect(made.body).toEqual({ id: expect.stringMatching(/^r/) });
        expect((await report(ann, { conv: ack.conv, reason: '诈骗' })).status).toBe(201);

        expectFailure(await report(eve, { conv: ack.conv, seq: ack.seq, reason: '骚扰' }), 403, 'forbidden');
        expectFailure(await report(ann, { conv: ack.conv, seq: 99, reason: '骚扰' }), 404, 'not_found');
        expectFailure(await report(ann, { conv: ack.conv, seq: ack.seq, reason: '' }), 400, 'bad_request');
        expectFailure(await report(ann, { conv: ack.conv, seq: ack.seq, reason: '   ' }), 400, 'bad_request');
        expectFailure(await report(ann, { conv: ack.conv, reason: 'x'.repeat(201) }), 400, 'bad_request');
        expect((await report(ann, { conv: ack.conv, reason: `其他：${'x'.repeat(197)}` })).status).toBe(201);
        expectFailure(await report(ann, { conv: ack.conv, seq: 0, reason: 'x' }), 400, 'bad_request');
        expectFailure(
          await api(server.url, 'POST', '/api/reports', { json: { conv: ack.conv, reason: 'x' } }),
          401,
          'unauthorized',
        );
      });

      it('bounds each account to REPORT_RATE reports an hour (429 rate_limited), whoever they report', async () => {
        const ann = await server.person();
        const ben = await server.person();
        const conv = directConv(ann, ben);
        const report = () =>
          api(server.url, 'POST', '/api/reports', { token: ann.token, json: { conv, reason: '骚扰' } });
        for (let i = 0; i < 20; i++) expect((await report()).status).toBe(201);
        expectFailure(await report(), 429, 'rate_limited');
        // Another account has a budget of its own: an attacker with many accounts is bounded per account.
        const other = await api(server.url, 'POST', '/api/reports', {
          token: ben.token,
          json: { conv, reason: '骚扰' },
        });
        expect(other.status).toBe(201);
        now += HOUR_MS;
        expect((await report()).status).toBe(201);
      });
    });

    describe('the admin API', () => {
      it('answers 401 without the token or with a wrong one (every route)', async () => {
        for (const [method, route] of [
          ['GET', '/api/admin/reports'],
          ['GET', '/api/admin/audit'],
          ['GET', '/api/admin/stats'],
          ['GET', '/api/admin/users?q=x'],
          ['POST', '/api/admin/recall'],
          ['POST', '/api/admin/users/u1/ban'],
          ['DELETE', '/api/admin/users/u1/ban'],
          ['POST', '/api/admin/reports/r1/dismiss'],
        ]) {
          expectFailure(await api(server.url, method, route), 401, 'unauthorized');
          expectFailure(await api(server.url, method, route, { token: 'wrong' }), 401, 'unauthorized');
          expectFailure(await api(server.url, method, route, { token: `${ADMIN_TOKEN}x` }), 401, 'unauthorized');
        }
        // A user's token is no admin token.
        const ann = await server.person();
        expectFailure(await api(server.url, 'GET', '/api/admin/reports', { token: ann.token }), 401, 'unauthorized');
      });

      it('lists open reports newest first with the message, its context and both people; pages; dismisses', async () => {
        const ann = await server.person();
        const ben = await server.person();
        const seqs: number[] = [];
        for (let i = 0; i < 12; i++) {
          const ack = await send(ben, { to: ann.id }, `ctx${i}`);
          if (ack.type === 'ack') seqs.push(ack.seq);
        }
        const conv = directConv(ann, ben);
        now += 1;
        const first = await api(server.url, 'POST', '/api/reports', {
          token: ann.token,
          json: { conv, seq: seqs[6], reason: '诈骗' },
        });
        now += 1;
        const second = await api(server.url, 'POST', '/api/reports', {
          token: ann.token,
          json: { conv, reason: '骚扰' },
        });
        const [firstId, secondId] = [first.body, second.body].map((body) => (body as { id: string }).id);

        const page1 = await admin('GET', '/api/admin/reports?limit=1');
        expect(page1.status).toBe(200);
        const { reports, next } = page1.body as { reports: ReportView[]; next: string | null };
        expect(reports.map((r) => r.id)).toEqual([secondId]);
        expect(reports[0]).toMatchObject({ seq: null, reporter: ann.login.user, reported: { id: ben.id, ban: null } });
        expect(reports[0].context.map((m) => m.seq)).toEqual(seqs.slice(2));
        expect(next).toEqual(expect.any(String));
        const page2 = await admin('GET', `/api/admin/reports?limit=1&before=${encodeURIComponent(next ?? '')}`);
        const report = (page2.body as { reports: ReportView[] }).reports[0];
        expect(report).toMatchObject({
          id: firstId,
          conv,
          seq: seqs[6],
          reason: '诈骗',
          reporter: ann.login.user,
          reported: { ...ben.login.user, ban: null },
          message: { seq: seqs[6], from: ben.id, body: 'text ctx6' },
        });
        // Five either side, itself included.
        expect(report.context.map((m) => m.seq)).toEqual(seqs.slice(1, 12));
        expectFailure(await admin('GET', '/api/admin/reports?before=junk'), 400, 'bad_request');

        expect((await admin('POST', `/api/admin/reports/${firstId}/dismiss`, { reason: '无违规' })).status).toBe(204);
        expectFailure(await admin('POST', `/api/admin/reports/${firstId}/dismiss`), 404, 'not_found');
        const after = (await admin('GET', '/api/admin/reports?limit=100')).body as { reports: ReportView[] };
        expect(after.reports.map((r) => r.id)).not.toContain(firstId);
        expect((await audit())[0]).toMatchObject({
          actor: 'admin',
          ip: expect.stringMatching(/127\.0\.0\.1/),
          action: 'dismiss',
          target: firstId,
          reason: '无违规',
          ts: now,
        });
      });

      it('recalls any message as a system recalled event every member sees; audits it', async () => {
        const ann = await server.person();
        const ben = await server.person();
        const ack = await send(ben, { to: ann.id }, 'bad');
        if (ack.type !== 'ack') throw new Error('not sent');
        await ann.socket.next('message', (frame) => frame.cid === 'bad');
        now += 10 * HOUR_MS; // far past RECALL_WINDOW_S: a moderator has no window
        const recalled = await admin('POST', '/api/admin/recall', { conv: ack.conv, seq: ack.seq, reason: '诈骗' });
        expect(recalled.status).toBe(200);
        const event = (recalled.body as { event: { seq: number } }).event;
        const body = JSON.stringify({ event: 'recalled', seq: ack.seq });
        for (const socket of [ann.socket, ben.socket]) {
          const frame = await socket.next('message', (f) => f.kind === 'system' && f.body === body);
          expect(frame).toMatchObject({ conv: ack.conv, seq: event.seq, from: ben.id });
        }
        const history = await fullHistory(ann.socket, ack.conv);
        expect(history.find((m) => m.seq === ack.seq)).toMatchObject({ kind: 'recalled', body: '' });
        expectFailure(await admin('POST', '/api/admin/recall', { conv: ack.conv, seq: ack.seq }), 403, 'forbidden');
        expectFailure(await admin('POST', '/api/admin/recall', { conv: ack.conv, seq: 999 }), 404, 'not_found');
        expect((await audit())[0]).toMatchObject({
          action: 'recall',
          target: `${ack.conv}#${ack.seq}`,
          reason: '诈骗',
          actor: 'admin',
        });
      });

      it('closes the report a recall or a ban names as resolved', async () => {
        const ann = await server.person();
        const ben = await server.person();
        const ack = await send(ben, { to: ann.id }, 'reported');
        if (ack.type !== 'ack') throw new Error('not sent');
        const made = await api(server.url, 'POST', '/api/reports', {
          token: ann.token,
          json: { conv: ack.conv, seq: ack.seq, reason: '诈骗' },
        });
        const reportId = (made.body as { id: string }).id;
        now += 1;
        const recalled = await admin('POST', '/api/admin/recall', { conv: ack.conv, seq: ack.seq, report: reportId });
        expect(recalled.status).toBe(200);
        const open = (await admin('GET', '/api/admin/reports?limit=100')).body as { reports: ReportView[] };
        expect(open.reports.map((r) => r.id)).not.toContain(reportId);
        const entry = (await audit())[0];
        expect(JSON.parse(entry.detail)).toMatchObject({ report: reportId, sender: ben.id, seq: ack.seq });
        const users = (await admin('GET', `/api/admin/users?q=${ben.id}`)).body as { users: UserView[] };
        expect(users.users[0].reports).toEqual([expect.objectContaining({ id: reportId, status: 'resolved' })]);
      });

      it('bans: sockets close with 4003, login 403, token 401 (HTTP and upgrade); unban restores; audited', async () => {
        const ann = await server.person();
        const ben = await server.person();
        const devId = `dev-banned-${Math.random().toString(36).slice(2, 10)}`;
        const bad = await server.person(devId);
        const second = await bad.connect();
        now += 1;
        const ban = await admin('POST', `/api/admin/users/${bad.id}/ban`, { reason: '诈骗' });
        expect(ban.status).toBe(200);
        expect(ban.body).toEqual({ ban: { reason: '诈骗', until: null, since: now } });
        for (const socket of [bad.socket, second]) {
          expect(await socket.closed).toEqual({ code: CLOSE_CODES.banned, reason: 'banned' });
        }
        // Others are not touched.
        await settle(ann.socket, ben.socket);

        const login = await api(server.url, 'POST', '/api/login', { json: { code: 'dev', devId } });
        expectFailure(login, 403, 'banned');
        expectFailure(await api(server.url, 'GET', '/api/me', { token: bad.token }), 401, 'unauthorized');
        expect((await refusedUpgrade(server.wsUrl, { authorization: `Bearer ${bad.token}` })).status).toBe(401);

        const users = await admin('GET', `/api/admin/users?q=${bad.id}`);
        expect((users.body as { users: UserView[] }).users[0]).toMatchObject({
          id: bad.id,
          ban: { reason: '诈骗', until: null },
        });

        now += 1;
        expect((await admin('DELETE', `/api/admin/users/${bad.id}/ban`)).status).toBe(204);
        expect((await api(server.url, 'GET', '/api/me', { token: bad.token })).status).toBe(200);
        expect((await api(server.url, 'POST', '/api/login', { json: { code: 'dev', devId } })).status).toBe(200);
        const back = await TestSocket.open(server.wsUrl, bad.token);
        server.sockets.push(back);
        await settle(back);

        const actions = (await audit()).slice(0, 2);
        expect(actions.map((e) => [e.action, e.target])).toEqual([
          ['unban', bad.id],
          ['ban', bad.id],
        ]);
        expect(JSON.parse(actions[1].detail)).toEqual({ until: null });
        expectFailure(await admin('POST', '/api/admin/users/u-nobody/ban', { reason: 'x' }), 404, 'not_found');
        expectFailure(await admin('POST', `/api/admin/users/${ann.id}/ban`, { reason: '' }), 400, 'bad_request');
        expectFailure(
          await admin('POST', `/api/admin/users/${ann.id}/ban`, { reason: 'x', until: now - 1 }),
          400,
          'bad_request',
        );
      });

      it('ends a timed ban by itself once its time has passed', async () => {
        const devId = `dev-timed-${Math.random().toString(36).slice(2, 10)}`;
        const bad = await server.person(devId);
        const until = now + 24 * HOUR_MS;
        await admin('POST', `/api/admin/users/${bad.id}/ban`, { reason: '刷屏', until });
        expect((await bad.socket.closed).code).toBe(CLOSE_CODES.banned);
        expectFailure(await api(server.url, 'POST', '/api/login', { json: { code: 'dev', devId } }), 403, 'banned');
        expectFailure(await api(server.url, 'GET', '/api/me', { token: bad.token }), 401, 'unauthorized');
        now = until - 1;
        expectFailure(await api(server.url, 'GET', '/api/me', { token: bad.token }), 401, 'unauthorized');
        now = until;
        expect((await api(server.url, 'GET', '/api/me', { token: bad.token })).status).toBe(200);
        expect((await api(server.url, 'POST', '/api/login', { json: { code: 'dev', devId } })).status).toBe(200);
        const users = (await admin('GET', `/api/admin/users?q=${bad.id}`)).body as { users: UserView[] };
        expect(users.users[0].ban).toBeNull();
      });

      it('finds users by id or nickname with the reports against them; shows live figures', async () => {
        const ann = await server.person();
        const ben = await server.person();
        const nickname = `查找${Math.random().toString(36).slice(2, 8)}`;
        await api(server.url, 'PUT', '/api/profile', { token: ben.token, json: { nickname } });
        const ack = await send(ben, { to: ann.id }, 'found');
        if (ack.type !== 'ack') throw new Error('not sent');
        await api(server.url, 'POST', '/api/reports', {
          token: ann.token,
          json: { conv: ack.conv, seq: ack.seq, reason: '色情低俗' },
        });
        const byName = (await admin('GET', `/api/admin/users?q=${encodeURIComponent(nickname)}`)).body as {
          users: UserView[];
        };
        expect(byName.users).toEqual([
          {
            ...ben.login.user,
            nickname,
            ban: null,
            reports: [
              {
                id: expect.any(String),
                conv: ack.conv,
                seq: ack.seq,
                reason: '色情低俗',
                createdAt: now,
                status: 'open',
              },
            ],
          },
        ]);
        const stats = await admin('GET', '/api/admin/stats');
        expect(stats.body).toEqual({ online: expect.any(Number), messagesLastMinute: expect.any(Number) });
        const { online, messagesLastMinute } = stats.body as { online: number; messagesLastMinute: number };
        expect(online).toBeGreaterThanOrEqual(2);
        expect(messagesLastMinute).toBeGreaterThanOrEqual(1);
      });
    });
  });
}

function directConv(a: Person, b: Person): string {
  return a.id < b.id ? `dm:${a.id}:${b.id}` : `dm:${b.id}:${a.id}`;
}

safetySuite('SQLite', () => ({}));

if (DATABASE_URL) {
  const url = DATABASE_URL;
  let schema = '';
  beforeAll(() => {
    schema = newSchemaName('safety');
  });
  afterAll(async () => {
    await dropSchema(url, schema);
  });
  safetySuite('PostgreSQL', () => ({ databaseUrl: url, databaseSchema: schema }));
} else {
  warnSkipped('the safety tests on PostgreSQL (server/test/safety.test.ts)', ['DATABASE_URL']);
}

describe('the admin API without ADMIN_TOKEN', () => {
  const start = useOwnServers();

  it('answers 404 for every /api/admin/* route and for the console (/admin, its script)', async () => {
    const server = await start({ adminToken: undefined });
    for (const [method, route] of [
      ['GET', '/api/admin/reports'],
      ['GET', '/api/admin/stats'],
      ['POST', '/api/admin/users/u1/ban'],
      ['GET', '/admin'],
      ['GET', '/admin/admin.js'],
    ]) {
      expectFailure(await api(server.url, method, route, { token: ADMIN_TOKEN }), 404, 'not_found');
      expectFailure(await api(server.url, method, route), 404, 'not_found');
    }
  });
});

describe('safety settings', () => {
  it('reads ADMIN_TOKEN (unset or empty: none; too short: refused) and REPORT_RATE (default 20)', () => {
    expect(loadConfig({}).adminToken).toBeUndefined();
    expect(loadConfig({ ADMIN_TOKEN: '' }).adminToken).toBeUndefined();
    expect(loadConfig({ ADMIN_TOKEN: ADMIN_TOKEN }).adminToken).toBe(ADMIN_TOKEN);
    expect(() => loadConfig({ ADMIN_TOKEN: 'short' })).toThrow(/ADMIN_TOKEN must be at least 24 characters/);
    expect(loadConfig({}).reportRate).toBe(20);
    expect(loadConfig({ REPORT_RATE: '5' }).reportRate).toBe(5);
    expect(() => loadConfig({ REPORT_RATE: '0' })).toThrow(/REPORT_RATE/);
  });
});
