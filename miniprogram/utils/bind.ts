import { createStoreBindings } from 'mobx-miniprogram-bindings';

export type Unbind = () => void;

/**
 * Keeps page data fields equal to MobX-derived values (through mobx-miniprogram-bindings, which
 * batches them into one setData per tick). Returns the function that ends the binding; call it
 * when the page or component detaches.
 */
export function bindFields(
  target: WechatMiniprogram.Component.TrivialInstance,
  fields: Record<string, () => unknown>,
): Unbind {
  const manager = createStoreBindings(target, { store: {}, fields, actions: {} });
  return () => manager.destroyStoreBindings();
}
