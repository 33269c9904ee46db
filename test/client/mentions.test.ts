import type { GroupMember } from '../../contract/http';
import { MENTION_ALL, insertMention, mentionChoices, mentionIds, typedAt } from '../../miniprogram/utils/mentions';

const members: GroupMember[] = [
  { id: 'uOwner', nickname: '林晓雨', avatar: '', role: 'owner' },
  { id: 'uMe', nickname: '李想', avatar: '', role: 'member' },
  { id: 'uZi', nickname: '陈子昂', avatar: 'http://x/a.jpg', role: 'admin' },
];

describe('composing mentions', () => {
  it('opens the picker only for one `@` typed, not pasted or left behind by a deletion', () => {
    expect(typedAt('你好', '你好@', 3)).toBe(2);
    expect(typedAt('你好', '@你好', 1)).toBe(0);
    expect(typedAt('你好', '你好@@', 4)).toBe(-1);
    expect(typedAt('你好@x', '你好@', 3)).toBe(-1);
    expect(typedAt('你好', '你好a', 3)).toBe(-1);
  });

  it('lists every other member, 所有人 first for the owner and admins only, narrowed by a search', () => {
    expect(mentionChoices(members, 'uMe', 'member').map((choice) => choice.nickname)).toEqual(['林晓雨', '陈子昂']);
    expect(mentionChoices(members, 'uZi', 'admin').map((choice) => choice.id)).toEqual([MENTION_ALL, 'uOwner', 'uMe']);
    expect(mentionChoices(members, 'uOwner', 'owner', '陈')).toEqual([
      { id: 'uZi', nickname: '陈子昂', avatar: 'http://x/a.jpg', initial: '陈' },
    ]);
  });

  it('puts the name after the `@` that opened the picker, or at the end when it is gone', () => {
    expect(insertMention('周六@去吗', 2, '李想')).toBe('周六@李想 去吗');
    expect(insertMention('周六去吗', 2, '李想')).toBe('周六去吗@李想 ');
  });

  it('sends only the mentions still in the text, each once', () => {
    const chosen = [
      { id: 'uZi', name: '陈子昂' },
      { id: 'uOwner', name: '林晓雨' },
      { id: 'uZi', name: '陈子昂' },
    ];
    expect(mentionIds('@陈子昂 周六见', chosen)).toEqual(['uZi']);
    expect(mentionIds('周六见', chosen)).toEqual([]);
  });
});
