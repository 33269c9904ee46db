import { ApiError } from '../core/api';

/**
 * What a failed group action tells the user, in WeChat's words: the server's error code
 * (docs/protocol.md, "Groups") decides, a network failure says so.
 */
export function groupErrorText(error: unknown, fallback = '操作失败，请稍后再试'): string {
  if (!(error instanceof ApiError)) return fallback;
  if (error.status === 0) return '网络连接失败，请稍后再试';
  switch (error.code) {
    case 'forbidden':
      return '你没有权限进行此操作';
    case 'not_found':
      return '群聊不存在或已解散';
    case 'group_full':
      return '群成员人数已达上限';
    case 'bad_request':
      return '内容不符合要求，请修改后再试';
    case 'content_refused':
      return '内容含有违规信息，请修改后再试';
    default:
      return fallback;
  }
}

/** Shows a failed group action's reason as a toast (text only: WeChat's icons cut long text). */
export function showGroupError(error: unknown, fallback?: string): void {
  void wx.showToast({ title: groupErrorText(error, fallback), icon: 'none' });
}
