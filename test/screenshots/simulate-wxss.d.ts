// miniprogram-simulate's WXSS helpers (src/wxss.js), which ship without types: the screenshots compile
// each page's WXSS with them so that it is scoped exactly as simulate scopes the page's classes.
declare module 'miniprogram-simulate/src/wxss' {
  /** The file's WXSS with its @imports inlined ('' when there is no file). */
  export function getContent(filePath: string): string;
  /** Prefixes every class selector (`.x` → `.<prefix>--x`) and minifies; rpx stays as it is. */
  export function compile(wxss: string, options?: { prefix?: string; less?: boolean }): string;
}
