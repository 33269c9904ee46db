/**
 * The data of a subscription message: which of our fields goes into which keyword of the template
 * (`WX_SUBSCRIBE_FIELDS`), and each value cut to what WeChat accepts for the keyword's type, so a
 * send is never refused for a value's length or form. Pure functions, no I/O.
 */

/** What the server can put into a keyword. */
export type SubscribeField = 'sender' | 'text' | 'time' | 'conversation';

export const SUBSCRIBE_FIELDS: readonly SubscribeField[] = ['sender', 'text', 'time', 'conversation'];

/**
 * The keyword types (the key's name without its number: `thing1` is a `thing`) that can carry our
 * fields, and WeChat's rule for each (mp.weixin.qq.com, 订阅消息 › 参数值内容限制).
 */
export type KeywordType = 'thing' | 'short_thing' | 'name' | 'phrase' | 'time' | 'date';

const KEYWORD_TYPES: readonly KeywordType[] = ['thing', 'short_thing', 'name', 'phrase', 'time', 'date'];

/** The fields a keyword type can carry: a time only in a time, a date or a free text. */
const CARRIES: Record<KeywordType, readonly SubscribeField[]> = {
  thing: SUBSCRIBE_FIELDS,
  short_thing: ['sender', 'text', 'conversation'],
  name: ['sender', 'text', 'conversation'],
  phrase: ['sender', 'text', 'conversation'],
  time: ['time'],
  date: ['time'],
};

/** One keyword of the template: its key (`thing1`), its type, and the field it shows. */
export interface Keyword {
  key: string;
  type: KeywordType;
  field: SubscribeField;
}

/** The keyword type of a key: its name without the trailing number (`character_string3` → `character_string`). */
export function keywordType(key: string): string {
  const match = /^([a-z_]+?)\d+$/.exec(key);
  return match ? match[1] : key;
}

/**
 * `WX_SUBSCRIBE_FIELDS` read: a JSON object of template key → field. Throws one sentence saying
 * what is wrong (not JSON, not an object, an unknown field, a key whose type cannot carry it).
 */
export function parseSubscribeFields(raw: string): Keyword[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error(
      `WX_SUBSCRIBE_FIELDS must be a JSON object of template key → field, e.g. {"thing1":"sender","thing2":"text","time3":"time"}; got text that is not JSON`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || Object.keys(parsed).length === 0) {
    throw new Error(
      'WX_SUBSCRIBE_FIELDS must be a non-empty JSON object of template key → field, e.g. {"thing1":"sender","thing2":"text","time3":"time"}',
    );
  }
  const keywords: Keyword[] = [];
  for (const [key, field] of Object.entries(parsed as Record<string, unknown>)) {
    if (typeof field !== 'string' || !(SUBSCRIBE_FIELDS as readonly string[]).includes(field)) {
      throw new Error(
        `WX_SUBSCRIBE_FIELDS maps "${key}" to ${JSON.stringify(field)}, which is not a field: use one of ${SUBSCRIBE_FIELDS.join(', ')}`,
      );
    }
    const type = keywordType(key);
    if (!(KEYWORD_TYPES as readonly string[]).includes(type)) {
      throw new Error(
        `WX_SUBSCRIBE_FIELDS names the key "${key}", whose type "${type}" cannot carry a chat reminder: use keys of type ${KEYWORD_TYPES.join(', ')} (the key's name without its number)`,
      );
    }
    if (!CARRIES[type as KeywordType].includes(field as SubscribeField)) {
      throw new Error(
        `WX_SUBSCRIBE_FIELDS maps the ${type} key "${key}" to "${field}", which a ${type} cannot hold: a ${type} takes ${CARRIES[type as KeywordType].join(' or ')}`,
      );
    }
    keywords.push({ key, type: type as KeywordType, field: field as SubscribeField });
  }
  return keywords;
}

/** The values of our fields for one reminder, before they are fitted to the keywords. */
export type FieldValues = Record<Exclude<SubscribeField, 'time'>, string> & { time: number };

/** Most characters (code points) WeChat takes per text type. */
const MAX_CHARACTERS: Record<'thing' | 'short_thing' | 'phrase', number> = { thing: 20, short_thing: 5, phrase: 5 };
/** `name`: 10 characters, or 20 when they are all letters and symbols (ASCII). */
const NAME_MAX = 10;
const NAME_MAX_ASCII = 20;
/** What an empty value becomes (WeChat refuses empty values); Chinese, so a `phrase` takes it too. */
const EMPTY = '新消息';
/** Reminders show the time in China Standard Time (UTC+8), as their readers do. */
const CST_OFFSET_MS = 8 * 3600 * 1000;

/** `2026年12月2日 13:46`: WeChat's format of a `time` (with its date) and of a `date` (with a time). */
export function wechatTime(ts: number): string {
  const d = new Date(ts + CST_OFFSET_MS);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}年${d.getUTCMonth() + 1}月${d.getUTCDate()}日 ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

/** `text` as at most `max` characters (code points, never half a surrogate pair); `ellipsis` ends a cut one with `…`. */
function cut(text: string, max: number, ellipsis: boolean): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  return ellipsis ? `${chars.slice(0, max - 1).join('')}…` : chars.slice(0, max).join('');
}

/** One value fitted to a keyword type. */
export function fitValue(type: KeywordType, value: string | number): string {
  if (type === 'time' || type === 'date') return typeof value === 'number' ? wechatTime(value) : value;
  const text = typeof value === 'number' ? wechatTime(value) : value.replace(/\s+/g, ' ').trim();
  if (text === '') return EMPTY;
  if (type === 'thing') return cut(text, MAX_CHARACTERS.thing, true);
  if (type === 'name') return cut(text, /^[\x21-\x7e ]+$/.test(text) ? NAME_MAX_ASCII : NAME_MAX, false);
  return cut(text, MAX_CHARACTERS[type], false);
}

/** The `data` of a subscribe/send call: each keyword with its field's value, fitted. */
export function messageData(keywords: readonly Keyword[], values: FieldValues): Record<string, { value: string }> {
  const data: Record<string, { value: string }> = {};
  for (const { key, type, field } of keywords) data[key] = { value: fitValue(type, values[field]) };
  return data;
}
