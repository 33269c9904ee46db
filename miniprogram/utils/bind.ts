import { reaction } from 'mobx-miniprogram';

export type Unbind = () => void;

/** What a binding needs of a page or component. */
export interface SetDataTarget {
  setData(data: Record<string, unknown>): void;
}

/** Past this share of changed items, one whole array is cheaper than many paths. */
const WHOLE_ARRAY_SHARE = 0.5;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The smallest setData paths that turn `before` into `after` for one list item: the item's
 * changed top-level fields (`sessions[3].unread`), or the whole item when most of it changed.
 */
function itemPaths(path: string, before: unknown, after: unknown, out: Record<string, unknown>): void {
  if (!isPlainObject(before) || !isPlainObject(after)) {
    out[path] = after;
    return;
  }
  const keys = Object.keys(after);
  if (Object.keys(before).some((key) => !(key in after))) {
    out[path] = after;
    return;
  }
  const changed = keys.filter((key) => before[key] !== after[key]);
  if (changed.length * 2 > keys.length) {
    out[path] = after;
    return;
  }
  for (const key of changed) out[`${path}.${key}`] = after[key];
}

/**
 * The setData payload that turns list `before` into `after`. Stores replace a changed item and
 * keep every other item's identity, so an append or an in-place change costs paths for the
 * changed items only, whatever the list's length (`messages[120]`, `sessions[0].unread`).
 * A shrink or a change to most of the list sends the whole array.
 */
export function listPatch(key: string, before: readonly unknown[], after: readonly unknown[]): Record<string, unknown> {
  if (after.length < before.length) return { [key]: after };
  const changedIndexes: number[] = [];
  for (let i = 0; i < after.length; i++) {
    if (i >= before.length || before[i] !== after[i]) changedIndexes.push(i);
  }
  if (changedIndexes.length > 1 && changedIndexes.length > after.length * WHOLE_ARRAY_SHARE) return { [key]: after };
  const patch: Record<string, unknown> = {};
  for (const i of changedIndexes) {
    if (i >= before.length) patch[`${key}[${i}]`] = after[i];
    else itemPaths(`${key}[${i}]`, before[i], after[i], patch);
  }
  return patch;
}

/**
 * Keeps page data fields equal to MobX-derived values, sending path updates for lists instead of
 * whole arrays (mobx-miniprogram-bindings re-sends a bound array whole on every change). Changes
 * made in one tick go out as one setData. Returns the function that ends the binding.
 */
export function bindData(target: SetDataTarget, fields: Record<string, () => unknown>): Unbind {
  let pending: Record<string, unknown> | null = null;
  let stopped = false;

  const flush = () => {
    const data = pending;
    pending = null;
    if (data && !stopped && Object.keys(data).length > 0) target.setData(data);
  };

  const queue = (key: string, after: unknown, patch: Record<string, unknown>) => {
    if (!pending) {
      pending = {};
      wx.nextTick(flush);
    }
    if (key in patch || key in pending) {
      // The whole field goes out this tick: its newest value, and none of its paths.
      for (const path of Object.keys(pending)) {
        if (path.startsWith(`${key}[`) || path.startsWith(`${key}.`)) delete pending[path];
      }
      pending[key] = after;
      return;
    }
    Object.assign(pending, patch);
  };

  const disposers = Object.entries(fields).map(([key, read]) =>
    reaction(
      read,
      (after, before) => {
        const patch = Array.isArray(after) && Array.isArray(before) ? listPatch(key, before, after) : { [key]: after };
        queue(key, after, patch);
      },
      { fireImmediately: true },
    ),
  );
  flush();

  return () => {
    stopped = true;
    for (const dispose of disposers) dispose();
  };
}
