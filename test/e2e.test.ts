import type { ChatData } from '../miniprogram/pages/chat/chat';
import type { ContactsData } from '../miniprogram/pages/contacts/contacts';
import { waitFor, type Phone } from './support/app';
import { useServer } from './support/fixture';
import { renderPage, settle, texts } from './support/pages';

/**
 * Two phones, each with its own wx, storage, chat client and stores, chat both ways through one
 * real server process, driving and reading the real pages.
 */
describe('two users chat end to end', () => {
  const fixture = useServer();
  let alice: Phone;
  let bob: Phone;

  beforeAll(async () => {
    alice = await fixture.phone();
    bob = await fixture.phone();
  });

  it('delivers both ways, with unread counts that rise and fall as messages are read', async () => {
    const navigateTo = jest
      .spyOn(wx, 'navigateTo')
      .mockImplementation(() => Promise.resolve({ errMsg: 'navigateTo:ok' }));
    const aliceName = alice.client.stores.me.user!.nickname;
    const bobName = bob.client.stores.me.user!.nickname;

    // Both start on the session list; bob's is empty.
    const aliceList = renderPage('index', alice.client);
    const bobList = renderPage('index', bob.client);
    await settle();
    expect(bobList.querySelectorAll('.session')).toHaveLength(0);

    // Alice finds bob in contacts (a search: they have not talked yet) and opens the conversation.
    const aliceContacts = renderPage<ContactsData>('contacts', alice.client);
    await settle();
    aliceContacts.querySelector('.search-input')!.dispatchEvent('input', { detail: { value: bobName } });
    await waitFor(() => aliceContacts.data.users.some((user) => user.nickname === bobName), 'bob in contacts');
    await settle();
    const bobIndex = aliceContacts.data.users.findIndex((user) => user.nickname === bobName);
    aliceContacts.querySelectorAll('.contact')[bobIndex].dispatchEvent('tap');
    await settle();
    const url = (navigateTo.mock.calls.at(-1)![0] as { url: string }).url;
    const conv = url.split('conv=')[1];

    // Alice sends two messages from the message page.
    const aliceChat = renderPage<ChatData>('chat', alice.client, { conv });
    await settle();
    for (const text of ['你好，Bob', '周末有空吗？']) {
      aliceChat.querySelector('.input')!.dispatchEvent('input', { detail: { value: text } });
      await settle();
      aliceChat.querySelector('.send')!.dispatchEvent('tap');
      await settle();
    }
    expect(texts(aliceChat, '.row.mine .bubble')).toEqual(['你好，Bob', '周末有空吗？']);

    // Bob's list shows alice once, with 2 unread and the last message.
    await waitFor(() => bob.client.stores.sessions.find(conv)?.unread === 2, 'bob to receive both');
    await settle();
    expect(texts(bobList, '.name')).toEqual([aliceName]);
    expect(texts(bobList, '.badge')).toEqual(['2']);
    expect(texts(bobList, '.preview')).toEqual(['周末有空吗？']);
    expect(bob.client.stores.sessions.totalUnread).toBe(2);

    // Bob opens it: the badge goes, the messages are there, alice learns they were read.
    bobList.querySelector('.session')!.dispatchEvent('tap');
    await settle();
    expect(texts(bobList, '.badge')).toEqual([]);
    const bobChat = renderPage<ChatData>('chat', bob.client, { conv });
    await settle();
    expect(texts(bobChat, '.row.theirs .bubble')).toEqual(['你好，Bob', '周末有空吗？']);
    await waitFor(() => alice.client.stores.sessions.find(conv)?.peerReadSeq === 2, 'alice to see the read state');

    // Bob replies; alice, with the conversation open, sees it at once and nothing unread.
    bobChat.querySelector('.input')!.dispatchEvent('input', { detail: { value: '有空，去爬山吧' } });
    await settle();
    bobChat.querySelector('.send')!.dispatchEvent('tap');
    await waitFor(() => alice.client.stores.messages.view(conv).items.length === 3, 'alice to receive the reply');
    await settle();
    expect(texts(aliceChat, '.bubble')).toEqual(['你好，Bob', '周末有空吗？', '有空，去爬山吧']);
    expect(texts(aliceChat, '.row.theirs .bubble')).toEqual(['有空，去爬山吧']);
    expect(texts(aliceList, '.badge')).toEqual([]);
    expect(texts(aliceList, '.preview')).toEqual(['有空，去爬山吧']);

    // Alice leaves the conversation; bob's next message counts as unread on her list.
    aliceChat.detach();
    bobChat.querySelector('.input')!.dispatchEvent('input', { detail: { value: '早上八点出发' } });
    await settle();
    bobChat.querySelector('.send')!.dispatchEvent('tap');
    await waitFor(() => alice.client.stores.sessions.find(conv)?.unread === 1, 'alice’s unread');
    await settle();
    expect(texts(aliceList, '.badge')).toEqual(['1']);
    expect(texts(aliceList, '.name')).toEqual([bobName]);

    // And reading it brings her back to zero.
    aliceList.querySelector('.session')!.dispatchEvent('tap');
    await settle();
    expect(texts(aliceList, '.badge')).toEqual([]);
    expect(alice.client.stores.sessions.totalUnread).toBe(0);
    await waitFor(() => bob.client.stores.sessions.find(conv)?.peerReadSeq === 4, 'bob to see it read');

    // Every message exists exactly once on each side, in the same order.
    const bodies = (phone: Phone) =>
      phone.client.stores.messages.view(conv).items.map((item) => `${item.seq}:${item.body}`);
    await waitFor(() => bodies(alice).length === 4, 'alice to hold all four');
    expect(bodies(alice)).toEqual(['1:你好，Bob', '2:周末有空吗？', '3:有空，去爬山吧', '4:早上八点出发']);
    expect(bodies(bob)).toEqual(bodies(alice));
    navigateTo.mockRestore();
  });
});
