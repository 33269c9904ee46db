import { reaction } from 'mobx-miniprogram';
import type { ErrorsView } from '../stores/errors';

/** The part of `wx` the toast needs. */
export type ToastApi = Pick<WechatMiniprogram.Wx, 'showToast'>;

/**
 * Problems written for the user (a picture or a recording that could not be sent, a setting the
 * server refused, a recording that failed) show as WeChat's plain toast on whatever page is open.
 */
export function watchErrors(errors: ErrorsView, api: ToastApi): () => void {
  return reaction(
    () => errors.last,
    (error) => {
      if (error?.forUser) void api.showToast({ title: error.message, icon: 'none', duration: 2500 });
    },
  );
}
