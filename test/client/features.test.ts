import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { waitFor } from '../support/app';
import { useServer } from '../support/fixture';
import { tempDataDir } from '../support/tmp';
import { PNG } from '../support/fixtures';

describe('chat client features against the real server', () => {
  const fixture = useServer();
  const { pair } = fixture;

  it('sends an image: shown at once from the phone, uploaded with progress, delivered as our url', async () => {
    const { me, peer, conv } = await pair();
    const file = path.join(tempDataDir(), 'photo.png');
    fs.writeFileSync(file, PNG);
    const progress: number[] = [];
    const cid = me.client.sendImage(conv, file)!;
    const first = me.client.stores.messages.view(conv).items[0];
    expect(first).toMatchObject({ kind: 'image', body: file, status: 'sending' });
    const seen = setInterval(() => {
      const item = me.client.stores.messages.view(conv).items[0];
      if (item?.progress !== undefined) progress.push(item.progress);
    }, 1);
    await waitFor(() => peer.client.stores.messages.view(conv).items.length === 1, 'the image at the peer');
    clearInterval(seen);
    const received = peer.client.stores.messages.view(conv).items[0];
    expect(received.kind).toBe('image');
    expect(received.body).toMatch(new RegExp(`^${fixture.url}/uploads/[A-Za-z0-9_-]+\\.png$`));
    const served = await new Promise<Buffer>((resolve, reject) =>
      http
        .get(received.body, (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => resolve(Buffer.concat(chunks)));
        })
        .on('error', reject),
    );
    expect(served).toEqual(PNG);
    await waitFor(() => me.client.stores.messages.view(conv).items[0].seq === 1, 'the ack');
    expect(me.client.stores.messages.view(conv).items[0]).toMatchObject({
      key: cid,
      body: received.body,
      status: 'sent',
    });
    expect(peer.client.stores.sessions.find(conv)?.preview).toBe('[图片]');
  });

  it('shows a failed image upload as failed and retries it on request', async () => {
    const { me, peer, conv } = await pair();
    const file = path.join(tempDataDir(), 'later.png');
    const cid = me.client.sendImage(conv, file)!;
    await waitFor(() => me.client.stores.messages.view(conv).items[0]?.status === 'failed', 'the failure');
    fs.writeFileSync(file, PNG);
    me.client.resend(cid);
    await waitFor(() => peer.client.stores.messages.view(conv).items.length === 1, 'the retried image');
    expect(peer.client.stores.messages.view(conv).items[0].kind).toBe('image');
  });

  it('pins (on the server) and deletes conversations (on this device), and keeps both across launches', async () => {
    const { me, peer, conv } = await pair();
    const other = await fixture.phone();
    const otherConv = me.client.conversationWith(other.client.stores.me.user!);
    peer.client.sendText(conv, 'older');
    await waitFor(() => me.client.stores.sessions.find(conv)?.lastSeq === 1, 'the first message');
    other.client.sendText(otherConv, 'newer');
    await waitFor(() => me.client.stores.sessions.list[0]?.conv === otherConv, 'the newer on top');

    await me.client.pin(conv, true);
    expect(me.client.stores.sessions.list.map((item) => [item.conv, item.pinned])).toEqual([
      [conv, true],
      [otherConv, false],
    ]);
    me.client.removeConversation(otherConv);
    expect(me.client.stores.sessions.list.map((item) => item.conv)).toEqual([conv]);

    // A relaunch keeps both, even after the server lists the deleted conversation again.
    const again = await fixture.phone({ storage: new Map(me.adapter.storage) });
    expect(again.client.stores.sessions.list.map((item) => [item.conv, item.pinned])).toEqual([[conv, true]]);

    // A new message brings the deleted conversation back.
    other.client.sendText(otherConv, 'are you there?');
    await waitFor(() => again.client.stores.sessions.find(otherConv) !== undefined, 'the conversation back');
    expect(again.client.stores.sessions.list.map((item) => item.conv)).toEqual([conv, otherConv]);
  });

  it('shows the peer typing for a few seconds, and not after their message arrives', async () => {
    const { me, peer, conv } = await pair();
    // Typing is relayed only in a stored conversation: one message first.
    me.client.sendText(conv, 'hi');
    await waitFor(() => peer.client.stores.messages.view(conv).items.length === 1, 'the first message');
    peer.client.typing(conv);
    peer.client.typing(conv); // throttled: one frame
    await waitFor(() => me.client.stores.people.isTyping(conv), 'the typing hint');
    peer.client.sendText(conv, 'done typing');
    await waitFor(() => me.client.stores.messages.view(conv).items.length === 2, 'the message');
    expect(me.client.stores.people.isTyping(conv)).toBe(false);
  });

  it('learns presence changes of the people it talks to', async () => {
    const { me, peer, conv } = await pair();
    me.client.sendText(conv, 'hello');
    await waitFor(() => peer.client.stores.messages.view(conv).items.length === 1, 'delivery');
    peer.client.stop();
    await waitFor(() => me.client.stores.people.online[peer.client.stores.me.id] === false, 'offline');
    peer.client.start();
    await waitFor(() => me.client.stores.people.online[peer.client.stores.me.id] === true, 'online again');
  });

  it('refreshes on request: the promise resolves once the server has answered', async () => {
    const { me } = await pair();
    const frames = me.adapter.liveTasks()[0];
    let syncs = 0;
    frames.ws.on('message', (data: Buffer) => {
      if (data.toString().includes('"type":"synced"')) syncs++;
    });
    await me.client.refresh();
    expect(syncs).toBe(1);
  });

  it('shows a peer’s new nickname and avatar at once, and one’s own on another device', async () => {
    const { me, peer, conv } = await pair();
    peer.client.sendText(conv, 'hi');
    await waitFor(() => me.client.stores.sessions.find(conv)?.lastSeq === 1, 'the conversation at me');
    const secondDevice = await fixture.phone({
      storage: new Map([['chat.deviceId', peer.adapter.storage.get('chat.deviceId')!]]),
    });
    const file = path.join(tempDataDir(), 'new-avatar.png');
    fs.writeFileSync(file, PNG);
    const user = await peer.client.updateProfile({ nickname: '新名字', avatarPath: file });
    await waitFor(() => me.client.stores.sessions.find(conv)?.title === '新名字', 'the new name in my list');
    expect(me.client.stores.sessions.find(conv)?.peer).toEqual(user);
    await waitFor(() => secondDevice.client.stores.me.user?.nickname === '新名字', 'the other device');
    expect(secondDevice.client.stores.me.user).toEqual(user);
  });

  it('saves a new nickname and avatar, seen by others, and logs out cleanly', async () => {
    const { me, peer, conv } = await pair();
    const file = path.join(tempDataDir(), 'avatar.png');
    fs.writeFileSync(file, PNG);
    const user = await me.client.updateProfile({ nickname: ' 小明 ', avatarPath: file });
    expect(user.nickname).toBe('小明');
    expect(user.avatar).toMatch(/\/uploads\/.+\.png$/);
    expect(me.client.stores.me.user).toEqual(user);
    const directory = await peer.client.directory('小明');
    expect(directory.map((entry) => entry.id)).toEqual([user.id]);

    me.client.sendText(conv, 'before logout');
    await waitFor(() => peer.client.stores.messages.view(conv).items.length === 1, 'delivery');
    me.client.logout();
    expect(me.client.stores.me.user).toBeNull();
    expect(me.client.stores.sessions.list).toEqual([]);
    expect(me.adapter.storage.has('chat.session')).toBe(false);
    expect(me.adapter.storage.has('chat.cache')).toBe(false);
    expect(me.adapter.liveTasks()).toHaveLength(0);

    // Logging in again on the device is the same user (development mode keeps the device id).
    me.client.start();
    await waitFor(() => me.client.stores.connection.state === 'ready', 'ready again');
    expect(me.client.stores.me.user).toEqual(user);
    expect(me.client.stores.sessions.find(conv)?.last?.body).toBe('before logout');
  });
});
