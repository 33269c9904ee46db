import fs from 'node:fs';
import path from 'node:path';
import { compile, getContent } from 'miniprogram-simulate/src/wxss';

/**
 * Turns the DOM that miniprogram-simulate rendered for a page into a standalone HTML document that
 * Chromium can show as a phone would: the page's and the app's WXSS scoped as simulate scopes classes,
 * CSS for simulate's `wx-*` elements, rpx at a 375 px wide phone, and a fake status bar, navigation bar
 * and tab bar around the page. An approximation for the docs and for review, not WeChat DevTools.
 */

export const MINIPROGRAM = path.resolve(__dirname, '../../miniprogram');

/** An iPhone 8 sized phone, in CSS pixels (the PNGs are taken at twice this). */
export const PHONE = { width: 375, height: 667, statusBar: 20, navigationBar: 44, tabBar: 50 };

interface WindowJson {
  navigationBarTitleText?: string;
  navigationBarBackgroundColor?: string;
  navigationBarTextStyle?: 'black' | 'white';
  backgroundColor?: string;
}

interface TabBarJson {
  color?: string;
  selectedColor?: string;
  backgroundColor?: string;
  borderStyle?: 'black' | 'white';
  list: Array<{ pagePath: string; text: string; iconPath?: string; selectedIconPath?: string }>;
}

interface AppJson {
  window?: WindowJson;
  tabBar?: TabBarJson;
}

function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

export function appJson(): AppJson {
  return readJson<AppJson>(path.join(MINIPROGRAM, 'app.json'));
}

/** The page's window settings: app.json's `window`, overridden by the page's own JSON. */
export function pageWindow(page: string): WindowJson {
  const own = readJson<WindowJson>(path.join(MINIPROGRAM, 'pages', page, `${page}.json`));
  return { ...appJson().window, ...own };
}

/** The page's index in app.json's tabBar, or -1 when it is not a tab page. */
export function tabIndex(page: string): number {
  const list = appJson().tabBar?.list ?? [];
  return list.findIndex((tab) => tab.pagePath === `pages/${page}/${page}`);
}

// ---------------------------------------------------------------------------------------------
// CSS

