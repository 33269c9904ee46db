// npm run preview / npm run upload as processes: every missing or malformed input ends in one sentence that
// says what is wrong and where to get it, and exit code 1. Inputs are checked before the build, so these are
// fast; the unreachable-WeChat case builds, then fails on the network.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { cleanEnv, expectOneSentence, ROOT, run, tempDir, throwawayKey } from './support';

const PREVIEW = path.join(ROOT, 'scripts/preview.js');
const UPLOAD = path.join(ROOT, 'scripts/upload.js');
const APPID = 'wx0123456789abcdef';
const CONSOLE = /WeChat admin console \(mp\.weixin\.qq\.com → 开发管理 → 开发设置\)/;

/** A config folder like a developer's: .env with the given lines, and a throwaway key file. */
function configDir(dotenv: string[]): string {
  const dir = tempDir('config');
  fs.writeFileSync(path.join(dir, 'upload.key'), throwawayKey());
  fs.writeFileSync(path.join(dir, '.env'), `${dotenv.join('\n')}\n`);
  return dir;
}

describe('inputs', () => {
  it('without an app id: says so, and where the AppID is shown', async () => {
    // project.config.json's appid is the test one, touristappid, which cannot preview.
    const result = await run(PREVIEW, [], cleanEnv());
    const message = expectOneSentence(result, 'preview', /need your own app id/);
    expect(message).toMatch(/"appid" in project\.config\.json is the test id "touristappid"/);
    expect(message).toMatch(/set WX_APPID in \.env/);
    expect(message).toMatch(CONSOLE);
  });

  it('with a malformed app id: shows the pattern', async () => {
    const dir = configDir(['WX_APPID=wx12345', 'WX_UPLOAD_KEY_PATH=upload.key']);
    const result = await run(PREVIEW, [], cleanEnv({ WX_CONFIG_DIR: dir }));
    const message = expectOneSentence(result, 'preview', /The app id "wx12345" \(WX_APPID in \.env\) is malformed/);
    expect(message).toMatch(/"wx" followed by 16 hex digits/);
    expect(message).toMatch(CONSOLE);
  });

  it('with the app id in project.private.config.json but no key: says where to download one', async () => {
    const dir = tempDir('config');
    fs.writeFileSync(path.join(dir, 'project.private.config.json'), JSON.stringify({ appid: APPID }));
    const result = await run(UPLOAD, ['--version', '1.2.3', '--desc', 'first'], cleanEnv({ WX_CONFIG_DIR: dir }));
    const message = expectOneSentence(result, 'upload', /^upload: No upload key is set/);
    expect(message).toMatch(/小程序代码上传 → 代码上传密钥/);
    expect(message).toMatch(/IP whitelist/);
    expect(message).toMatch(new RegExp(`private\\.${APPID}\\.key`));
    expect(message).toMatch(CONSOLE);
  });

  it('with a key path that does not exist, or a file that is no key', async () => {
    const missing = await run(PREVIEW, [], cleanEnv({ WX_APPID: APPID, WX_UPLOAD_KEY_PATH: 'nowhere.key' }));
    expectOneSentence(missing, 'preview', /nowhere\.key \(WX_UPLOAD_KEY_PATH in the environment\) does not exist/);

    const dir = configDir([`WX_APPID=${APPID}`, 'WX_UPLOAD_KEY_PATH=.env']);
    const notPem = await run(PREVIEW, [], cleanEnv({ WX_CONFIG_DIR: dir }));
    expectOneSentence(notPem, 'preview', /is not a PEM private key .*-----BEGIN RSA PRIVATE KEY-----/);
  });

  it('with a bad version string, or none', async () => {
    const env = cleanEnv({ WX_CONFIG_DIR: configDir([`WX_APPID=${APPID}`, 'WX_UPLOAD_KEY_PATH=upload.key']) });
    const bad = await run(UPLOAD, ['--version', '1.2', '--desc', 'first'], env);
    const message = expectOneSentence(bad, 'upload', /--version "1\.2" is not a semantic version/);
    expect(message).toMatch(/npm run upload -- --version 1\.2\.3 --desc "what changed"/);

    const prefixed = await run(UPLOAD, ['--version', 'v1.2.3', '--desc', 'first'], env);
    expectOneSentence(prefixed, 'upload', /without the leading "v": 1\.2\.3/);

    const none = await run(UPLOAD, ['--desc', 'first'], env);
    expectOneSentence(none, 'upload', /^upload: Missing --version/);
  });

  it('without a description, or with options npm kept for itself', async () => {
    const env = cleanEnv({ WX_CONFIG_DIR: configDir([`WX_APPID=${APPID}`, 'WX_UPLOAD_KEY_PATH=upload.key']) });
    const none = await run(UPLOAD, ['--version', '1.2.3', '--desc', '  '], env);
    expectOneSentence(none, 'upload', /^upload: Missing --desc/);

    // `npm run upload --version 1.2.3 --desc "x y"` (no `--`): npm passes "x y" on as a bare argument.
    const swallowed = await run(UPLOAD, ['x y'], { ...env, npm_config_desc: 'true' });
    expectOneSentence(swallowed, 'upload', /Unexpected argument "x y": .*only after a "--"/);
  });

  it('for a production build without a TLS server address', async () => {
    const dir = configDir([`WX_APPID=${APPID}`, 'WX_UPLOAD_KEY_PATH=upload.key', 'SERVER_URL=http://chat.example.com']);
    const result = await run(UPLOAD, ['--version', '1.2.3', '--desc', 'first'], cleanEnv({ WX_CONFIG_DIR: dir }));
    expectOneSentence(result, 'upload', /SERVER_URL "http:\/\/chat\.example\.com" \(from \.env\) is not a TLS address/);
  });
});

describe('an unreachable WeChat', () => {
  // miniprogram-ci sends everything through HTTPS_PROXY when it is set: a proxy address that refuses
  // connections makes servicewechat.com unreachable at once, whatever this machine's network is.
  let refusing: string;
  beforeAll(async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    refusing = `http://127.0.0.1:${port}`;
  });

  it('upload: builds for production with the address from .env, then says it could not reach WeChat', async () => {
    const dir = configDir([
      `WX_APPID=${APPID}`,
      'WX_UPLOAD_KEY_PATH=upload.key',
      'SERVER_URL=wss://chat.example.com/ws',
    ]);
    const out = tempDir('upload'); // --out keeps the project folder, to look at what was built
    const result = await run(
      UPLOAD,
      ['--version', '1.2.3', '--desc', 'first upload', '--out', out],
      cleanEnv({ WX_CONFIG_DIR: dir, HTTPS_PROXY: refusing }),
      120_000,
    );
    expect(result.stdout).toContain('server address: https://chat.example.com (production: SERVER_URL from .env)');
    expect(result.stdout).toMatch(/package size: main package/);
    const message = expectOneSentence(
      result,
      'upload',
      /^upload: Could not reach WeChat \(servicewechat\.com\) to upload/,
    );
    expect(message).toMatch(/ECONNREFUSED/);
    expect(message).toContain(`HTTPS_PROXY=${refusing}`);

    // The production build: the app's https base (the app adds /ws itself), no comments.
    const config = fs.readFileSync(path.join(out, 'dist/config.js'), 'utf8');
    expect(config).toContain("exports.SERVER_URL = 'https://chat.example.com';");
    expect(config).not.toContain('/**');
    expect(fs.existsSync(path.join(out, 'project.config.json'))).toBe(true);
  }, 150_000);
});
