import type { ChatMessage, SessionEntry } from '../../contract/frames';
import * as incoming from '../../miniprogram/core/incoming';
import { createStores, type Stores } from '../../miniprogram/stores/index';

/**
 * The frame handlers on their own: stores in, a frame, the stores and follow-ups out. No socket,
 * no server: what each frame does to the app's state, case by case.
 */
const ME = { id: 'uMe000000001', nickname: '我', avatar: '' };
const PEER = { id: 'uPeer0000001', nickname: '小雨', avatar: '' };
const CONV = `dm:${ME.id}:${PEER.id}`;
const live = { activeConv: '', live: true };

function message(seq: number, from = PEER.id, conv = CONV): ChatMessage {
  return { conv, seq, cid: `c${seq}`, from, kind: 'text', body: `m${seq}`, ts: 1_700_000_000_000 + seq };
}

function session(lastSeq: number, unread: number): SessionEntry {
  return { conv: CONV, peer: PEER, last: message(lastSeq), lastSeq, readSeq: lastSeq - unread, peerReadSeq: 0, unread };
}

function stores(): Stores {
  const fresh = createStores();
  fresh.me.setUser(ME);
  return fresh;
}

describe('incoming frames', () => {
  it('sessions: the list is replaced and its peers become known', () => {
    const s = stores();
    incoming.applySessions(s, { type: 'sessions', sessions: [session(3, 2)], more: false });
    expect(s.sessions.list.map((item) => [item.conv, item.unread, item.badge])).toEqual([[CONV, 2, '2']]);
    expect(incoming.peerOf(s, CONV)).toEqual(PEER);
  });

  it('message: stored once, counted unread, and the typing hint ends', () => {
    const s = stores();
    incoming.applySessions(s, { type: 'sessions', sessions: [session(1, 1)], more: false });
    s.people.setTyping(CONV, Date.now() + 5000);
    expect(incoming.applyMessage(s, message(1), live)).toEqual([]);
    expect(incoming.applyMessage(s, message(2), live)).toEqual([]);
    expect(incoming.applyMessage(s, message(2), live)).toEqual([]);
    expect(s.messages.view(CONV).items.map((item) => item.seq)).toEqual([1, 2]);
    expect(s.sessions.find(CONV)).toMatchObject({ lastSeq: 2, unread: 2, preview: 'm2' });
    expect(s.people.isTyping(CONV)).toBe(false);
  });

  const GROUP = 'g:gGroup000001';
  const groupEntry = {
    conv: GROUP,
    group: { id: 'gGroup000001', name: '周末爬山', avatar: '', memberCount: 3 },
    last: null,
    lastSeq: 1,
    readSeq: 0,
    unread: 1,
    mentioned: true,
    left: false,
  };

  it('sessions: a group entry is listed under its name, with its mention, and pages on after it', () => {
    const s = stores();
    incoming.applySessions(s, { type: 'sessions', sessions: [session(1, 0), groupEntry], more: true });
    expect(s.sessions.find(GROUP)).toMatchObject({ isGroup: true, title: '周末爬山', mentioned: true, left: false });
    expect(s.sessions.find(GROUP)!.peer).toBeUndefined();
    expect(s.sessions.nextPageAfter()).toBe(GROUP);
  });

  it('message: one of a group the list has not heard of asks for the list again (a group is never made up)', () => {
    const s = stores();
    incoming.applySessions(s, { type: 'sessions', sessions: [session(1, 0)], more: false });
    const joined = { ...message(4, PEER.id, GROUP), kind: 'system' as const, body: '{"event":"joined","users":["x"]}' };
    expect(incoming.applyMessage(s, joined, live)).toEqual([{ type: 'resync' }, { type: 'groupChanged', conv: GROUP }]);
    expect(s.sessions.find(GROUP)).toBeUndefined();
    // The message itself is held for when the conversation opens.
    expect(s.messages.view(GROUP).items.map((item) => item.seq)).toEqual([4]);
  });

  it('message: the system messages of a group rename it, and put the user out when they say so', () => {
    const s = stores();
    incoming.applySessions(s, { type: 'sessions', sessions: [groupEntry], more: false });
    const me = s.me.id;
    const renamed = {
      ...message(2, PEER.id, GROUP),
      kind: 'system' as const,
      body: '{"event":"updated","name":"周日爬山","previousName":"周末爬山"}',
    };
    incoming.applyMessage(s, renamed, live);
    expect(s.sessions.find(GROUP)).toMatchObject({ title: '周日爬山', unread: 1 });
    // Someone else leaving changes nothing here; the user being removed puts them out.
    const left = {
      ...message(3, PEER.id, GROUP),
      kind: 'system' as const,
      body: '{"event":"left","users":["uOther"]}',
    };
    incoming.applyMessage(s, left, live);
    expect(s.sessions.find(GROUP)!.left).toBe(false);
    const removed = {
      ...message(4, PEER.id, GROUP),
      kind: 'system' as const,
      body: JSON.stringify({ event: 'removed', users: [me] }),
    };
    incoming.applyMessage(s, removed, live);
    expect(s.sessions.find(GROUP)).toMatchObject({ left: true, preview: '你被移出了群聊' });
  });

  it('mute: a muted entry shows no count and adds nothing to the total; deleting another chat keeps it muted', () => {
    const s = stores();
    incoming.applySessions(s, { type: 'sessions', sessions: [session(3, 2), groupEntry], more: false });
    s.sessions.mute(GROUP, true);
    expect(s.sessions.find(GROUP)).toMatchObject({ muted: true, badge: '', unread: 1 });
    expect(s.sessions.totalUnread).toBe(2);
    s.sessions.hide(CONV);
    expect(s.sessions.find(GROUP)!.muted).toBe(true);
    expect(s.sessions.prefs.mutes).toEqual({ [GROUP]: true });
  });

  it('message: a mention of the user (or of all) marks the group until it is read', () => {
    const s = stores();
    incoming.applySessions(s, {
      type: 'sessions',
      sessions: [{ ...groupEntry, mentioned: false, unread: 0 }],
      more: false,
    });
    incoming.applyMessage(s, { ...message(2, PEER.id, GROUP), mentions: ['all'] }, live);
    expect(s.sessions.find(GROUP)).toMatchObject({ mentioned: true, unread: 1 });
    s.sessions.markRead(GROUP, 2);
    expect(s.sessions.find(GROUP)).toMatchObject({ mentioned: false, unread: 0 });
    incoming.applyMessage(s, { ...message(3, PEER.id, GROUP), mentions: ['uSomeoneElse'] }, live);
    expect(s.sessions.find(GROUP)!.mentioned).toBe(false);
  });

  it('message: a live jump past the next seq asks for the hole; a replay does not', () => {
    const s = stores();
    incoming.applySessions(s, { type: 'sessions', sessions: [session(1, 0)], more: false });
    incoming.applyMessage(s, message(1), live);
    expect(incoming.applyMessage(s, message(5), live)).toEqual([
      { type: 'fetchHistory', conv: CONV, before: 5, limit: 3 },
    ]);
    const replaying = stores();
    incoming.applySessions(replaying, { type: 'sessions', sessions: [session(1, 0)], more: false });
    incoming.applyMessage(replaying, message(1), { activeConv: '', live: false });
    expect(incoming.applyMessage(replaying, message(5), { activeConv: '', live: false })).toEqual([]);
  });

  it('message: the conversation on screen is read at once, once the connection is live', () => {
    const s = stores();
    incoming.applySessions(s, { type: 'sessions', sessions: [session(1, 0)], more: false });
    expect(incoming.applyMessage(s, message(2), { activeConv: CONV, live: true })).toEqual([
      { type: 'markRead', conv: CONV },
    ]);
    expect(s.sessions.find(CONV)?.unread).toBe(0);
    expect(incoming.applyMessage(s, message(3, ME.id), { activeConv: CONV, live: true })).toEqual([]);
    expect(incoming.applyMessage(s, message(4), { activeConv: CONV, live: false })).toEqual([]);
  });

  it('message: a conversation nobody listed is listed at once, and the list asked for when the peer is a stranger', () => {
    const s = stores();
    const stranger = `dm:${ME.id}:uStranger001`;
    expect(incoming.applyMessage(s, message(1, 'uStranger001', stranger), live)).toEqual([{ type: 'resync' }]);
    expect(s.sessions.find(stranger)).toMatchObject({ unread: 1, peer: { id: 'uStranger001', nickname: '' } });
    // With a peer the app knows, it is listed at once under their name, and nothing more is needed.
    s.people.remember([PEER]);
    expect(incoming.applyMessage(s, message(1), live)).toEqual([]);
    expect(s.sessions.find(CONV)?.peer).toEqual(PEER);
  });

  it('ack: one’s own message listed as read, asking for the list when the peer is a stranger', () => {
    const s = stores();
    expect(incoming.applyAck(s, message(1, ME.id))).toEqual([{ type: 'resync' }]);
    expect(s.sessions.find(CONV)).toMatchObject({ lastSeq: 1, readSeq: 1, unread: 0 });
    s.people.remember([PEER]);
    expect(incoming.applyAck(s, message(2, ME.id))).toEqual([]);
    expect(s.sessions.find(CONV)).toMatchObject({ lastSeq: 2, readSeq: 2, unread: 0 });
  });

  it('history: the newest page, then an older one, merged in order with what is held', () => {
    const s = stores();
    incoming.applySessions(s, { type: 'sessions', sessions: [session(30, 0)], more: false });
    const page = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => message(from + i));
    incoming.applyHistory(s, { type: 'history', conv: CONV, messages: page(11, 30), hasMore: true }, live);
    expect(s.messages.view(CONV)).toMatchObject({ loaded: true, hasMore: true });
    incoming.applyHistory(s, { type: 'history', conv: CONV, messages: page(1, 10), hasMore: false }, live);
    expect(s.messages.view(CONV).items.map((item) => item.seq)).toEqual(page(1, 30).map((item) => item.seq));
    expect(s.messages.view(CONV).hasMore).toBe(false);
    expect(s.messages.cursor(CONV)).toBe(30);
  });

  it('synced with truncated conversations: what lies below the replay comes from history', () => {
    const s = stores();
    incoming.applyMessage(s, message(60), { activeConv: '', live: false });
    incoming.applyTruncated(s, [CONV], {});
    expect(s.messages.view(CONV).hasMore).toBe(true);
  });

  it('synced with truncated conversations: what was held below the hole goes; nothing replayed means not loaded', () => {
    const s = stores();
    const held = Array.from({ length: 5 }, (_, i) => message(i + 1));
    incoming.applyHistory(s, { type: 'history', conv: CONV, messages: held, hasMore: false }, live);
    // The replay: the newest 3 of 100, far above what was held (cursor 5).
    for (const seq of [98, 99, 100]) incoming.applyMessage(s, message(seq), { activeConv: '', live: false });
    incoming.applyTruncated(s, [CONV], { [CONV]: 5 });
    expect(s.messages.view(CONV)).toMatchObject({ loaded: true, hasMore: true });
    expect(s.messages.view(CONV).items.map((item) => item.seq)).toEqual([98, 99, 100]);
    expect(s.messages.cursor(CONV)).toBe(100);

    // The sync's total ran out before this conversation: nothing came above the cursor.
    const t = stores();
    incoming.applyHistory(t, { type: 'history', conv: CONV, messages: held, hasMore: false }, live);
    t.messages.addPending({ conv: CONV, cid: 'pending', from: ME.id, kind: 'text', body: 'unsent', ts: 1 });
    incoming.applyTruncated(t, [CONV], { [CONV]: 5 });
    expect(t.messages.view(CONV)).toMatchObject({ loaded: false, hasMore: false });
    expect(t.messages.view(CONV).items.map((item) => item.key)).toEqual(['pending']);
    expect(t.messages.cursor(CONV)).toBe(0);
  });

  it('sessions: the first page replaces the list; a next page (after) adds to it, each conversation once', () => {
    const s = stores();
    const entry = (n: number, lastSeq: number, ts: number) => {
      const peer = { id: `uPeer${String(n).padStart(7, '0')}`, nickname: `p${n}`, avatar: '' };
      const conv = `dm:${ME.id}:${peer.id}`;
      return {
        conv,
        peer,
        last: { conv, seq: lastSeq, cid: `c${n}`, from: peer.id, kind: 'text' as const, body: 'hi', ts },
        lastSeq,
        readSeq: 0,
        peerReadSeq: 0,
        unread: lastSeq,
      };
    };
    expect(
      incoming.applySessions(s, { type: 'sessions', sessions: [entry(1, 1, 300), entry(2, 1, 200)], more: true }),
    ).toBe(2);
    expect(s.sessions.more).toBe(true);
    expect(s.sessions.nextPageAfter()).toBe(entry(2, 1, 200).conv);
    // The next page repeats entry 2 (it moved meanwhile on the server) with a newer message.
    const added = incoming.applySessions(s, {
      type: 'sessions',
      sessions: [entry(2, 2, 400), entry(3, 1, 100)],
      more: false,
      after: entry(2, 1, 200).conv,
    });
    expect(added).toBe(1);
    expect(s.sessions.list.map((item) => [item.title, item.lastSeq])).toEqual([
      ['p2', 2],
      ['p1', 1],
      ['p3', 1],
    ]);
    expect(s.sessions.more).toBe(false);
    // A new first page starts over.
    incoming.applySessions(s, { type: 'sessions', sessions: [entry(3, 2, 500)], more: false });
    expect(s.sessions.list.map((item) => item.title)).toEqual(['p3']);
  });

  it('sessions: the next page starts after the last entry of the last page, or the last held when that one moved', () => {
    const s = stores();
    const peer = (n: number) => ({ id: `uPeer${String(n).padStart(7, '0')}`, nickname: `p${n}`, avatar: '' });
    const entry = (n: number, ts: number) => {
      const conv = `dm:${ME.id}:${peer(n).id}`;
      const last = { conv, seq: 1, cid: `c${n}`, from: peer(n).id, kind: 'text' as const, body: 'hi', ts };
      return { conv, peer: peer(n), last, lastSeq: 1, readSeq: 0, peerReadSeq: 0, unread: 1 };
    };
    incoming.applySessions(s, {
      type: 'sessions',
      sessions: [entry(1, 300), entry(2, 200), entry(3, 100)],
      more: true,
    });
    expect(s.sessions.nextPageAfter()).toBe(entry(3, 100).conv);
    // A new message moves the page's last entry to the top: the next page starts after the last held (2).
    s.sessions.applyMessage({ ...entry(3, 100).last, seq: 2, ts: 400 }, ME.id, false);
    expect(s.sessions.nextPageAfter()).toBe(entry(2, 200).conv);
  });

  it('states: one’s own read on another device, and the peer’s for 已读', () => {
    const s = stores();
    incoming.applySessions(s, { type: 'sessions', sessions: [session(5, 3)], more: false });
    incoming.applyStates(s, { type: 'states', conv: CONV, user: ME.id, readSeq: 5 });
    expect(s.sessions.find(CONV)).toMatchObject({ readSeq: 5, unread: 0, badge: '' });
    incoming.applyStates(s, { type: 'states', conv: CONV, user: PEER.id, readSeq: 4 });
    expect(s.sessions.find(CONV)?.peerReadSeq).toBe(4);
  });

  it('a reply from the peer means they read all before it (已读), one’s own message does not', () => {
    const s = stores();
    incoming.applySessions(s, { type: 'sessions', sessions: [{ ...session(3, 0), peerReadSeq: 1 }], more: false });
    incoming.applyMessage(s, message(4, ME.id), live);
    expect(s.sessions.find(CONV)?.peerReadSeq).toBe(1);
    incoming.applyMessage(s, message(5), live);
    expect(s.sessions.find(CONV)?.peerReadSeq).toBe(5);
  });

  it('states of one’s own send on another device: the message or the states alone reads the conversation', () => {
    // The message first (as the server sends them): one's own message is read as it is listed.
    const s = stores();
    incoming.applySessions(s, { type: 'sessions', sessions: [session(5, 3)], more: false });
    incoming.applyMessage(s, message(6, ME.id), live);
    expect(s.sessions.find(CONV)).toMatchObject({ lastSeq: 6, readSeq: 6, unread: 0, badge: '' });
    incoming.applyStates(s, { type: 'states', conv: CONV, user: ME.id, readSeq: 6 });
    expect(s.sessions.find(CONV)).toMatchObject({ readSeq: 6, unread: 0 });

    // The states on its own (its message not listed yet): everything up to it is read, and what
    // comes after counts again.
    const t = stores();
    incoming.applySessions(t, { type: 'sessions', sessions: [session(5, 3)], more: false });
    incoming.applyStates(t, { type: 'states', conv: CONV, user: ME.id, readSeq: 6 });
    expect(t.sessions.find(CONV)).toMatchObject({ lastSeq: 5, readSeq: 6, unread: 0, badge: '' });
    incoming.applyMessage(t, message(6, ME.id), live);
    incoming.applyMessage(t, message(7), live);
    expect(t.sessions.find(CONV)).toMatchObject({ lastSeq: 7, readSeq: 6, unread: 1, badge: '1' });
    expect(t.sessions.totalUnread).toBe(1);
  });

  it('presence and typing: live hints in the people store', () => {
    const s = stores();
    incoming.applyPresence(s, { type: 'presence', user: PEER.id, online: true });
    expect(s.people.isOnline(PEER.id)).toBe(true);
    incoming.applyPresence(s, { type: 'presence', user: PEER.id, online: false });
    expect(s.people.isOnline(PEER.id)).toBe(false);
    incoming.applyTyping(s, { type: 'typing', conv: CONV, user: PEER.id }, Date.now() + 5000);
    expect(s.people.isTyping(CONV)).toBe(true);
  });

  it('profile: a peer’s new nickname and avatar everywhere they show, one’s own too', () => {
    const s = stores();
    incoming.applySessions(s, { type: 'sessions', sessions: [session(1, 1)], more: false });
    const renamed = { ...PEER, nickname: '林晓雨', avatar: 'https://chat.example.com/uploads/aaaaaaaaaaaaaaaa.png' };
    incoming.applyProfile(s, { type: 'profile', user: renamed });
    expect(s.sessions.find(CONV)?.peer).toEqual(renamed);
    expect(incoming.peerOf(s, CONV)).toEqual(renamed);
    expect(s.me.user).toEqual(ME);
    incoming.applyProfile(s, { type: 'profile', user: { ...ME, nickname: '新名字' } });
    expect(s.me.user?.nickname).toBe('新名字');
  });

  it('profile: the echo of a change already shown changes nothing (a page editing it keeps its draft)', () => {
    const s = stores();
    incoming.applySessions(s, { type: 'sessions', sessions: [session(1, 1)], more: false });
    const [me, list] = [s.me.user, s.sessions.list];
    incoming.applyProfile(s, { type: 'profile', user: { ...ME } });
    incoming.applyProfile(s, { type: 'profile', user: { ...PEER } });
    expect(s.me.user).toBe(me);
    expect(s.sessions.list).toBe(list);
  });

  it('a new epoch: the messages held are dropped', () => {
    const s = stores();
    incoming.applyMessage(s, message(1), live);
    incoming.startOver(s);
    expect(s.messages.conversations()).toEqual([]);
  });

  describe('recalls', () => {
    const recall = (seq: number, target: number, from = PEER.id, conv = CONV): ChatMessage => ({
      ...message(seq, from, conv),
      kind: 'system',
      body: JSON.stringify({ event: 'recalled', seq: target }),
    });
    const held = (s: Stores, conv = CONV) =>
      s.messages.view(conv).items.map((item) => [item.seq, item.kind, item.body]);

    it('a recall message recalls the held message: body gone, the tip as the preview, off the badge', () => {
      const s = stores();
      incoming.applySessions(s, { type: 'sessions', sessions: [session(1, 1)], more: false });
      incoming.applyMessage(s, message(1), live);
      incoming.applyMessage(s, message(2), live);
      expect(s.sessions.find(CONV)?.unread).toBe(2);
      expect(incoming.applyMessage(s, recall(3, 2), live)).toEqual([]);
      expect(held(s)).toEqual([
        [1, 'text', 'm1'],
        [2, 'recalled', ''],
        [3, 'system', '{"event":"recalled","seq":2}'],
      ]);
      expect(s.sessions.find(CONV)).toMatchObject({ unread: 1, preview: '"小雨"撤回了一条消息' });
      // The same recall again (a replay) changes nothing more.
      incoming.applyMessage(s, recall(3, 2), live);
      expect(s.sessions.find(CONV)?.unread).toBe(1);
    });

    it('a recalled message that comes again as recalled (history, a sync from nothing) replaces the held text', () => {
      const s = stores();
      incoming.applyMessage(s, message(1), live);
      incoming.applyHistory(
        s,
        {
          type: 'history',
          conv: CONV,
          messages: [{ ...message(1), kind: 'recalled', body: '' }, recall(2, 1)],
          hasMore: false,
        },
        live,
      );
      expect(held(s)).toEqual([
        [1, 'recalled', ''],
        [2, 'system', '{"event":"recalled","seq":1}'],
      ]);
      // A recalled message never turns back into its text.
      incoming.applyHistory(s, { type: 'history', conv: CONV, messages: [message(1)], hasMore: false }, live);
      expect(held(s)[0]).toEqual([1, 'recalled', '']);
    });

    it("a group's recall by a manager: 群主撤回了一条成员消息, once the members' roles are known", () => {
      const s = stores();
      incoming.applySessions(s, { type: 'sessions', sessions: [groupEntry], more: false });
      const OWNER = 'uOwner000001';
      incoming.applyMessage(s, message(2, PEER.id, GROUP), live);
      // A recall changes nothing of the group itself: no refetch of its details.
      expect(incoming.applyMessage(s, recall(3, 2, OWNER, GROUP), live)).toEqual([]);
      expect(s.sessions.find(GROUP)?.preview).toBe('"群成员"撤回了一条成员消息');
      const group = {
        id: 'gGroup000001',
        conv: GROUP,
        name: '周末爬山',
        avatar: '',
        notice: '',
        owner: OWNER,
        memberCount: 3,
      };
      s.groups.set(
        GROUP,
        group,
        [
          { id: OWNER, nickname: '群主', avatar: '', role: 'owner' },
          { id: PEER.id, nickname: PEER.nickname, avatar: '', role: 'member' },
          { id: ME.id, nickname: ME.nickname, avatar: '', role: 'member' },
        ],
        ME.id,
      );
      s.sessions.refreshGroups();
      expect(s.sessions.find(GROUP)?.preview).toBe('群主撤回了一条成员消息');
    });
  });
});
