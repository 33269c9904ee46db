import fs from 'node:fs';
import path from 'node:path';
import type { ProfileData } from '../../miniprogram/pages/profile/profile';
import { started, waitFor } from '../support/app';
import { useServer } from '../support/fixture';
import { renderPage, settle, texts } from '../support/pages';
import { startServerProcess } from '../support/server-process';
import { tempDataDir } from '../support/tmp';
import { PNG } from '../support/fixtures';

describe('profile page', () => {
  const fixture = useServer();
  afterEach(() => jest.restoreAllMocks());

  it('saves a chosen avatar and a nickname to the server, seen by others', async () => {
    const me = await fixture.phone();
    const other = await fixture.phone();
    const page = renderPage<ProfileData>('profile', me.client);
    await settle();
    expect(page.data.nickname).toBe(me.client.stores.me.user!.nickname);
    // WeChat's required components for profile data (simulate renders buttons without attributes).
    const wxml = fs.readFileSync(path.resolve(__dirname, '../../miniprogram/pages/profile/profile.wxml'), 'utf8');
    expect(wxml).toMatch(/<button[^>]*open-type="chooseAvatar"[^>]*bindchooseavatar="chooseAvatar"/);
    expect(wxml).toMatch(/<input[^>]*type="nickname"/);

    const file = path.join(tempDataDir(), 'chosen-avatar.png');
    fs.writeFileSync(file, PNG);
    page.querySelector('.avatar-button')!.dispatchEvent('chooseavatar', { detail: { avatarUrl: file } });
    await waitFor(() => Boolean(page.data.user?.avatar), 'the avatar to be saved');
    expect(page.data.user!.avatar).toMatch(/\/uploads\/.+\.png$/);

    page.querySelector('.nickname')!.dispatchEvent('input', { detail: { value: ' 阿梅 ' } });
    await settle();
    page.querySelector('.save')!.dispatchEvent('tap');
    await waitFor(() => page.data.user?.nickname === '阿梅', 'the nickname to be saved');
    const directory = await other.client.directory('阿梅');
    expect(directory).toMatchObject([{ id: me.client.stores.me.id, nickname: '阿梅', avatar: page.data.user!.avatar }]);
    page.detach();
  });

  it('says when saving failed', async () => {
    const own = await startServerProcess();
    const me = fixture.unstarted(own.url);
    await started(me);
    const page = renderPage<ProfileData>('profile', me.client);
    await settle();
    await own.kill();
    page.querySelector('.nickname')!.dispatchEvent('input', { detail: { value: '新名字' } });
    await settle();
    page.querySelector('.save')!.dispatchEvent('tap');
    await waitFor(() => page.data.error !== '', 'the error');
    await settle();
    expect(texts(page, '.error')).toEqual(['保存失败，请稍后再试']);
    page.detach();
  });

  it('logs out after confirmation and logs back in as the same user', async () => {
    const me = await fixture.phone();
    const id = me.client.stores.me.id;
    const page = renderPage<ProfileData>('profile', me.client);
    await settle();
    const modal = jest.spyOn(wx, 'showModal');
    modal.mockImplementationOnce(() => Promise.resolve({ confirm: false, cancel: true, errMsg: 'showModal:ok' }));
    page.querySelector('.logout')!.dispatchEvent('tap');
    await settle();
    expect(me.client.stores.me.user).not.toBeNull();

    modal.mockImplementationOnce(() => Promise.resolve({ confirm: true, cancel: false, errMsg: 'showModal:ok' }));
    page.querySelector('.logout')!.dispatchEvent('tap');
    await waitFor(() => page.data.user === null, 'the logout');
    await settle();
    expect(texts(page, '.empty')).toEqual(['已退出登录']);
    expect(me.adapter.liveTasks()).toHaveLength(0);

    page.querySelector('.login')!.dispatchEvent('tap');
    await waitFor(() => page.data.user !== null && me.client.stores.connection.state === 'ready', 'the login');
    expect(page.data.user!.id).toBe(id);
    page.detach();
  });
});
