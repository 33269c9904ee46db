/**
 * @jest-environment node
 *
 * The moderation console (`GET /admin`, server/admin) in a real browser: playwright-core driving
 * Debian's Chromium against the real server (a process, with ADMIN_TOKEN). Two phones (the app's
 * client) make a conversation and a report; the moderator logs in with the token, sees the report
 * with its context, recalls the message (both phones see it recalled), dismisses a second report, bans the user from the user
 * search (their socket closes with 4003: the phone's banned state), unbans. A wrong token is
 * refused; the page fits a laptop (1280×800, no horizontal scroll); the page and its assets carry
 * the strict CSP and nothing violates it. With SCREENSHOTS_OUT set (`npm run screenshots`), writes
 * admin-reports.png and admin-user.png there.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startPhone, waitFor, type Phone } from '../support/app';
import { httpCall } from '../support/http-call';
import { startServerProcess, type ServerProcess } from '../support/server-process';
import { tempDataDir } from '../support/tmp';

const CHROMIUM = '/usr/bin/chromium';
const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';
const SHOTS = process.env.SCREENSHOTS_OUT ?? '';
const VOICE_3S = { file: path.join(__dirname, '../../server/test/fixtures/audio/voice.aac'), durationMs: 3000 };
/** Bounded waits for the page (ms). */
const UI_WAIT = 10_000;

jest.setTimeout(90_000);

let running: ServerProcess;
let browser: Browser;
const phones: Phone[] = [];
/** What the browser reported as an error (a CSP violation among them). */
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) throw new Error('Chromium not found: apt-get install chromium');
  running = await startServerProcess({ env: { ADMIN_TOKEN } });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
    timeout: 30_000,
  });
});
afterAll(async () => {
  for (const phone of phones.splice(0)) phone.client.stop();
  await browser?.close();
  await running?.stop();
});

async function newPage(): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
  });
  const page = await context.newPage();
  page.setDefaultTimeout(UI_WAIT);
  // Console errors (a CSP violation is one) but the lines Chromium logs for an HTTP error, which are
  // kept with their address instead (the browser's own /favicon.ico aside).
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
      pageErrors.push(message.text());
    }
  });
  page.on('response', (response) => {
    if (response.status() >= 400 && !response.url().endsWith('/favicon.ico')) {
      pageErrors.push(`${response.status()} ${response.url()}`);
    }
  });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  return page;
}

async function phone(nickname: string): Promise<Phone> {
  const made = await startPhone(running.url);
  phones.push(made);
  await made.client.updateProfile({ nickname });
  return made;
}

/** A 240×160 PNG (a green-to-blue gradient), for an image message one can see in the console. */
function gradientPng(width = 240, height = 160): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = y * (width * 3 + 1) + 1 + x * 3;
      rows[at] = 7;
      rows[at + 1] = Math.round(193 - (x / width) * 120);
      rows[at + 2] = Math.round(96 + (y / height) * 150);
    }
  }
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([
    signature,
    chunk('IHDR', header),
    chunk('IDAT', zlib.deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function held(target: Phone, conv: string, seq: number): { kind: string; body: string } | undefined {
  const item = target.client.stores.messages.view(conv).items.find((candidate) => candidate.seq === seq);
  return item && { kind: item.kind, body: item.body };
}

async function login(page: Page, token: string): Promise<void> {
  await page.goto(`${running.url}/admin`);
  await page.getByPlaceholder('管理员令牌').fill(token);
  await page.getByRole('button', { name: '登录' }).click();
}

async function noHorizontalScroll(page: Page): Promise<void> {
  const widths = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
  }));
  expect(widths.scroll).toBeLessThanOrEqual(widths.client);
}

