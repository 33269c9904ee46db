import { ApiError } from '../../miniprogram/core/api';
import { groupErrorText } from '../../miniprogram/utils/group-error';

describe('what a refused group action tells the user', () => {
  it.each([
    [new ApiError(403, 'forbidden', 'not a manager'), '你没有权限进行此操作'],
    [new ApiError(404, 'not_found', 'no group'), '群聊不存在或已解散'],
    [new ApiError(409, 'group_full', 'full'), '群成员人数已达上限'],
    [new ApiError(422, 'content_refused', 'risky'), '内容含有违规信息，请修改后再试'],
    [new ApiError(0, 'network', 'request:fail'), '网络连接失败，请稍后再试'],
    [new Error('anything else'), '操作失败，请稍后再试'],
  ])('%s → %s', (error, text) => {
    expect(groupErrorText(error)).toBe(text);
  });
});
