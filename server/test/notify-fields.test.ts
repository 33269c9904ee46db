/**
 * The data of a reminder (server/src/notify/fields.ts): WX_SUBSCRIBE_FIELDS read, and each value
 * fitted to its keyword type as WeChat requires, so a send is never refused for a value's length.
 */
import { fitValue, keywordType, messageData, parseSubscribeFields, wechatTime } from '../src/notify/fields';
import { excerpt } from '../src/notify/reminders';

// 2026-12-02 05:46 UTC is 13:46 in China.
const TS = Date.UTC(2026, 11, 2, 5, 46, 30);

describe('keyword types', () => {
  it('are the key without its number', () => {
    expect(
      ['thing1', 'time12', 'name3', 'phrase4', 'short_thing5', 'character_string6', 'date7'].map(keywordType),
    ).toEqual(['thing', 'time', 'name', 'phrase', 'short_thing', 'character_string', 'date']);
  });
});

describe('fitting a value', () => {
  it('thing: at most 20 characters, a cut one ending in …; code points, never half an emoji', () => {
    expect(fitValue('thing', '短消息')).toBe('短消息');
    expect(fitValue('thing', 'a'.repeat(20))).toBe('a'.repeat(20));
    expect(fitValue('thing', 'a'.repeat(21))).toBe(`${'a'.repeat(19)}…`);
    const emoji = fitValue('thing', '😀'.repeat(30));
    expect(Array.from(emoji)).toHaveLength(20);
    expect(emoji).toBe(`${'😀'.repeat(19)}…`);
  });

  it('folds line breaks and runs of spaces into one space; an empty value becomes 新消息', () => {
    expect(fitValue('thing', ' line one\n\nline  two ')).toBe('line one line two');
    expect(fitValue('thing', '   ')).toBe('新消息');
    expect(fitValue('phrase', '')).toBe('新消息');
  });

  it('name: 10 characters, or 20 when all letters and symbols; phrase and short_thing: 5', () => {
    expect(fitValue('name', '一二三四五六七八九十十一')).toBe('一二三四五六七八九十');
    expect(fitValue('name', 'Alexander_the_Great_of_Macedon')).toBe('Alexander_the_Great_');
    expect(fitValue('name', 'Ann李四五六七八九十十一')).toBe('Ann李四五六七八九');
    expect(fitValue('phrase', '新消息提醒你')).toBe('新消息提醒');
    expect(fitValue('short_thing', 'abcdefgh')).toBe('abcde');
  });

  it("time and date: WeChat's format, in China Standard Time", () => {
    expect(wechatTime(TS)).toBe('2026年12月2日 13:46');
    expect(fitValue('time', TS)).toBe('2026年12月2日 13:46');
    expect(fitValue('date', TS)).toBe('2026年12月2日 13:46');
    // Past midnight in China while still the day before in UTC.
    expect(wechatTime(Date.UTC(2026, 0, 31, 16, 5))).toBe('2026年2月1日 00:05');
    // A time in a thing is the same text.
    expect(fitValue('thing', TS)).toBe('2026年12月2日 13:46');
  });
});

describe("a reminder's data", () => {
  it("fills each key of WX_SUBSCRIBE_FIELDS with its field, fitted to the key's type", () => {
    const keywords = parseSubscribeFields(
      '{"name1":"sender","thing2":"text","time3":"time","thing4":"conversation","phrase5":"text"}',
    );
    const data = messageData(keywords, {
      sender: '周末爬山小分队: 张三丰',
      text: '明天早上七点在山脚下集合，记得带水和干粮，不见不散',
      time: TS,
      conversation: '周末爬山小分队',
    });
    expect(data).toEqual({
      name1: { value: '周末爬山小分队: 张' },
      thing2: { value: '明天早上七点在山脚下集合，记得带水和干…' },
      time3: { value: '2026年12月2日 13:46' },
      thing4: { value: '周末爬山小分队' },
      phrase5: { value: '明天早上七' },
    });
  });

  it('shows a picture as [图片] and a voice message as [语音]', () => {
    expect(excerpt({ kind: 'image', body: 'https://chat.example/uploads/a.png' })).toBe('[图片]');
    expect(excerpt({ kind: 'voice', body: 'https://chat.example/uploads/a.m4a' })).toBe('[语音]');
    expect(excerpt({ kind: 'text', body: 'hi' })).toBe('hi');
  });
});
