// Renders every state of ./states.ts with miniprogram-simulate (WeChat's real WXML compiler under
// jsdom) and writes each as a standalone HTML document, plus manifest.json, to $SCREENSHOTS_OUT.
// Not part of `npm test`: `npm run screenshots` (scripts/screenshots/run.js) runs this file under its
// own jest config (scripts/screenshots/jest.config.js), then photographs the HTML in Chromium.
import fs from 'node:fs';
import path from 'node:path';
import simulate from 'miniprogram-simulate';
import { watchTabBadge } from '../../miniprogram/utils/tab-badge';
import { offlinePhone } from '../support/app';
import { MINIPROGRAM, pageDocument, pageWindow } from './document';
import { ME, NOW, STATES } from './states';

const OUT = process.env.SCREENSHOTS_OUT ?? '';

/** Only the clock is fake: timers stay real, so the pages' batched setData runs as usual. */
const REAL = [
  'hrtime',
  'nextTick',
  'performance',
  'queueMicrotask',
  'requestAnimationFrame',
  'cancelAnimationFrame',
  'requestIdleCallback',
  'cancelIdleCallback',
  'setImmediate',
  'clearImmediate',
  'setInterval',
  'clearInterval',
  'setTimeout',
  'clearTimeout',
] as const;

// Each page is loaded (its Component() registered) once and rendered once per state.
const loaded = new Map<string, string>();
function load(page: string): string {
  let id = loaded.get(page);
  if (!id) {
    id = simulate.load(path.join(MINIPROGRAM, 'pages', page, page), `page-${page}`, { rootPath: MINIPROGRAM });
    loaded.set(page, id);
  }
  return id;
}

/** What the page asked of wx's navigation and tab bars while it rendered. */
function recordBars() {
  const bars = { title: '', badges: new Map<number, string>() };
  const spies = [
    jest.spyOn(wx, 'setNavigationBarTitle').mockImplementation((options) => {
      bars.title = options.title;
      return Promise.resolve({ errMsg: 'setNavigationBarTitle:ok' });
    }),
    jest.spyOn(wx, 'setTabBarBadge').mockImplementation((options) => {
      bars.badges.set(options.index, options.text);
      return Promise.resolve({ errMsg: 'setTabBarBadge:ok' });
    }),
    jest.spyOn(wx, 'removeTabBarBadge').mockImplementation((options) => {
      bars.badges.delete(options.index);
      return Promise.resolve({ errMsg: 'removeTabBarBadge:ok' });
    }),
    jest.spyOn(wx, 'showTabBarRedDot').mockImplementation((options) => {
      bars.badges.set(options.index, '');
      return Promise.resolve({ errMsg: 'showTabBarRedDot:ok' });
    }),
  ];
  return { bars, restore: () => spies.forEach((spy) => spy.mockRestore()) };
}

const written: Array<{ name: string; page: string; caption: string }> = [];

beforeAll(() => {
  if (!OUT) throw new Error('SCREENSHOTS_OUT is not set: run `npm run screenshots`');
  fs.mkdirSync(OUT, { recursive: true });
  jest.useFakeTimers({ now: NOW, doNotFake: [...REAL] });
});

afterAll(() => {
  jest.useRealTimers();
  if (OUT) fs.writeFileSync(path.join(OUT, 'manifest.json'), JSON.stringify(written, null, 2));
});

const clock = () => {
  const now = new Date(NOW);
  return `${now.getHours()}:${String(now.getMinutes()).padStart(2, '0')}`;
};

describe.each(STATES.map((state) => [state.name, state] as const))('%s', (_name, state) => {
  it(state.caption, async () => {
    const phone = offlinePhone(ME);
    const { client } = phone;
    state.fill(phone);
    (globalThis as { getApp?: () => unknown }).getApp = () => ({ client, globalData: {} });

    const { bars, restore } = recordBars();
    // The tab total, set with wx.setTabBarBadge as app.ts does.
    const stopBadge = watchTabBadge(client.stores.sessions, wx);
    const tag = `page-${state.page}`;
    const rendered = simulate.render(load(state.page), state.query ?? {});
    rendered.attach(document.createElement('parent-wrapper'));
    await simulate.sleep(30);
    if (state.interact) {
      await state.interact(rendered);
      await simulate.sleep(30);
    }

    const html = pageDocument({
      page: state.page,
      tag,
      rendered,
      title: bars.title || pageWindow(state.page).navigationBarTitleText || '',
      tabBadges: bars.badges,
      clock: clock(),
    });
    rendered.detach();
    stopBadge();
    restore();
    client.stop();

    fs.writeFileSync(path.join(OUT, `${state.name}.html`), html);
    written.push({ name: state.name, page: state.page, caption: state.caption });
  });
});
