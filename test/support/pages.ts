import path from 'node:path';
import simulate, { type RootComponent } from 'miniprogram-simulate';
import type { ChatClient } from '../../miniprogram/core/client';

const ROOT = path.resolve(__dirname, '../../miniprogram');

export type PageName =
  | 'index'
  | 'chat'
  | 'contacts'
  | 'profile'
  | 'receipts'
  | 'group-create'
  | 'group-settings'
  | 'forward'
  | 'chat-settings'
  | 'report'
  | 'blacklist';

/**
 * Renders a page of the mini-program from its sources with miniprogram-simulate (WeChat's WXML
 * compiler) for a given chat client, as WeChat would with the app whose client it is.
 */
// simulate runs a page's module through `require`, which jest caches: each page is loaded
// (its Component() registered) once per test file and rendered as often as needed.
const loaded = new Map<PageName, string>();

/** A rendered page whose `data` has the page's own type. */
export type RenderedPage<TData> = Omit<
  RootComponent<
    WechatMiniprogram.Component.DataOption,
    WechatMiniprogram.Component.PropertyOption,
    WechatMiniprogram.Component.MethodOption
  >,
  'data'
> & { data: TData };

export function renderPage<TData = Record<string, unknown>>(
  name: PageName,
  client: ChatClient,
  query: Record<string, string> = {},
): RenderedPage<TData> {
  const app = { client, globalData: {} };
  (globalThis as { getApp?: () => unknown }).getApp = () => app;
  let id = loaded.get(name);
  if (!id) {
    id = simulate.load(path.join(ROOT, 'pages', name, name), `page-${name}`, { rootPath: ROOT });
    loaded.set(name, id);
  }
  const page = simulate.render(id, query);
  const parent = document.createElement('parent-wrapper');
  page.attach(parent);
  return page as unknown as RenderedPage<TData>;
}

/** Lets the store bindings flush their batched setData (they wait for wx.nextTick). */
export function settle(ms = 20): Promise<void> {
  return simulate.sleep(ms);
}

/** Visible text of every element matching `selector`, in order. */
export function texts(page: RenderedPage<unknown>, selector: string): string[] {
  return page.querySelectorAll(selector).map((node) => (node.dom?.textContent ?? '').trim());
}
