// npm run preview / npm run upload all the way, against a fake servicewechat.com on this machine (the real
// one cannot be reached here): the QR code in the terminal and as a PNG, the progress, and what is sent.
// (What WeChat's error codes turn into is in units.test.ts.)
import fs from 'node:fs';
import path from 'node:path';
import { haveOpenssl, startFakeWeChat, type FakeWeChat } from './fake-wechat';
import { cleanEnv, qrCodeJpeg, ROOT, run, tempDir, throwawayKey } from './support';

const APPID = 'wx0123456789abcdef';
const QR_URL = `https://open.weixin.qq.com/sns/getexpappinfo?appid=${APPID}#wechat-redirect`;

// Node makes keys but not certificates; without openssl (it is on every CI image we use) this part is skipped.
const describeWithOpenssl = haveOpenssl() ? describe : describe.skip;

describeWithOpenssl('against a fake WeChat', () => {
  let wechat: FakeWeChat;
  let config: string;
  beforeAll(async () => {
    wechat = await startFakeWeChat(await qrCodeJpeg(QR_URL));
    config = tempDir('config');
    fs.writeFileSync(path.join(config, `private.${APPID}.key`), throwawayKey()); // found by its download name
    fs.writeFileSync(path.join(config, '.env'), `WX_APPID=${APPID}\nSERVER_URL=wss://chat.example.com\n`);
  });
  afterAll(() => wechat.close());
  beforeEach(() => {
    wechat.seen.length = 0;
    wechat.answer = () => undefined;
  });

  it('preview: QR code drawn and saved as PNG, the page and query sent', async () => {
    const png = path.join(tempDir('preview'), 'qr.png');
    const result = await run(
      path.join(ROOT, 'scripts/preview.js'),
      ['--page', 'pages/chat/chat', '--query', 'conv=abc', '--qrcode', png],
      cleanEnv({ WX_CONFIG_DIR: config, ...wechat.env }),
    );
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/server address: http:\/\/[\d.]+:3000 \(development/);
    expect(result.stdout).toMatch(/✓ Compile miniprogram \(\d+ files, [\d.]+ s\)/);
    expect(result.stdout).toMatch(/(█.*\n){10,}/); // the QR code, in half blocks
    expect(result.stdout).toContain('preview: ready, main package 120.6 KB as WeChat counts it');
    expect(result.stdout).toContain('it opens pages/chat/chat?conv=abc');
    expect(fs.readFileSync(png).subarray(1, 4).toString()).toBe('PNG');

    const sent = wechat.seen.find((r) => r.path === '/wxa/ci/testSourceURL');
    expect(sent?.query.get('appid')).toBe(APPID);
    expect(sent?.query.get('path')).toBe('pages/chat/chat?conv=abc');
    expect(sent?.query.get('robot')).toBe('1');
  }, 120_000);

  it('upload: the version, description and robot sent, progress shown, what to do next', async () => {
    const result = await run(
      path.join(ROOT, 'scripts/upload.js'),
      ['--version', '1.2.3', '--desc', 'first release', '--robot', '2'],
      cleanEnv({ WX_CONFIG_DIR: config, ...wechat.env }),
    );
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(result.stdout).toContain('server address: https://chat.example.com (production: SERVER_URL from .env)');
    expect(result.stdout).toMatch(/ {2}… upload\n {2}✓ upload/);
    expect(result.stdout).toContain('upload: version 1.2.3 is uploaded (main package 120.6 KB as WeChat counts it)');
    expect(result.stdout).toMatch(/版本管理/);

    const sent = wechat.seen.find((r) => r.path === '/wxa/ci/upload');
    expect(Object.fromEntries(['appid', 'version', 'desc', 'robot'].map((k) => [k, sent?.query.get(k)]))).toEqual({
      appid: APPID,
      version: '1.2.3',
      desc: 'first release',
      robot: '2',
    });
  }, 120_000);
});
