/**
 * The two mini-program globals the measured code touches, faked for Node. Imported first by
 * setdata.ts (imports run in order): mobx-miniprogram-bindings calls `Behavior()` as it loads.
 */
const globals = globalThis as unknown as {
  wx: Pick<WechatMiniprogram.Wx, 'nextTick'>;
  Behavior: (options: unknown) => string;
};

// The bindings schedule their setData with wx.nextTick, as in the mini-program: here a microtask.
globals.wx = { nextTick: (callback: () => void) => queueMicrotask(callback) };
// Only its component behaviour needs it, which the benchmark does not use.
globals.Behavior = () => 'behavior';

export {};
