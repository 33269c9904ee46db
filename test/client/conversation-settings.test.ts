import { waitFor } from '../support/app';
import { useServer } from '../support/fixture';

describe('消息免打扰 and 置顶 on every device of the user', () => {
  const fixture = useServer({ each: true });

  it("set on one device: the user's other device follows at once, and a fresh sync says the same", async () => {
    const { me, peer, conv } = await fixture.pair();
    peer.client.sendText(conv, '在吗');
    await waitFor(() => me.client.stores.sessions.find(conv)?.lastSeq === 1, 'the message');
    // The same user on a second phone.
    const tablet = await fixture.phone({ storage: new Map(me.adapter.storage) });
    expect(tablet.client.stores.me.id).toBe(me.client.stores.me.id);
    await waitFor(() => tablet.client.stores.sessions.find(conv) !== undefined, 'the tablet to list it');

    await me.client.mute(conv, true);
    await me.client.pin(conv, true);
    expect(me.client.stores.sessions.find(conv)).toMatchObject({ muted: true, pinned: true, badge: '' });
    await waitFor(
      () =>
        tablet.client.stores.sessions.find(conv)?.muted === true &&
        tablet.client.stores.sessions.find(conv)?.pinned === true,
      'the tablet to follow',
    );
    expect(tablet.client.stores.sessions.totalUnread).toBe(0);
    // The peer's own settings are theirs.
    expect(peer.client.stores.sessions.find(conv)).toMatchObject({ muted: false, pinned: false });

    await tablet.client.mute(conv, false);
    await waitFor(() => me.client.stores.sessions.find(conv)?.muted === false, 'the phone to follow back');
    const fresh = await fixture.phone({
      storage: new Map([...me.adapter.storage].filter(([key]) => key === 'chat.session' || key === 'chat.deviceId')),
    });
    await waitFor(() => fresh.client.stores.sessions.find(conv) !== undefined, 'a fresh list');
    expect(fresh.client.stores.sessions.find(conv)).toMatchObject({ muted: false, pinned: true });
  });

  it('pins and mutes kept on the phone before they roamed go to the server once, none lost', async () => {
    const { me, peer, conv } = await fixture.pair();
    peer.client.sendText(conv, '在吗');
    await waitFor(() => me.client.stores.sessions.find(conv)?.lastSeq === 1, 'the message');
    me.client.stop();
    // What an older version of the app kept: pins and mutes on the device only.
    const storage = new Map(me.adapter.storage);
    storage.set(
      'chat.prefs',
      JSON.stringify({
        userId: me.client.stores.me.id,
        pins: { [conv]: 1 },
        hidden: {},
        mutes: { [conv]: true },
      }),
    );
    const upgraded = await fixture.phone({ storage });
    await waitFor(() => upgraded.client.stores.sessions.prefs.roamed === true, 'the pins to roam');
    expect(upgraded.client.stores.sessions.find(conv)).toMatchObject({ muted: true, pinned: true });
    // Another device of the user, from the server alone.
    const other = await fixture.phone({
      storage: new Map([...storage].filter(([key]) => key === 'chat.session' || key === 'chat.deviceId')),
    });
    await waitFor(() => other.client.stores.sessions.find(conv) !== undefined, 'its list');
    expect(other.client.stores.sessions.find(conv)).toMatchObject({ muted: true, pinned: true });
  });

  it('a setting the server refuses is undone with a plain word', async () => {
    const me = await fixture.phone();
    const them = await fixture.phone();
    const third = await fixture.phone();
    const conv = await them.client.groups.create([third.client.stores.me.user!]);
    await me.client.mute(conv, true);
    expect(me.client.stores.errors.last).toMatchObject({ code: 'forbidden' });
    expect(me.client.stores.sessions.prefs.pending ?? {}).toEqual({});
  });
});
