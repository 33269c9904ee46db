// The ship scripts' pure parts: the LAN-address choice, the server address per environment, the input checks,
// the package budget, what miniprogram-ci's failures mean, the progress display and the QR code.
import fs from 'node:fs';
import type os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { qrCodeJpeg, tempDir, throwawayKey } from './support';
import { lanAddress, developmentServerUrl, productionServerUrl } from '../../scripts/wechat/server-url';
import { parseDotEnv } from '../../scripts/wechat/settings';
import {
  checkAppId,
  checkDescription,
  checkPage,
  checkRobot,
  checkVersion,
  readUploadKey,
} from '../../scripts/wechat/validate';
import { checkPackageSize, measurePackage } from '../../scripts/wechat/package-size';
import { createProgressPrinter, explainCiError } from '../../scripts/wechat/ci';
import { saveQrCode } from '../../scripts/wechat/qrcode';

type Interfaces = NodeJS.Dict<os.NetworkInterfaceInfo[]>;

function ipv4(address: string, internal = false): os.NetworkInterfaceInfo {
  return { address, netmask: '255.255.255.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal, cidr: null };
}
function ipv6(address: string): os.NetworkInterfaceInfo {
  return {
    address,
    netmask: 'ffff::',
    family: 'IPv6',
    mac: '00:00:00:00:00:00',
    internal: false,
    cidr: null,
    scopeid: 0,
  };
}
const setting = (value: string, source = '.env', name = 'SERVER_URL') => ({
  value,
  source,
  origin: `${name} in ${source}`,
});

/** The message a check throws (they throw one sentence, a UserError). */
function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect((err as Error).name).toBe('UserError');
    return (err as Error).message;
  }
  throw new Error('expected it to throw');
}

describe('the LAN address', () => {
  it('is the first non-internal IPv4 address', () => {
    const interfaces: Interfaces = {
      lo: [ipv4('127.0.0.1', true), ipv6('::1')],
      eth0: [ipv6('fe80::1'), ipv4('192.168.1.23')],
      wlan0: [ipv4('10.0.0.5')],
    };
    expect(lanAddress(interfaces)).toBe('192.168.1.23');
  });

  it('prefers a routable address to a link-local one, and is 127.0.0.1 when there is none', () => {
    expect(lanAddress({ eth0: [ipv4('169.254.10.1')], wlan0: [ipv4('10.0.0.5')] })).toBe('10.0.0.5');
    expect(lanAddress({ eth0: [ipv4('169.254.10.1')] })).toBe('169.254.10.1');
    expect(lanAddress({ lo: [ipv4('127.0.0.1', true), ipv6('::1')], eth0: [ipv6('fd00::2')] })).toBe('127.0.0.1');
    expect(lanAddress({})).toBe('127.0.0.1');
  });

  it('makes the development address, with PORT, unless SERVER_URL says otherwise', () => {
    const interfaces: Interfaces = { eth0: [ipv4('192.168.1.23')] };
    expect(developmentServerUrl({ env: {}, interfaces }).url).toBe('http://192.168.1.23:3000');
    expect(developmentServerUrl({ env: { PORT: '4000' }, interfaces }).url).toBe('http://192.168.1.23:4000');
    expect(developmentServerUrl({ env: { PORT: '0' }, interfaces }).url).toBe('http://192.168.1.23:3000');
    expect(developmentServerUrl({ env: { SERVER_URL: 'http://10.9.8.7:3000/' }, interfaces }).url).toBe(
      'http://10.9.8.7:3000',
    );
    expect(messageOf(() => developmentServerUrl({ env: { SERVER_URL: 'chat.local' }, interfaces }))).toMatch(
      /SERVER_URL "chat\.local" \(from the environment\) is not a server address/,
    );
  });
});

