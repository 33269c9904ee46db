import fs from 'node:fs';
import path from 'node:path';
import type { ChatData } from '../../miniprogram/pages/chat/chat';
import { waitFor, type Phone } from '../support/app';
import { useServer } from '../support/fixture';
import { renderPage, settle } from '../support/pages';

const ROOT = path.resolve(__dirname, '../../miniprogram');

/** The message bodies a page shows, in order. */
function bodies(data: ChatData): string[] {
  return data.messages.filter((item) => item.kind === 'text').map((item) => item.body);
}

async function holds(phone: Phone, conv: string, seq: number): Promise<void> {
  await waitFor(() => phone.client.stores.sessions.find(conv)?.lastSeq === seq, `message ${seq}`);
}

describe('a reminder opens the conversation: the app cold-started on pages/chat/chat?conv=…', () => {
  const fixture = useServer();
  afterEach(() => jest.restoreAllMocks());

  it('shows the cached messages before connecting, then the synced ones, and marks them read', async () => {
    const { me, peer, conv } = await fixture.pair();
    peer.client.sendText(conv, '第1条');
    peer.client.sendText(conv, '第2条');
    await holds(me, conv, 2);
    // The user closes the app; the peer writes on, and a reminder goes out for it.
    me.client.stop();
    peer.client.sendText(conv, '第3条');
    peer.client.sendText(conv, '第4条');
    await holds(peer, conv, 4);

    // WeChat starts the app on the conversation's page: the page renders before the client has
    // logged in or connected (App.onLaunch starts it; the socket opens later).
    const hideHome = jest.spyOn(wx, 'hideHomeButton');
    const cold = fixture.unstarted(fixture.url, { storage: new Map(me.adapter.storage) });
    const page = renderPage<ChatData>('chat', cold.client, { conv });
    await settle();
    expect(cold.client.stores.connection.state).not.toBe('ready');
    expect(bodies(page.data)).toEqual(['第1条', '第2条']);
    expect(page.data.title).toBe(peer.client.stores.me.user!.nickname);

    cold.client.start();
    await waitFor(() => bodies(page.data).length === 4, 'the synced messages');
    expect(bodies(page.data)).toEqual(['第1条', '第2条', '第3条', '第4条']);
    // Read here, and the server knows: the peer sees them read.
    expect(cold.client.stores.sessions.find(conv)).toMatchObject({ unread: 0 });
    await waitFor(() => peer.client.stores.sessions.find(conv)?.peerReadSeq === 4, 'the peer to see them read');

    // No page below it: WeChat's own 返回首页 button in the navigation bar relaunches the home page,
    // the session list. The page keeps WeChat's navigation bar and its home button.
    expect(hideHome).not.toHaveBeenCalled();
    const pageJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'pages/chat/chat.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(pageJson.navigationStyle ?? 'default').toBe('default');
    const appJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'app.json'), 'utf8')) as {
      pages: string[];
      tabBar: { list: Array<{ pagePath: string }> };
      window: Record<string, unknown>;
    };
    expect(appJson.pages[0]).toBe('pages/index/index');
    expect(appJson.tabBar.list[0].pagePath).toBe('pages/index/index');
    expect(appJson.window.navigationStyle ?? 'default').toBe('default');
    page.detach();
  });
});
