/**
 * 转发 (forward) against the real server: texts and an uploaded image sent again by the user to a
 * dm and a group, as new messages in order, the image by its url (no second upload), through the
 * outbox (a kill before the ack loses nothing).
 */
import fs from 'node:fs';
import path from 'node:path';
import { directConversationId } from '../../contract/conversations';
import type { OutboxEntry } from '../../miniprogram/core/outbox';
import type { Platform } from '../../miniprogram/core/platform';
import type { MessageItem } from '../../miniprogram/stores/messages';
import { stored, waitFor, type Phone } from '../support/app';
import { useServer } from '../support/fixture';
import { PNG } from '../support/fixtures';
import { tempDataDir } from '../support/tmp';

/** Wraps the phone's wx so that every upload it starts is counted. */
function countUploads(counter: { uploads: number }): (platform: Platform) => Platform {
  return (platform) => ({
    ...platform,
    uploadFile(options: WechatMiniprogram.UploadFileOption) {
      counter.uploads++;
      return platform.uploadFile(options);
    },
  });
}

function itemsOf(phone: Phone, conv: string): MessageItem[] {
  return phone.client.stores.messages.view(conv).items;
}

/** The stored messages of a conversation as [from, kind, body], without the group's system tips. */
function said(phone: Phone, conv: string): Array<[string, string, string]> {
  return itemsOf(phone, conv)
    .filter((item) => item.seq > 0 && item.kind !== 'system')
    .map((item) => [item.from, item.kind, item.body]);
}

describe('转发: forwarding messages as new ones from the user', () => {
  const fixture = useServer();

  it('sends texts and an image (its url, not a new upload) to a new dm and a group, in order', async () => {
    const counter = { uploads: 0 };
    const me = await fixture.phone({ platform: countUploads(counter) });
    const bob = await fixture.phone();
    const carol = await fixture.phone();
    const dave = await fixture.phone();
    const myId = me.client.stores.me.id;

    // The source: a dm with bob holding a text and an image.
    const source = me.client.conversationWith(bob.client.stores.me.user!);
    me.client.sendText(source, '周六三点，断桥见');
    const file = path.join(tempDataDir(), 'lotus.png');
    fs.writeFileSync(file, PNG);
    me.client.sendImage(source, file);
    await waitFor(() => itemsOf(bob, source).length === 2, 'the source messages at bob');
    await waitFor(() => itemsOf(me, source).every((item) => item.seq > 0), 'the source acks');
    expect(counter.uploads).toBe(1);
    const url = itemsOf(me, source)[1].body;
    expect(url).toMatch(/^http:\/\/.*\/uploads\//);

    // The targets: a group with carol and dave, and a dm with carol the list has never shown.
    const group = await me.client.groups.create([carol.client.stores.me.user!, dave.client.stores.me.user!]);
    const dm = directConversationId(myId, carol.client.stores.me.id);
    expect(me.client.stores.sessions.find(dm)).toBeUndefined();

    const queued = me.client.forward(
      [dm, group],
      [
        { kind: 'text', body: '  周六三点，断桥见  ' },
        { kind: 'image', body: url },
        { kind: 'text', body: '别迟到' },
      ],
    );
    expect(queued).toBe(6);
    // Shown at once in each target as sending, and the dm listed at once.
    expect(itemsOf(me, dm).map((item) => [item.kind, item.status])).toEqual([
      ['text', 'sending'],
      ['image', 'sending'],
      ['text', 'sending'],
    ]);
    expect(me.client.stores.sessions.find(dm)?.title).toBe(carol.client.stores.me.user!.nickname);

    const expected: Array<[string, string, string]> = [
      [myId, 'text', '周六三点，断桥见'],
      [myId, 'image', url],
      [myId, 'text', '别迟到'],
    ];
    await waitFor(() => said(carol, dm).length === 3, 'the forwards in the dm');
    expect(said(carol, dm)).toEqual(expected);
    await waitFor(() => said(dave, group).length === 3, 'the forwards in the group');
    expect(said(dave, group)).toEqual(expected);
    await waitFor(() => said(carol, group).length === 3, 'the forwards in the group at carol');

    // New messages: new cids, acked here, nothing left in the outbox; the image was not uploaded again.
    await waitFor(() => itemsOf(me, group).every((item) => item.status === 'sent'), 'the acks');
    const sourceCids = new Set(itemsOf(me, source).map((item) => item.cid));
    for (const item of [...itemsOf(me, dm), ...itemsOf(me, group)]) expect(sourceCids.has(item.cid)).toBe(false);
    expect(stored<OutboxEntry[]>(me, 'chat.outbox')).toEqual([]);
    expect(counter.uploads).toBe(1);
    expect(me.client.stores.sessions.list.slice(0, 2).map((item) => item.conv)).toEqual([group, dm]);
  });

  it('queues nothing for an empty text or an image without a url', async () => {
    const me = await fixture.phone();
    const bob = await fixture.phone();
    const conv = me.client.conversationWith(bob.client.stores.me.user!);
    expect(
      me.client.forward(
        [conv],
        [
          { kind: 'text', body: '   ' },
          { kind: 'image', body: '' },
        ],
      ),
    ).toBe(0);
    expect(itemsOf(me, conv)).toEqual([]);
  });

  it('survives the app being killed before the acks: the relaunch sends them, each once', async () => {
    const { me, peer, conv } = await fixture.pair();
    const carol = await fixture.phone();
    const group = await me.client.groups.create([peer.client.stores.me.user!, carol.client.stores.me.user!]);
    await waitFor(() => carol.client.stores.sessions.find(group) !== undefined, 'the group at carol');

    // No connection: the forwards wait in the outbox; then the app is killed.
    me.client.stop();
    const queued = me.client.forward(
      [conv, group],
      [
        { kind: 'text', body: 'one' },
        { kind: 'text', body: 'two' },
      ],
    );
    expect(queued).toBe(4);
    const storage = new Map(me.adapter.storage);
    expect(stored<OutboxEntry[]>(me, 'chat.outbox')?.map((entry) => [entry.conv, entry.body])).toEqual([
      [conv, 'one'],
      [conv, 'two'],
      [group, 'one'],
      [group, 'two'],
    ]);

    expect(said(peer, conv)).toEqual([]);

    const relaunched = await fixture.phone({ storage });
    const myId = relaunched.client.stores.me.id;
    await waitFor(() => said(peer, conv).length === 2, 'the forwards in the dm');
    await waitFor(() => said(carol, group).length === 2, 'the forwards in the group');
    expect(said(peer, conv)).toEqual([
      [myId, 'text', 'one'],
      [myId, 'text', 'two'],
    ]);
    expect(said(carol, group)).toEqual([
      [myId, 'text', 'one'],
      [myId, 'text', 'two'],
    ]);
    await waitFor(() => stored<OutboxEntry[]>(relaunched, 'chat.outbox')?.length === 0, 'the outbox to drain');
    expect(said(relaunched, conv).map(([, , body]) => body)).toEqual(['one', 'two']);
  });
});