describe('the production address', () => {
  it('takes wss:// or https:// and gives the app its https base', () => {
    expect(productionServerUrl(setting('wss://chat.example.com')).url).toBe('https://chat.example.com');
    expect(productionServerUrl(setting('wss://chat.example.com/ws')).url).toBe('https://chat.example.com');
    expect(productionServerUrl(setting('https://example.com:8443/chat/')).url).toBe('https://example.com:8443/chat');
  });

  it('refuses none, a plain address, an IP address or localhost', () => {
    expect(messageOf(() => productionServerUrl(undefined))).toMatch(/needs the chat server's public address/);
    expect(messageOf(() => productionServerUrl(setting('ws://chat.example.com')))).toMatch(/is not a TLS address/);
    expect(messageOf(() => productionServerUrl(setting('https://203.0.113.9')))).toMatch(/names an IP address/);
    expect(messageOf(() => productionServerUrl(setting('wss://localhost:3000')))).toMatch(/names localhost/);
    expect(messageOf(() => productionServerUrl(setting('wss://chat.example.com/?x=1')))).toMatch(/has a query/);
  });
});

describe('inputs', () => {
  it('reads .env files', () => {
    const parsed = parseDotEnv(
      '# comment\nexport WX_APPID=wx0123456789abcdef\nSERVER_URL = wss://chat.example.com  # public\nWX_UPLOAD_KEY="-----BEGIN\\nX"\nRAW=\'a\\nb\'\nnot a line\n',
    );
    expect(parsed).toEqual({
      WX_APPID: 'wx0123456789abcdef',
      SERVER_URL: 'wss://chat.example.com',
      WX_UPLOAD_KEY: '-----BEGIN\nX',
      RAW: 'a\\nb',
    });
  });

  it('checks the app id', () => {
    expect(checkAppId(setting('wx0123456789abcdef', '.env', 'WX_APPID'))).toBe('wx0123456789abcdef');
    expect(messageOf(() => checkAppId(undefined))).toMatch(/no app id is set/);
    expect(messageOf(() => checkAppId(setting('WX0123456789ABCDEF', '.env', 'WX_APPID')))).toMatch(/is malformed/);
    expect(messageOf(() => checkAppId(setting('wx0123456789abcdeg', '.env', 'WX_APPID')))).toMatch(/is malformed/);
  });

  it('checks the key: a PEM RSA private key', () => {
    const pem = throwawayKey();
    expect(readUploadKey({ pem, source: 'WX_UPLOAD_KEY in .env' }, 'wx0123456789abcdef')).toBe(pem);
    const cut = pem.slice(0, 200) + pem.slice(-40);
    expect(messageOf(() => readUploadKey({ pem: cut, source: 'WX_UPLOAD_KEY in .env' }, 'wx0'))).toMatch(
      /cannot be read, it may be truncated/,
    );
    expect(messageOf(() => readUploadKey({ pem: 'hello', source: 'WX_UPLOAD_KEY in .env' }, 'wx0'))).toMatch(
      /is not a PEM private key/,
    );
  });

  it('checks the version, description, robot and page', () => {
    for (const ok of ['1.2.3', '0.0.1', '10.20.30', '1.0.0-beta.1', '1.0.0+build.7']) expect(checkVersion(ok)).toBe(ok);
    for (const bad of ['1.2', '1', '01.2.3', '1.2.3.4', 'latest', '1.2.x']) {
      expect(messageOf(() => checkVersion(bad))).toMatch(/is not a semantic version/);
    }
    expect(checkDescription(' fixes ')).toBe('fixes');
    expect(messageOf(() => checkDescription('x'.repeat(201)))).toMatch(/201 characters long/);
    expect(checkRobot(undefined, undefined)).toBe(1);
    expect(checkRobot('30', undefined)).toBe(30);
    expect(messageOf(() => checkRobot(undefined, setting('0', '.env', 'WX_ROBOT')))).toMatch(
      /^WX_ROBOT in \.env is "0"/,
    );
    const appJson = {
      pages: ['pages/index/index', 'pages/chat/chat'],
      subPackages: [{ root: 'more/', pages: ['about'] }],
    };
    expect(checkPage('/pages/chat/chat?conv=a', 'x=1', appJson)).toEqual({
      pagePath: 'pages/chat/chat',
      searchQuery: 'conv=a&x=1',
    });
    expect(checkPage('more/about', undefined, appJson)).toEqual({ pagePath: 'more/about' });
    expect(messageOf(() => checkPage('pages/nope', undefined, appJson))).toMatch(/is not a page of this app/);
  });
});

describe('the package budget', () => {
  function write(dir: string, file: string, bytes: number) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), Buffer.alloc(bytes, 1));
  }

  it('fails above 2 MB with one sentence naming the largest files', () => {
    const dir = tempDir('size');
    write(dir, 'app.json', 100);
    write(dir, 'app.js', 1000);
    write(dir, 'libs/big.js', 2 * 1024 * 1024 + 1);
    const message = messageOf(() => checkPackageSize(dir, { shown: 'dist' }));
    expect(message).toMatch(
      /^The main package of dist\/ is 2\.00 MB, over WeChat's 2 MB limit: .*libs\/big\.js \(2\.00 MB\)/,
    );
    expect(message.split('\n')).toHaveLength(1);
  });

  it('counts subpackages apart, and leaves out ignored files', () => {
    const dir = tempDir('size');
    fs.writeFileSync(path.join(dir, 'app.json'), JSON.stringify({ subPackages: [{ root: 'extra', pages: ['a'] }] }));
    write(dir, 'extra/big.js', 1.5 * 1024 * 1024);
    write(dir, 'main.js', 1.5 * 1024 * 1024);
    write(dir, 'docs/notes.md', 3 * 1024 * 1024);
    const ignore = [{ type: 'folder', value: 'docs' }];
    const { packages } = measurePackage(dir, { ignore });
    expect(packages.map((p) => [p.name, p.files.length])).toEqual([
      ['main package', 2],
      ['extra', 1],
    ]);
    expect(checkPackageSize(dir, { ignore })).toMatch(/^package size: main package 1\.50 MB of 2 MB \(75%\)/);
  });

  it('fails on an image over 100 KB', () => {
    const dir = tempDir('size');
    write(dir, 'app.json', 10);
    write(dir, 'images/photo.png', 150 * 1024);
    expect(messageOf(() => checkPackageSize(dir, { shown: 'dist' }))).toMatch(
      /^An image is over the 100 KB budget in dist\/: images\/photo\.png \(150\.0 KB\); optimise images/,
    );
  });
});