const escapeHtml = (text: string) =>
  text.replace(/[&<>"]/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[char] ?? char);

/** rpx at a 375 px wide phone: 750rpx = 375px. */
export function rpxToPx(css: string): string {
  return css.replace(/(\d*\.?\d+)rpx/g, (_, n: string) => `${Number(((Number(n) * PHONE.width) / 750).toFixed(3))}px`);
}

/**
 * Compiled WXSS made fit for Chromium: rpx in px; vh relative to the page's window (below the
 * navigation bar, above the tab bar) as in WeChat; the `page` selector on our <wx-page> root.
 */
function adaptCss(css: string): string {
  const scoped = css.replace(/(^|[{};])([^{};@]+)(?=\{)/g, (_, open: string, selectors: string) => {
    return open + selectors.replace(/(^|[\s,>+~(])page(?![-\w])/g, '$1wx-page');
  });
  return rpxToPx(scoped).replace(/(\d*\.?\d+)vh\b/g, (_, n: string) => `calc(${n} * var(--wx-vh))`);
}

/** A WXSS file scoped the way miniprogram-simulate scopes the classes of the component `tag`. */
export function scopedWxss(file: string, tag: string): string {
  const source = fs.existsSync(file) ? getContent(file) : '';
  return source ? adaptCss(compile(source, { prefix: tag })) : '';
}

/**
 * WeChat's built-in components as simulate renders them (`<view>` → `<wx-view>`…), with the defaults
 * of WeChat's base library ("style": "v2"); their properties arrive as data-wx-* attributes.
 */
const BUILTIN_CSS = `
wx-page, wx-view, wx-scroll-view, wx-swiper, wx-swiper-item, wx-movable-area, wx-cover-view, wx-navigator,
wx-form, wx-rich-text, wx-block { display: block; }
wx-text, wx-label { display: inline; }
wx-text { white-space: pre-line; }
[data-wx-hidden="true"] { display: none !important; }
wx-scroll-view { overflow: hidden; position: relative; }
wx-scroll-view[data-wx-scroll-y="true"] { overflow-y: auto; }
wx-scroll-view[data-wx-scroll-x="true"] { overflow-x: auto; }
wx-scroll-view::-webkit-scrollbar { display: none; }
wx-image { display: inline-block; position: relative; width: 320px; height: 240px; overflow: hidden; }
wx-image > img { display: block; width: 100%; height: 100%; object-fit: fill; }
wx-image[data-wx-mode="aspectFit"] > img { object-fit: contain; }
wx-image[data-wx-mode="aspectFill"] > img { object-fit: cover; }
wx-image[data-wx-mode="widthFix"] { height: auto; }
wx-image[data-wx-mode="widthFix"] > img { height: auto; }
wx-image[data-wx-mode="heightFix"] { width: auto; }
wx-image[data-wx-mode="heightFix"] > img { width: auto; }
wx-input, wx-textarea { display: block; overflow: hidden; white-space: nowrap; text-overflow: clip; }
wx-input { display: flex; align-items: center; height: 1.4rem; min-height: 1.4rem; }
wx-textarea { width: 300px; height: 150px; white-space: pre-wrap; }
.wx-placeholder { color: #808080; }
wx-button {
  position: relative; display: block; width: 184px; margin: 0 auto; padding: 12px 24px; box-sizing: border-box;
  font-size: 17px; font-weight: 700; line-height: 1.41176471; text-align: center; border-radius: 8px;
  color: #06ae56; background-color: #f2f2f2; overflow: hidden;
}
wx-button[data-wx-type="primary"] { color: #fff; background-color: #07c160; }
wx-button[data-wx-type="warn"] { color: #fa5151; background-color: #f2f2f2; }
wx-button[data-wx-size="mini"] { display: inline-block; width: auto; padding: 0 0.75em; font-size: 16px; line-height: 2; }
wx-button[data-wx-disabled="true"] { color: rgba(0, 0, 0, 0.18); background-color: #f2f2f2; }
wx-button[data-wx-plain="true"] { background-color: transparent; border: 1px solid currentColor; }
wx-icon { display: inline-block; }
wx-switch { display: inline-block; width: 52px; height: 32px; border-radius: 16px; background: #e5e5e5; position: relative; }
wx-switch[data-wx-checked="true"] { background: #07c160; }
wx-switch::after { content: ''; position: absolute; top: 2px; left: 2px; width: 28px; height: 28px; border-radius: 14px; background: #fff; box-shadow: 0 1px 3px rgba(0,0,0,.3); }
wx-switch[data-wx-checked="true"]::after { left: 22px; }
`;

/** The phone around the page: status bar, navigation bar, tab bar; and the fonts. */
const FRAME_CSS = `
@font-face { font-family: 'PingFang SC'; font-weight: 100 500; src: local('Noto Sans CJK SC'), local('NotoSansCJKsc-Regular'), local('Noto Sans CJK SC Regular'); }
@font-face { font-family: 'PingFang SC'; font-weight: 600 900; src: local('Noto Sans CJK SC Bold'), local('NotoSansCJKsc-Bold'); }
html, body { margin: 0; padding: 0; }
body {
  width: ${PHONE.width}px; height: ${PHONE.height}px; overflow: hidden; font-size: 16px; color: #000;
  font-family: 'PingFang SC', 'Noto Sans CJK SC', 'Helvetica Neue', sans-serif, 'Noto Color Emoji';
  -webkit-font-smoothing: antialiased;
}
.wx-phone { display: flex; flex-direction: column; height: 100%; }
.wx-bars { flex-shrink: 0; }
.wx-status { height: ${PHONE.statusBar}px; display: flex; align-items: center; justify-content: space-between; padding: 0 6px; font-size: 12px; font-weight: 600; }
.wx-status-side { width: 100px; display: flex; align-items: center; gap: 3px; }
.wx-status-side.right { justify-content: flex-end; }
.wx-signal i { display: inline-block; width: 5px; height: 5px; margin-right: 1px; border-radius: 50%; background: currentColor; }
.wx-battery { width: 22px; height: 10px; border: 1px solid currentColor; border-radius: 3px; padding: 1px; box-sizing: border-box; position: relative; }
.wx-battery::before { content: ''; display: block; height: 100%; background: currentColor; border-radius: 1px; }
.wx-battery::after { content: ''; position: absolute; right: -3px; top: 2px; width: 1.5px; height: 4px; background: currentColor; border-radius: 0 1px 1px 0; }
.wx-nav { height: ${PHONE.navigationBar}px; position: relative; display: flex; align-items: center; justify-content: center; }
.wx-nav-title { font-size: 17px; font-weight: 600; max-width: 180px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.wx-nav-back { position: absolute; left: 16px; top: 15px; width: 12px; height: 12px; border-left: 2px solid currentColor; border-bottom: 2px solid currentColor; transform: rotate(45deg); }
.wx-capsule {
  position: absolute; right: 7px; top: 6px; width: 87px; height: 32px; box-sizing: border-box; border-radius: 16px;
  border: 0.5px solid rgba(0, 0, 0, 0.12); background: rgba(255, 255, 255, 0.6); display: flex; align-items: center;
}
.wx-capsule > span { flex: 1; display: flex; align-items: center; justify-content: center; }
.wx-capsule > i { width: 0.5px; height: 18px; background: rgba(0, 0, 0, 0.15); }
.wx-dots b { width: 4px; height: 4px; margin: 0 2px; border-radius: 50%; background: currentColor; display: inline-block; }
.wx-dots b:nth-child(2) { width: 6px; height: 6px; }
.wx-close { width: 16px; height: 16px; border: 2px solid currentColor; border-radius: 50%; box-sizing: border-box; position: relative; }
.wx-close::after { content: ''; position: absolute; left: 3px; top: 3px; width: 6px; height: 6px; border-radius: 50%; background: currentColor; }
.wx-viewport { flex: 1; min-height: 0; position: relative; overflow-x: hidden; overflow-y: auto; transform: translateZ(0); }
.wx-viewport::-webkit-scrollbar { display: none; }
wx-page { min-height: 100%; }
.wx-tabbar { flex-shrink: 0; height: ${PHONE.tabBar}px; display: flex; box-sizing: border-box; }
.wx-tab { flex: 1; display: flex; flex-direction: column; align-items: center; justify-content: center; font-size: 14px; }
.wx-tab.has-icon { font-size: 10px; }
.wx-tab img { width: 24px; height: 24px; display: block; margin-bottom: 2px; }
.wx-tab-label { position: relative; }
.wx-tab-badge {
  position: absolute; left: 100%; top: -9px; margin-left: -2px; min-width: 18px; height: 18px; padding: 0 5px; box-sizing: border-box;
  border-radius: 9px; background: #fa5151; color: #fff; font-size: 12px; line-height: 18px; text-align: center; font-weight: 400;
}
.wx-tab-dot { position: absolute; left: 100%; top: -3px; width: 8px; height: 8px; border-radius: 4px; background: #fa5151; }
`;

/** Scrolls scroll-views as their scroll-into-view / scroll-top say; run.js calls it once images are in. */
const LAYOUT_SCRIPT = `
window.__wxLayout = function () {
  for (const view of document.querySelectorAll('wx-scroll-view')) {
    const id = view.getAttribute('data-wx-scroll-into-view');
    const target = id ? document.getElementById(id) : null;
    if (target && view.contains(target)) {
      view.scrollTop += target.getBoundingClientRect().top - view.getBoundingClientRect().top;
    } else if (view.hasAttribute('data-wx-scroll-top')) {
      view.scrollTop = Number(view.getAttribute('data-wx-scroll-top'));
    }
    if (view.hasAttribute('data-wx-scroll-left')) view.scrollLeft = Number(view.getAttribute('data-wx-scroll-left'));
  }
};
`;

// ---------------------------------------------------------------------------------------------
// The page's DOM

/** The part of miniprogram-exparser's nodes (behind simulate's DOM) that we read. */
interface ExparserNode {
  /** The DOM element the node rendered (text nodes: a Text). */
  $$?: unknown;
  /** The template node: its attributes with their current values. */
  _vt?: { attrs?: Array<{ name: string; value: unknown }> };
  shadowRoot?: ExparserNode | null;
  childNodes?: ExparserNode[];
}

const dashCase = (name: string) => name.replace(/[A-Z]/g, (char) => `-${char.toLowerCase()}`);

/**
 * Copies what simulate keeps off the DOM onto it: built-in components' properties (an input's value
 * and placeholder, an image's src, a button's type…) as data-wx-* attributes, ids (for
 * scroll-into-view), and inline styles with rpx converted at our scale (simulate takes 1rpx as 1px).
 */
function annotate(node: ExparserNode): void {
  const dom = node.$$;
  if (dom instanceof Element && node._vt?.attrs) {
    for (const { name, value } of node._vt.attrs) {
      if (name === 'class' || name.startsWith('data-')) continue;
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') continue;
      const text = String(value);
      if (name === 'id') {
        if (text) dom.setAttribute('id', text);
      } else if (name === 'style') {
        dom.setAttribute('style', rpxToPx(text));
      } else {
        dom.setAttribute(`data-wx-${dashCase(name)}`, text);
      }
    }
  }
  if (node.shadowRoot) annotate(node.shadowRoot);
  for (const child of node.childNodes ?? []) annotate(child);
}

/** Shows what WeChat draws natively: an input's text or placeholder, an image's picture. */
function fillNatives(root: Element): void {
  const doc = root.ownerDocument;
  for (const input of Array.from(root.querySelectorAll('wx-input, wx-textarea'))) {
    const value = input.getAttribute('data-wx-value') ?? '';
    const span = doc.createElement('span');
    if (value) {
      span.textContent = input.getAttribute('data-wx-password') === 'true' ? '•'.repeat(value.length) : value;
    } else {
      span.className = 'wx-placeholder';
      span.textContent = input.getAttribute('data-wx-placeholder') ?? '';
      const style = input.getAttribute('data-wx-placeholder-style');
      if (style) span.setAttribute('style', rpxToPx(style));
    }
    input.replaceChildren(span);
  }
  for (const image of Array.from(root.querySelectorAll('wx-image'))) {
    const src = image.getAttribute('data-wx-src');
    if (!src) continue;
    const img = doc.createElement('img');
    img.setAttribute('src', src);
    img.setAttribute('alt', '');
    image.prepend(img);
  }
}

export interface PageDocumentOptions {
  /** The page's directory name under miniprogram/pages. */
  page: string;
  /** The tag simulate loaded it under, which prefixes its classes. */
  tag: string;
  /** simulate's rendered page: `dom` is its host element, `_exparserNode` the tree behind it. */
  rendered: { dom: Element | undefined };
  /** The navigation bar's title (wx.setNavigationBarTitle's, else the page JSON's). */
  title: string;
  /** Tab badges by tab index: text, or '' for a red dot. */
  tabBadges: Map<number, string>;
  /** The status bar's clock. */
  clock: string;
}

/** The standalone HTML document of a rendered page. */
export function pageDocument(options: PageDocumentOptions): string {
  const { page, tag, rendered } = options;
  const host = rendered.dom;
  if (!host) throw new Error(`page ${page} has no DOM`);
  annotate((rendered as unknown as { _exparserNode: ExparserNode })._exparserNode);
  fillNatives(host);

  const app = appJson();
  const window = pageWindow(page);
  const tab = tabIndex(page);
  const tabBar = tab >= 0 ? app.tabBar : undefined;
  const viewportHeight = PHONE.height - PHONE.statusBar - PHONE.navigationBar - (tabBar ? PHONE.tabBar : 0);
  const barColor = window.navigationBarTextStyle === 'white' ? '#fff' : '#000';
  const wxss = [
    scopedWxss(path.join(MINIPROGRAM, 'app.wxss'), tag),
    scopedWxss(path.join(MINIPROGRAM, 'pages', page, `${page}.wxss`), tag),
  ].join('\n');

  const bars = `
<div class="wx-bars" style="background:${window.navigationBarBackgroundColor ?? '#fff'};color:${barColor}">
  <div class="wx-status">
    <span class="wx-status-side"><span class="wx-signal"><i></i><i></i><i></i><i></i><i></i></span>WeChat</span>
    <span>${escapeHtml(options.clock)}</span>
    <span class="wx-status-side right">100%<span class="wx-battery"></span></span>
  </div>
  <div class="wx-nav">
    ${tabBar ? '' : '<span class="wx-nav-back"></span>'}
    <span class="wx-nav-title">${escapeHtml(options.title)}</span>
    <div class="wx-capsule"><span class="wx-dots"><b></b><b></b><b></b></span><i></i><span><span class="wx-close"></span></span></div>
  </div>
</div>`;

  const tabs = tabBar
    ? `
<div class="wx-tabbar" style="background:${tabBar.backgroundColor ?? '#f7f7f7'};border-top:0.5px solid ${
        tabBar.borderStyle === 'white' ? 'rgba(255,255,255,.33)' : 'rgba(0,0,0,.33)'
      }">
${tabBar.list
  .map((item, index) => {
    const selected = index === tab;
    const icon = selected ? (item.selectedIconPath ?? item.iconPath) : item.iconPath;
    const badge = options.tabBadges.get(index);
    const mark =
      badge === undefined
        ? ''
        : badge
          ? `<span class="wx-tab-badge">${escapeHtml(badge)}</span>`
          : '<span class="wx-tab-dot"></span>';
    const color = selected ? (tabBar.selectedColor ?? '#07c160') : (tabBar.color ?? '#7a7e83');
    const img = icon ? `<img src="file://${path.join(MINIPROGRAM, icon)}" alt="">` : '';
    return `  <div class="wx-tab${icon ? ' has-icon' : ''}" style="color:${color}">${img}<span class="wx-tab-label">${escapeHtml(item.text)}${mark}</span></div>`;
  })
  .join('\n')}
</div>`
    : '';

  return `<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=${PHONE.width}">
<title>${escapeHtml(options.title)} (${escapeHtml(page)})</title>
<style>${FRAME_CSS}</style>
<style>${BUILTIN_CSS}</style>
<style>/* app.wxss and ${page}.wxss, scoped as miniprogram-simulate scopes ${tag} */
${wxss}</style>
</head>
<body style="background:${window.backgroundColor ?? '#fff'}">
<div class="wx-phone">${bars}
<div class="wx-viewport" style="--wx-vh:${viewportHeight / 100}px"><wx-page>${host.innerHTML}</wx-page></div>${tabs}
</div>
<script>${LAYOUT_SCRIPT}</script>
</body>
</html>
`;
}
