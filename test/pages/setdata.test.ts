import type { ChatMessage, SessionEntry } from '../../contract/frames';
import type { ChatData } from '../../miniprogram/pages/chat/chat';
import type { IndexData } from '../../miniprogram/pages/index/index';
import { listPatch } from '../../miniprogram/utils/bind';
import { offlinePhone } from '../support/app';
import { renderPage, settle, texts, type RenderedPage } from '../support/pages';
import { SESSION_PAGE } from '../../miniprogram/stores/sessions';

const ME = 'uMe000000001';
const PEER = 'uPeer0000001';
const CONV = `dm:${ME}:${PEER}`;

function message(seq: number, from = PEER, conv = CONV): ChatMessage {
  return { conv, seq, cid: `c${seq}`, from, kind: 'text', body: `message number ${seq}`, ts: 1_700_000_000_000 + seq };
}

/** The user whose screens are measured, on a phone that never connects: its stores are filled as frames would fill them. */
const offline = () => offlinePhone({ id: ME, nickname: '我', avatar: '' });

/** Every setData payload the page makes from now on, as JSON byte counts and key lists. */
function spySetData(page: RenderedPage<unknown>) {
  const calls: Array<Record<string, unknown>> = [];
  const instance = page.instance as unknown as { setData(data: Record<string, unknown>): void };
  const original = instance.setData.bind(instance);
  instance.setData = (data) => {
    calls.push(data);
    original(data);
  };
  return calls;
}

const bytes = (payload: Record<string, unknown>) => Buffer.byteLength(JSON.stringify(payload));