describe("miniprogram-ci's failures", () => {
  const context = { action: 'upload', appid: 'wx0123456789abcdef' };
  const explain = (message: string, code = 20003) =>
    explainCiError(Object.assign(new Error(message), { code }), context)?.message;

  it('a network error means WeChat could not be reached', () => {
    for (const cause of [
      'Error: getaddrinfo ENOTFOUND servicewechat.com',
      'Error: getaddrinfo EAI_AGAIN servicewechat.com',
      'Error: connect ECONNREFUSED 1.2.3.4:443',
      'Error: connect ETIMEDOUT 1.2.3.4:443',
      'Error: tunneling socket could not be established, cause=connect ECONNREFUSED 127.0.0.1:9',
    ]) {
      expect(explain(cause, 20001)).toMatch(/^Could not reach WeChat \(servicewechat\.com\) to upload: /);
    }
  });

  it("WeChat's error codes: the IP whitelist, the key, anything else", () => {
    expect(
      explain(
        'Error: {"errCode":-10008,"errMsg":"invalid ip: 203.0.113.7, reference: https://developers.weixin.qq.com/miniprogram/dev/devtools/ci.html"}',
      ),
    ).toMatch(/^WeChat refused the upload from this machine's IP address 203\.0\.113\.7 .*IP whitelist/);
    expect(explain('Error: {"errCode":-1,"errMsg":"get new ticket fail: innerCode: -80002"}')).toMatch(
      /^WeChat did not accept the upload key for app wx0123456789abcdef/,
    );
    // The same, refused at the first call (getrandstr), in miniprogram-ci's other form.
    expect(explain('Error: errCode: -10008; errMsg: invalid ip: 2001:db8::7, reference: https://x', 20001)).toMatch(
      /from this machine's IP address 2001:db8::7 /,
    );
    expect(explain('Error: errCode: -1; errMsg: invalid appid', 20001)).toMatch(/does not know app id/);
    expect(explain('Error: {"errCode":80082,"errMsg":"something new"}')).toMatch(
      /^WeChat refused the upload \(errCode 80082: something new\)/,
    );
    expect(explain('Error: something we have never seen', 1)).toBeUndefined();
  });
});

it('shows progress: a line per stage, file counts, no per-file lines in a log', () => {
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const { onProgressUpdate, finish } = createProgressPrinter(out);
  onProgressUpdate({ id: '1', message: 'Compile miniprogram', status: 'doing' });
  onProgressUpdate({ id: '2', message: 'Compiling app.js', status: 'doing' });
  onProgressUpdate({ id: '3', message: 'Compiling pages/index/index.js', status: 'doing' });
  onProgressUpdate({ id: '4', message: 'pages/index/index.js', status: 'done' });
  onProgressUpdate({ id: '1', message: '', status: 'done' });
  onProgressUpdate({ id: '5', message: 'upload', status: 'doing' });
  onProgressUpdate({ id: '5', message: '', status: 'done' });
  finish();
  expect(text.split('\n')).toEqual([
    '  … Compile miniprogram',
    expect.stringMatching(/^ {2}✓ Compile miniprogram \(2 files, \d+\.\d s\)$/),
    '  … upload',
    expect.stringMatching(/^ {2}✓ upload \(\d+\.\d s\)$/),
    '',
  ]);
});

it('saves the QR code WeChat sends as a PNG and draws it for the terminal', async () => {
  const url = 'https://open.weixin.qq.com/sns/getexpappinfo?appid=wx0123456789abcdef#wechat-redirect';
  const jpeg = await qrCodeJpeg(url);
  const file = path.join(tempDir('qr'), 'out', 'preview-qrcode.png');
  const saved = await saveQrCode(`data:image/jpeg;base64,${jpeg.toString('base64')}`, file);
  expect(saved.file).toBe(file);
  expect(saved.url).toBe(url);
  expect(fs.readFileSync(file).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  expect(saved.terminal?.split('\n').length).toBeGreaterThan(10);
});
