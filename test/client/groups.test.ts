import type { Phone } from '../support/app';
import { waitFor } from '../support/app';
import { useServer } from '../support/fixture';

/** The texts (bodies) a phone holds in a conversation, stored ones only. */
function texts(phone: Phone, conv: string): string[] {
  return phone.client.stores.messages
    .view(conv)
    .items.filter((item) => item.seq > 0 && item.kind !== 'system')
    .map((item) => item.body);
}

function systemEvents(phone: Phone, conv: string): string[] {
  return phone.client.stores.messages
    .view(conv)
    .items.filter((item) => item.kind === 'system')
    .map((item) => (JSON.parse(item.body) as { event: string }).event);
}

describe('groups through the client, against the real server', () => {
  const fixture = useServer({ each: true });
  const phone = fixture.phone;

  async function threeInAGroup(): Promise<{ owner: Phone; bob: Phone; carol: Phone; conv: string }> {
    const owner = await phone();
    const bob = await phone();
    const carol = await phone();
    const conv = await owner.client.groups.create([bob.client.stores.me.user!, carol.client.stores.me.user!]);
    for (const member of [owner, bob, carol]) {
      await waitFor(() => member.client.stores.sessions.find(conv)?.lastSeq === 1, 'every member to list the group');
    }
    return { owner, bob, carol, conv };
  }

  it('creates a group named after its first members; every member lists it with its `created` tip', async () => {
    const { owner, bob, carol, conv } = await threeInAGroup();
    const names = [owner, bob, carol].map((p) => p.client.stores.me.user!.nickname);
    const entry = bob.client.stores.sessions.find(conv)!;
    expect(entry).toMatchObject({ isGroup: true, title: names.join('、'), left: false, mentioned: false });
    expect(entry.group).toMatchObject({ name: names.join('、'), memberCount: 3 });
    // The tip, from bob's point of view.
    const tip = `"${names[0]}"邀请你和"${names[2]}"加入了群聊`;
    await waitFor(() => bob.client.stores.sessions.find(conv)!.preview === tip, 'the tip as preview, with names');
    // A tip counts for no badge.
    expect(bob.client.stores.sessions.find(conv)).toMatchObject({ unread: 0, badge: '' });
    // The owner has the details (it created the group); roles as the server says.
    const details = owner.client.stores.groups.details(conv)!;
    expect(details.myRole).toBe('owner');
    expect(details.members.map((m) => m.role)).toEqual(['owner', 'member', 'member']);
  });

  it('sends, mentions and reads: `昵称: 内容`, [有人@我] until read, receipts', async () => {
    const { owner, bob, carol, conv } = await threeInAGroup();
    const bobId = bob.client.stores.me.id;
    owner.client.sendText(conv, '@bob 周末爬山吗', { mentions: [bobId] });
    await waitFor(() => bob.client.stores.sessions.find(conv)?.lastSeq === 2, 'bob to get the message');
    const entry = bob.client.stores.sessions.find(conv)!;
    expect(entry).toMatchObject({ unread: 1, mentioned: true, badge: '1' });
    await waitFor(() => carol.client.stores.sessions.find(conv)?.lastSeq === 2, 'carol to get it');
    // Carol is not mentioned.
    expect(carol.client.stores.sessions.find(conv)).toMatchObject({ unread: 1, mentioned: false });
    // The preview names the sender once bob knows the members.
    await bob.client.groups.load(conv);
    const ownerName = owner.client.stores.me.user!.nickname;
    expect(bob.client.stores.sessions.find(conv)!.preview).toBe(`${ownerName}: @bob 周末爬山吗`);

    // Nobody has read it yet; bob opens the conversation and reads it.
    expect((await owner.client.groups.receipts(conv, 2)).unread.map((u) => u.id).sort()).toEqual(
      [bobId, carol.client.stores.me.id].sort(),
    );
    bob.client.openConversation(conv);
    await waitFor(() => bob.client.stores.sessions.find(conv)?.mentioned === false, 'the mention cleared by reading');
    await waitFor(async () => (await owner.client.groups.receipts(conv, 2)).read.length === 1, 'bob read it');
    expect(owner.client.stores.groups.receipt(conv)).toEqual({ seq: 2, read: 1, unread: 1 });
  });

  it('a fourth member invited later sees only what follows; removed and left members keep their entry, marked', async () => {
    const { owner, bob, carol, conv } = await threeInAGroup();
    owner.client.sendText(conv, 'before dave');
    await waitFor(() => carol.client.stores.sessions.find(conv)?.lastSeq === 2, 'the first message');
    const dave = await phone();
    await bob.client.groups.invite(conv, [dave.client.stores.me.id]);
    await waitFor(() => dave.client.stores.sessions.find(conv) !== undefined, 'dave to list the group');
    owner.client.sendText(conv, 'after dave');
    await waitFor(() => dave.client.stores.sessions.find(conv)?.lastSeq === 4, 'dave to get the next message');
    dave.client.openConversation(conv);
    await waitFor(() => texts(dave, conv).includes('after dave'), 'dave holds the message');
    await dave.client.loadOlder(conv);
    expect(texts(dave, conv)).toEqual(['after dave']);
    expect(systemEvents(dave, conv)).toEqual(['joined']);

    // The owner removes carol: she gets that message and nothing after; her entry stays, left.
    await owner.client.groups.remove(conv, carol.client.stores.me.id);
    await waitFor(() => carol.client.stores.sessions.find(conv)?.left === true, 'carol to be out');
    expect(carol.client.stores.sessions.find(conv)!.preview).toBe('你被移出了群聊');
    owner.client.sendText(conv, 'without carol');
    await waitFor(() => dave.client.stores.sessions.find(conv)?.last?.body === 'without carol', 'dave gets it');
    expect(carol.client.stores.sessions.find(conv)!.last?.body).not.toBe('without carol');

    // Bob leaves on his own.
    await bob.client.groups.leave(conv);
    expect(bob.client.stores.sessions.find(conv)!.left).toBe(true);
    await owner.client.groups.load(conv);
    expect(owner.client.stores.groups.details(conv)!.members.map((m) => m.id)).toEqual([
      owner.client.stores.me.id,
      dave.client.stores.me.id,
    ]);
  });

  it('rename and dismiss: the tips read from each side, every member left after `dismissed`', async () => {
    const { owner, bob, conv } = await threeInAGroup();
    const before = owner.client.stores.sessions.find(conv)!.title;
    await owner.client.groups.update(conv, { name: '周日爬山' });
    await waitFor(() => bob.client.stores.sessions.find(conv)?.title === '周日爬山', 'the new name at bob');
    const ownerName = owner.client.stores.me.user!.nickname;
    await waitFor(() => bob.client.stores.sessions.find(conv)!.preview.includes('改名'), 'the tip');
    expect(bob.client.stores.sessions.find(conv)!.preview).toBe(`"${ownerName}"将"${before}"改名为"周日爬山"`);
    await waitFor(() => owner.client.stores.sessions.find(conv)!.preview.startsWith('你将'), 'the own tip');

    await owner.client.groups.dismiss(conv);
    await waitFor(() => bob.client.stores.sessions.find(conv)?.left === true, 'bob to see it dismissed');
    expect(bob.client.stores.sessions.find(conv)!.preview).toBe('群主已解散该群聊');
    expect(owner.client.stores.sessions.find(conv)!.left).toBe(true);
  });

  it('a member away through several changes syncs them in order on reconnecting', async () => {
    const { owner, bob, conv } = await threeInAGroup();
    bob.client.stop();
    const dave = await phone();
    await owner.client.groups.invite(conv, [dave.client.stores.me.id]);
    await owner.client.groups.update(conv, { name: '新名字' });
    owner.client.sendText(conv, 'while bob was away');
    await owner.client.groups.setAdmin(conv, dave.client.stores.me.id, true);
    await waitFor(() => owner.client.stores.sessions.find(conv)?.lastSeq === 5, 'the owner to have all five');

    bob.client.start();
    await waitFor(() => bob.client.stores.sessions.find(conv)?.lastSeq === 5, 'bob to sync');
    expect(bob.client.stores.sessions.find(conv)).toMatchObject({ title: '新名字', unread: 1 });
    bob.client.openConversation(conv);
    await waitFor(() => bob.client.stores.messages.view(conv).items.length >= 5, 'bob to hold every message');
    expect(systemEvents(bob, conv)).toEqual(['created', 'joined', 'updated', 'role']);
    expect(texts(bob, conv)).toEqual(['while bob was away']);
  });

  it('a send into a group the user is no longer in fails for good, with the reason', async () => {
    const { owner, bob, conv } = await threeInAGroup();
    await owner.client.groups.remove(conv, bob.client.stores.me.id);
    await waitFor(() => bob.client.stores.sessions.find(conv)?.left === true, 'bob out');
    const cid = bob.client.sendText(conv, 'still here?')!;
    await waitFor(
      () => bob.client.stores.messages.view(conv).items.find((item) => item.key === cid)?.status === 'failed',
      'the send to fail',
    );
  });

  it("a relaunch shows the group from the phone's cache before any network, named and with its tip", async () => {
    const { owner, bob, conv } = await threeInAGroup();
    owner.client.sendText(conv, '缓存里的群消息');
    await waitFor(() => bob.client.stores.sessions.find(conv)?.lastSeq === 2, 'bob to get it');
    await bob.client.groups.load(conv);
    await waitFor(() => bob.adapter.storage.has('chat.cache'), 'the cache to be written');
    await new Promise((resolve) => setTimeout(resolve, 400));
    bob.client.stop();
    // Pointed at nowhere: whatever shows comes from storage.
    const relaunched = fixture.unstarted('http://127.0.0.1:9', { storage: new Map(bob.adapter.storage) });
    const entry = relaunched.client.stores.sessions.find(conv);
    expect(entry).toMatchObject({ isGroup: true, title: owner.client.stores.sessions.find(conv)!.title, lastSeq: 2 });
    expect(entry!.group).toMatchObject({ memberCount: 3 });
    expect(relaunched.client.stores.messages.view(conv).items.map((item) => item.body)).toContain('缓存里的群消息');
  });
});
