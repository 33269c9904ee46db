import { reaction } from 'mobx-miniprogram';
import type { SessionsView } from '../stores/sessions';
import { badgeText } from './format';

/** The part of `wx` the tab badge needs. */
export type TabBarApi = Pick<WechatMiniprogram.Wx, 'setTabBarBadge' | 'removeTabBarBadge'>;

/** The session list's tab (index 0) shows the total unread count, 99+ above 99. */
export function watchTabBadge(sessions: SessionsView, api: TabBarApi): () => void {
  return reaction(
    () => sessions.totalUnread,
    (total) => {
      // The tab bar may not exist yet (a page without it on top); the next change retries.
      const ignore = () => undefined;
      if (total > 0) api.setTabBarBadge({ index: 0, text: badgeText(total), fail: ignore });
      else api.removeTabBarBadge({ index: 0, fail: ignore });
    },
    { fireImmediately: true },
  );
}
