/**
 * The session list in pages (issue 14, attack 1), the client's half against the real server: the
 * first page from `sync` replaces the list, next pages are added to it, each conversation once;
 * a conversation the sync's replay total left out shows its newest messages when opened.
 */
import { LIMITS } from '../../contract/limits';
import { createPhone, started, waitFor, type Phone } from '../support/app';
import { startWithManySessions, type ManySessions } from '../support/many-sessions';

describe('session list pages against the real server', () => {
  let world: ManySessions;
  const phones: Phone[] = [];
  // 25 busy conversations (60 messages each) on top of 230 quiet ones: 255 in all, three pages,
  // and a first sync whose replay total (1,000) runs out after 20 of the busy ones.
  beforeAll(async () => {
    world = await startWithManySessions({ quiet: 230, busy: 25, busyMessages: 60 });
  });
  afterEach(() => {
    for (const phone of phones.splice(0)) phone.client.stop();
  });
  afterAll(async () => {
    await world.server.stop();
  });
  const phone = async () => {
    const made = createPhone(world.server.url, { storage: world.storage() });
    phones.push(made);
    return started(made);
  };

  it('lists the first page, then adds each next page once, asking once at a time, until the end', async () => {
    const me = await phone();
    const sessions = me.client.stores.sessions;
    expect(sessions.list.map((item) => item.conv)).toEqual(world.convs.slice(0, LIMITS.sessionsPage));
    expect(sessions.more).toBe(true);

    expect(me.client.loadMoreSessions()).toBe(true);
    // A second scroll to the end while the page is on its way asks nothing more.
    expect(me.client.loadMoreSessions()).toBe(false);
    expect(sessions.loadingMore).toBe(true);
    await waitFor(() => sessions.list.length === 2 * LIMITS.sessionsPage, 'the second page');
    expect(sessions.loadingMore).toBe(false);
    expect(sessions.more).toBe(true);

    expect(me.client.loadMoreSessions()).toBe(true);
    await waitFor(() => !sessions.loadingMore, 'the third page');
    expect(sessions.more).toBe(false);
    expect(me.client.loadMoreSessions()).toBe(false);
    expect(sessions.list.map((item) => item.conv)).toEqual(world.convs);
  });

  it('a pull-down refresh starts over from the first page; paging again adds no duplicates', async () => {
    const me = await phone();
    const sessions = me.client.stores.sessions;
    me.client.loadMoreSessions();
    await waitFor(() => sessions.list.length === 2 * LIMITS.sessionsPage, 'the second page');
    await me.client.refresh();
    expect(sessions.list.map((item) => item.conv)).toEqual(world.convs.slice(0, LIMITS.sessionsPage));
    for (let page = 0; page < 3 && sessions.more; page++) {
      expect(me.client.loadMoreSessions()).toBe(true);
      await waitFor(() => !sessions.loadingMore, `page ${page + 2}`);
    }
    expect(sessions.list.map((item) => item.conv)).toEqual(world.convs);
  });

  it('a conversation the sync left out (truncated, nothing replayed) shows its newest messages when opened', async () => {
    const me = await phone();
    const messages = me.client.stores.messages;
    // The 20 most recent busy conversations got their newest 50 each; the 21st got nothing.
    const replayed = world.convs[0];
    expect(messages.view(replayed).items.map((item) => item.seq)).toEqual(
      Array.from({ length: LIMITS.syncPerConversation }, (_, i) => 11 + i),
    );
    expect(messages.view(replayed).hasMore).toBe(true);
    const left = world.convs[LIMITS.syncMessages / LIMITS.syncPerConversation];
    expect(messages.view(left)).toEqual({ items: [], hasMore: false, loaded: false });

    me.client.openConversation(left);
    await waitFor(() => messages.view(left).loaded, 'its newest page');
    const seqs = messages.view(left).items.map((item) => item.seq);
    expect(seqs[seqs.length - 1]).toBe(world.lastSeq.get(left));
    expect(seqs).toEqual(Array.from({ length: LIMITS.historyDefault }, (_, i) => 61 - LIMITS.historyDefault + i));
    expect(messages.view(left).hasMore).toBe(true);
    me.client.closeConversation(left);
  });
});
