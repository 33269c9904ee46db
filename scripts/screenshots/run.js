// `npm run screenshots`: renders each page of the mini-program in its key states to PNG in
// docs/screenshots/. Step 1 runs test/screenshots/render.shots.ts under jest (miniprogram-simulate needs
// jsdom and loads the TypeScript pages through jest's transform), which writes one HTML document per
// state; step 2 photographs them in Debian's headless Chromium through playwright-core; step 3 runs the
// moderation console's browser test (test/admin) with SCREENSHOTS_OUT, which photographs the console
// (admin-reports.png, admin-user.png) against the real server in the same Chromium.
// An approximation for the docs and for review, not a replacement for WeChat DevTools.
const { spawnSync, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../..');
const CHROMIUM = '/usr/bin/chromium';
const OUT_DIR = path.join(ROOT, 'docs', 'screenshots');
const FIXTURES = path.join(ROOT, 'test', 'screenshots', 'fixtures');
const TIME_ZONE = 'Asia/Shanghai';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** @param {string} message */
function fail(message) {
  console.error(message);
  process.exit(1);
}

/** Whether fontconfig knows a font for `lang` (e.g. zh), so the PNGs show Chinese rather than boxes. */
function hasFontFor(lang) {
  try {
    return execFileSync('fc-list', [`:lang=${lang}`, 'family'], { encoding: 'utf8' }).trim() !== '';
  } catch (_error) {
    return false;
  }
}

/**
 * Renders the states to HTML in `dir` with jest; returns the manifest.
 * @param {string} dir
 * @returns {Array<{ name: string, page: string, caption: string }>}
 */
function renderHtml(dir) {
  const jest = require.resolve('jest/bin/jest');
  const result = spawnSync(
    process.execPath,
    [jest, '--config', path.join(__dirname, 'jest.config.js'), '--runInBand', '--silent'],
    { cwd: ROOT, stdio: 'inherit', env: { ...process.env, SCREENSHOTS_OUT: dir, TZ: TIME_ZONE } },
  );
  if (result.status !== 0) fail('Rendering the pages failed (see jest above).');
  return JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
}

/** The console's shots, taken by its own test in the browser against the real server. */
const CONSOLE_SHOTS = ['admin-reports.png', 'admin-user.png'];

function consoleShots() {
  const jest = require.resolve('jest/bin/jest');
  const result = spawnSync(
    process.execPath,
    [jest, '--no-watchman', '--selectProjects', 'app', '--runInBand', 'test/admin'],
    { cwd: ROOT, stdio: 'inherit', env: { ...process.env, SCREENSHOTS_OUT: OUT_DIR, TZ: TIME_ZONE } },
  );
  if (result.status !== 0) fail('The console test failed (see jest above).');
  for (const name of CONSOLE_SHOTS) console.log(`docs/screenshots/${name}  the moderation console`);
}

/** The fixture image for a URL, by base name (…/uploads/photo-lotus.jpg → fixtures/photo-lotus.svg). */
function fixtureFor(url) {
  const base = path.basename(new URL(url).pathname).replace(/\.[^.]*$/, '');
  const file = fs.readdirSync(FIXTURES).find((name) => name.replace(/\.[^.]*$/, '') === base);
  return file ? path.join(FIXTURES, file) : null;
}

async function main() {
  const started = Date.now();
  if (!fs.existsSync(CHROMIUM)) fail('Chromium not found: apt-get install chromium');
  if (!hasFontFor('zh')) console.warn('No Chinese font found, text will show as boxes: apt-get install fonts-noto-cjk');
  const { chromium } = require('playwright-core');

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'wechat-screenshots-'));
  const htmlDir = path.join(work, 'html');
  const profile = path.join(work, 'profile');
  try {
    const manifest = renderHtml(htmlDir);
    // A persistent context on a fresh, empty profile (Playwright's own launch would make one too).
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 375, height: 667 },
      deviceScaleFactor: 2,
      locale: 'zh-CN',
      timezoneId: TIME_ZONE,
    });
    try {
      // Nothing leaves the machine: images come from the fixtures, anything else is refused.
      await context.route(/^https?:/, (route) => {
        const file = fixtureFor(route.request().url());
        return file ? route.fulfill({ path: file }) : route.abort();
      });
      const page = context.pages()[0] ?? (await context.newPage());
      fs.mkdirSync(OUT_DIR, { recursive: true });
      for (const shot of manifest) {
        await page.goto(`file://${path.join(htmlDir, `${shot.name}.html`)}`, { waitUntil: 'load' });
        // Fonts in, then scroll-views scrolled as their scroll-into-view says (test/screenshots/document.ts).
        await page.evaluate('document.fonts.ready.then(() => window.__wxLayout())');
        await page.screenshot({ path: path.join(OUT_DIR, `${shot.name}.png`), animations: 'disabled' });
        console.log(`docs/screenshots/${shot.name}.png  ${shot.caption}`);
      }
    } finally {
      await context.close();
    }
    // PNGs of states that are gone (renamed, or skipped because a page does not exist) go too.
    consoleShots();
    const names = new Set([...manifest.map((shot) => `${shot.name}.png`), ...CONSOLE_SHOTS]);
    for (const file of fs.readdirSync(OUT_DIR)) {
      if (file.endsWith('.png') && !names.has(file)) fs.rmSync(path.join(OUT_DIR, file));
    }
    // To look at the HTML in a browser of one's own: SCREENSHOTS_HTML=some/dir npm run screenshots.
    if (process.env.SCREENSHOTS_HTML) fs.cpSync(htmlDir, process.env.SCREENSHOTS_HTML, { recursive: true });
    console.log(
      `${manifest.length + CONSOLE_SHOTS.length} screenshots in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error) => fail(error instanceof Error ? error.stack || error.message : String(error)));