describe('the moderation console in Chromium', () => {
  it('serves the page and its assets with the strict CSP, and refuses the API without the token (401)', async () => {
    const page = await httpCall(running.port, 'GET', '/admin');
    expect(page.status).toBe(200);
    const response = await fetch(`${running.url}/admin`);
    const csp = response.headers.get('content-security-policy') ?? '';
    for (const directive of [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "connect-src 'self'",
      "frame-ancestors 'none'",
      "base-uri 'none'",
      "form-action 'none'",
    ]) {
      expect(csp).toContain(directive);
    }
    expect(csp).not.toContain('unsafe-inline');
    const script = await fetch(`${running.url}/admin/admin.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    expect(script.headers.get('content-security-policy')).toBe(csp);
    expect((await httpCall(running.port, 'GET', '/api/admin/stats')).status).toBe(401);
  });

  it('refuses a wrong token with a clear message and keeps nothing', async () => {
    const page = await newPage();
    await login(page, 'not-the-token');
    await expect(page.getByRole('alert').textContent()).resolves.toContain('令牌错误');
    expect(pageErrors).toEqual([`401 ${running.url}/api/admin/stats`]);
    pageErrors.length = 0;
    expect(await page.evaluate(() => sessionStorage.getItem('admin.token'))).toBeNull();
    expect(await page.getByText('举报队列').count()).toBe(0);
    await page.context().close();
  });

  it('a report: seen with its context, recalled; another dismissed; the user banned (4003) and unbanned', async () => {
    const reporter = await phone('李雷');
    const offender = await phone('推销员小王');
    const conv = reporter.client.conversationWith(offender.client.stores.me.user!);
    offender.client.conversationWith(reporter.client.stores.me.user!);
    reporter.client.sendText(conv, '你好，请问你是？');
    await waitFor(() => held(offender, conv, 1) !== undefined, 'the first message at the offender');
    offender.client.sendText(conv, '恭喜你中奖了！点链接领取 http://example.invalid/prize');
    offender.client.sendText(conv, '名额有限，今天截止');
    await waitFor(() => held(reporter, conv, 3) !== undefined, 'the offender’s messages at the reporter');
    // A picture and a voice message around it: shown and playable in the console.
    const picture = path.join(tempDataDir(), 'prize.png');
    fs.writeFileSync(picture, gradientPng());
    offender.client.sendImage(conv, picture);
    await waitFor(() => held(reporter, conv, 4)?.kind === 'image', 'the picture at the reporter');
    const { media } = offender.adapter;
    media.permission = true;
    media.recorder.allowed = true;
    media.recorder.source = VOICE_3S;
    expect(await offender.client.voice.begin(conv)).toBe('recording');
    media.recorder.elapse(3000);
    expect(await offender.client.voice.finish()).toBe('sent');
    await waitFor(() => held(reporter, conv, 5)?.kind === 'voice', 'the voice message at the reporter');
    await reporter.client.report(conv, '诈骗', 2);
    const offenderId = offender.client.stores.me.id;

    const page = await newPage();
    await login(page, ADMIN_TOKEN);
    const card = page.locator('[data-test="report"]').first();
    await card.waitFor();
    await expect(card.locator('li.reported').textContent()).resolves.toContain('恭喜你中奖了');
    await expect(card.textContent()).resolves.toContain('你好，请问你是？');
    await expect(card.textContent()).resolves.toContain('名额有限，今天截止');
    await expect(card.textContent()).resolves.toContain('举报人：李雷');
    // The picture loaded (allowed by the CSP's img-src), the voice message in an <audio> with controls.
    const image = card.locator('li[data-seq="4"] img');
    await waitFor(
      async () => (await image.evaluate((node: HTMLImageElement) => node.naturalWidth)) === 240,
      'the image',
    );
    const audio = card.locator('li[data-seq="5"] audio');
    expect(await audio.getAttribute('controls')).not.toBeNull();
    expect(await audio.getAttribute('src')).toMatch(new RegExp(`^${running.url}/uploads/`));
    // Its metadata loaded (allowed by the CSP's media-src): it plays.
    await waitFor(
      async () => (await audio.evaluate((node: HTMLAudioElement) => node.duration)) > 1,
      'the voice to load',
    );
    await expect(card.locator('[data-test="reported"]').textContent()).resolves.toContain(
      `推销员小王（${offenderId}）`,
    );
    // The token is kept for the tab only.
    expect(await page.evaluate(() => sessionStorage.getItem('admin.token'))).toBe(ADMIN_TOKEN);
    // The live panel, from /api/admin/stats: both phones are online.
    await waitFor(async () => (await page.locator('[data-test="online"]').textContent()) === '2', 'the live panel');
    await waitFor(async () => (await page.locator('[data-test="per-minute"]').textContent()) === '5', 'the rate');
    await noHorizontalScroll(page);
    if (SHOTS) await page.screenshot({ path: path.join(SHOTS, 'admin-reports.png'), animations: 'disabled' });

    // 撤回消息: both phones see it recalled; the report is closed, the queue empty.
    await card.getByRole('button', { name: '撤回消息' }).click();
    await waitFor(() => held(offender, conv, 2)?.kind === 'recalled', 'the offender to see it recalled');
    await waitFor(() => held(reporter, conv, 2)?.kind === 'recalled', 'the reporter to see it recalled');
    await page.locator('[data-test="empty"]').waitFor();

    // 忽略: a report of the whole conversation, dismissed.
    await reporter.client.report(conv, '其他：一直骚扰我');
    await page.getByRole('button', { name: '刷新' }).click();
    const whole = page.locator('[data-test="report"]', { hasText: '整个会话被举报' });
    await whole.waitFor();
    await expect(whole.getByRole('button', { name: '撤回消息' }).isDisabled()).resolves.toBe(true);
    await whole.getByRole('button', { name: '忽略' }).click();
    await page.locator('[data-test="empty"]').waitFor();

    // 用户查询: the offender, their report (now handled), the ban controls.
    await page.getByRole('button', { name: '用户查询' }).click();
    await page.getByPlaceholder('用户 ID 或昵称').fill('推销员');
    await page.getByRole('button', { name: '搜索' }).click();
    const user = page.locator(`[data-user="${offenderId}"]`);
    await user.waitFor();
    await expect(user.locator('[data-test="ban-state"]').textContent()).resolves.toContain('正常');
    await expect(user.locator('table').textContent()).resolves.toContain('诈骗');
    await noHorizontalScroll(page);
    await user.getByLabel('封禁时长').selectOption('7');
    await user.getByLabel('封禁原因').fill('发送诈骗链接');
    if (SHOTS) await page.screenshot({ path: path.join(SHOTS, 'admin-user.png'), animations: 'disabled' });

    // 封禁 7 天: the offender's socket closes with 4003 (the app's banned state); the console shows it.
    await user.getByRole('button', { name: '封禁' }).click();
    await waitFor(() => offender.client.stores.connection.state === 'banned', 'the offender’s socket closed with 4003');
    await user.locator('[data-test="ban-state"]', { hasText: '已封禁' }).waitFor();
    const banned = await httpCall(running.port, 'GET', `/api/admin/users?q=${offenderId}`, { token: ADMIN_TOKEN });
    const ban = (banned.body as { users: Array<{ id: string; ban: { until: number | null; reason: string } | null }> })
      .users[0].ban;
    expect(ban?.reason).toBe('发送诈骗链接');
    expect(ban?.until).toBeGreaterThan(Date.now() + 6.9 * 24 * 3600 * 1000);

    // 解除封禁.
    await user.getByRole('button', { name: '解除封禁' }).click();
    await user.locator('[data-test="ban-state"]', { hasText: '正常' }).waitFor();
    const after = await httpCall(running.port, 'GET', `/api/admin/users?q=${offenderId}`, { token: ADMIN_TOKEN });
    expect((after.body as { users: Array<{ ban: unknown }> }).users[0].ban).toBeNull();

    // 操作记录: the three actions, newest first.
    await page.getByRole('button', { name: '操作记录' }).click();
    const audit = page.locator('[data-test="audit"] tbody tr');
    await audit.nth(3).waitFor();
    const rows = await audit.allTextContents();
    expect(rows[0]).toContain('解除封禁');
    expect(rows[1]).toContain('封禁');
    expect(rows[1]).toContain('发送诈骗链接');
    expect(rows[2]).toContain('忽略举报');
    expect(rows[3]).toContain('撤回消息');

    // Nothing was refused by the CSP, nothing threw.
    expect(pageErrors).toEqual([]);
    await page.context().close();
  });
});