describe('setData cost', () => {
  async function incomingMessageCost(listLength: number) {
    const { client, stores } = offline();
    stores.messages.addHistory(
      CONV,
      Array.from({ length: listLength }, (_, i) => message(i + 1)),
      false,
      ME,
      true,
    );
    const page = renderPage<ChatData>('chat', client, { conv: CONV });
    await settle();
    // The page renders the newest page of the conversation, however long it is.
    expect(page.data.messages).toHaveLength(Math.min(listLength, 20));
    const calls = spySetData(page);
    stores.messages.addStored([message(listLength + 1)], ME);
    await settle();
    page.detach();
    const payload = calls.find((call) => Object.keys(call).some((key) => key.startsWith('messages')));
    if (!payload) throw new Error('no setData for the new message');
    const whole = bytes({ messages: stores.messages.view(CONV).items });
    return { payload, size: bytes(payload), whole };
  }

  it('an incoming message costs the same in a 10-message and a 5,000-message conversation', async () => {
    const small = await incomingMessageCost(10);
    const large = await incomingMessageCost(5000);
    expect(Object.keys(small.payload)).toEqual(['messages[10]']);
    expect(Object.keys(large.payload)).toEqual(['messages[20]']);
    // Only the digits of the index and of the seq, ts and cid differ.
    expect(Math.abs(large.size - small.size)).toBeLessThanOrEqual(10);
    // One message and its decorations (time, tips, names, quote, voice): a few hundred bytes.
    expect(large.size).toBeLessThan(450);
    expect(large.whole).toBeGreaterThan(500 * large.size);
  });

  it('a new message in one of 1,000 sessions sends only the entries that moved or changed', async () => {
    const { client, stores } = offline();
    const sessions: SessionEntry[] = Array.from({ length: 1000 }, (_, i) => {
      const peer = `uPeer${String(i).padStart(7, '0')}`;
      const conv = `dm:${ME}:${peer}`;
      const last = message(1, peer, conv);
      last.ts = 1_700_000_000_000 - i * 1000;
      return {
        conv,
        peer: { id: peer, nickname: `用户${i}`, avatar: '' },
        last,
        lastSeq: 1,
        readSeq: 0,
        peerReadSeq: 0,
        unread: 1,
      };
    });
    stores.sessions.replaceAll(sessions);
    const page = renderPage<IndexData>('index', client);
    await settle();
    // Windowed: the top of the list is rendered, a page more per scroll to the bottom.
    expect(page.data.sessions).toHaveLength(SESSION_PAGE);
    expect(page.data.more).toBe(true);
    const calls = spySetData(page);

    // The top conversation gets a message: its entry changes in place.
    const top = sessions[0];
    stores.sessions.applyMessage({ ...message(2, top.peer.id, top.conv), ts: 1_800_000_000_000 }, ME, false);
    await settle();
    expect(calls).toHaveLength(1);
    // Only the fields of the top entry that changed, by path.
    expect(Object.keys(calls[0]).every((key) => key.startsWith('sessions[0].'))).toBe(true);
    expect(calls[0]).toMatchObject({ 'sessions[0].unread': 2, 'sessions[0].badge': '2', 'sessions[0].lastSeq': 2 });
    expect(calls[0]).not.toHaveProperty(['sessions[0].title']);
    expect(bytes(calls[0])).toBeLessThan(600);

    // The third moves to the top: three entries change, not a thousand.
    const third = sessions[2];
    stores.sessions.applyMessage({ ...message(2, third.peer.id, third.conv), ts: 1_800_000_000_001 }, ME, false);
    await settle();
    expect(calls).toHaveLength(2);
    const touched = new Set(Object.keys(calls[1]).map((key) => /^sessions\[(\d+)\]/.exec(key)?.[1]));
    expect([...touched].sort()).toEqual(['0', '1', '2']);
    expect(bytes(calls[1])).toBeLessThan(1500);
    expect(page.data.sessions.slice(0, 3).map((item) => item.conv)).toEqual([third.conv, top.conv, sessions[1].conv]);
    expect(page.data.sessions).toHaveLength(SESSION_PAGE);

    // Reading it changes its read fields only.
    stores.sessions.markRead(third.conv, 2);
    await settle();
    expect(Object.keys(calls[2]).sort()).toEqual(['sessions[0].badge', 'sessions[0].readSeq', 'sessions[0].unread']);
    expect(page.data.sessions[0].unread).toBe(0);

    // One deep in the list (the 900th) moves to the top: at most the rendered window changes,
    // not the 900 entries above its old place.
    const deep = sessions[899];
    stores.sessions.applyMessage({ ...message(2, deep.peer.id, deep.conv), ts: 1_800_000_000_002 }, ME, false);
    await settle();
    expect(calls).toHaveLength(4);
    expect(page.data.sessions[0].conv).toBe(deep.conv);
    expect(page.data.sessions).toHaveLength(SESSION_PAGE);
    // The window, and no more: an entry (of either kind: dm or group fields) is under 500 bytes.
    expect(bytes(calls[3])).toBeLessThan(SESSION_PAGE * 500);
    page.detach();
  });

  it('the session list grows a page at a time as it is scrolled to the bottom, to the last entry', async () => {
    const { client, stores } = offline();
    const total = 2 * SESSION_PAGE + 5;
    stores.sessions.replaceAll(
      Array.from({ length: total }, (_, i) => {
        const peer = `uPeer${String(i).padStart(7, '0')}`;
        const conv = `dm:${ME}:${peer}`;
        return {
          conv,
          peer: { id: peer, nickname: `用户${i}`, avatar: '' },
          last: { ...message(1, peer, conv), ts: 1_700_000_000_000 - i * 1000 },
          lastSeq: 1,
          readSeq: 1,
          peerReadSeq: 0,
          unread: 0,
        };
      }),
    );
    const page = renderPage<IndexData>('index', client);
    await settle();
    const rendered = () => page.querySelectorAll('.session').length;
    expect(rendered()).toBe(SESSION_PAGE);
    expect(page.querySelector('.more')).toBeTruthy();
    const calls = spySetData(page);
    const scrollToBottom = (page.instance as unknown as { onReachBottom(): void }).onReachBottom.bind(page.instance);

    scrollToBottom();
    await settle();
    expect(rendered()).toBe(2 * SESSION_PAGE);
    // Only the new entries go over, appended by index.
    expect(Object.keys(calls[0]).filter((key) => key.startsWith('sessions['))).toHaveLength(SESSION_PAGE);
    expect(Object.keys(calls[0])).toContain(`sessions[${SESSION_PAGE}]`);

    scrollToBottom();
    await settle();
    expect(rendered()).toBe(total);
    expect(page.data.more).toBe(false);
    // A list longer than one window ends with WeChat's end marker.
    expect(texts(page, '.more')).toEqual(['没有更多了']);
    expect(texts(page, '.name').at(-1)).toBe(`用户${total - 1}`);

    // At the end nothing more happens.
    scrollToBottom();
    await settle();
    expect(calls).toHaveLength(2);
    page.detach();
  });
});

describe('listPatch', () => {
  const a = { id: 'a', n: 1, x: 'same', y: 'same' };
  const b = { id: 'b', n: 1, x: 'same', y: 'same' };
  const c = { id: 'c', n: 1, x: 'same', y: 'same' };

  it('sends appended items by index and changed fields by path', () => {
    expect(listPatch('list', [a, b], [a, b, c])).toEqual({ 'list[2]': c });
    const b2 = { ...b, n: 2 };
    expect(listPatch('list', [a, b, c], [a, b2, c])).toEqual({ 'list[1].n': 2 });
  });

  it('sends the whole list when it shrinks or most of it changed', () => {
    expect(listPatch('list', [a, b, c], [a, b])).toEqual({ list: [a, b] });
    expect(listPatch('list', [a, b, c], [c, a, b])).toEqual({ list: [c, a, b] });
  });

  it('sends a whole item when most of its fields changed or one was removed', () => {
    const changed = { id: 'b', n: 5, x: 'new', y: 'new' };
    expect(listPatch('list', [a, b, c, a], [a, changed, c, a])).toEqual({ 'list[1]': changed });
    const fewer = { id: 'b', n: 1, x: 'same' };
    expect(listPatch('list', [a, b, c, a], [a, fewer, c, a])).toEqual({ 'list[1]': fewer });
  });
});
