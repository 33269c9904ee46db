import type { Phone } from '../support/app';
import { directConversationId } from '../../contract/conversations';
import type { ChatMessage, DirectoryEntry, GroupSessionEntry, PublicUser, SessionEntry } from '../../contract/frames';
import type { Group, GroupMember } from '../../contract/http';

/**
 * The states `npm run screenshots` renders, one PNG each (docs/screenshots/<name>.png), in this order.
 * To add one: append an entry whose `fill` puts the stores (and anything the page asks the client for)
 * into the state, as the client's frames would. Each state gets a fresh client that never connects,
 * with `ME` logged in; the clock reads `NOW`.
 */
export interface ScreenshotState {
  /** The PNG's file name, without `.png`. */
  name: string;
  /** The page under miniprogram/pages/. */
  page: string;
  /** One line for the README and the run's log. */
  caption: string;
  /** The page's query (its properties), e.g. `{ conv }` for the message page. */
  query?: Record<string, string>;
  /** Fills the client's stores. */
  fill(phone: Phone): void;
  /** After the first render: taps, typing… (`page` is miniprogram-simulate's rendered page). */
  interact?(page: SimulatedPage): Promise<void> | void;
}

/** What `interact` may use of a page rendered by miniprogram-simulate. */
export interface SimulatedPage {
  querySelector(selector: string): SimulatedNode | undefined;
  querySelectorAll(selector: string): SimulatedNode[];
  /** The page's own setData: for what a frozen clock cannot show (a recording's elapsed time). */
  setData(data: Record<string, unknown>): void;
}

/** A node of the rendered page: events go in as miniprogram-simulate takes them (touches as {x, y}). */
export interface SimulatedNode {
  dispatchEvent(name: string, options?: { detail?: unknown; touches?: unknown[]; changedTouches?: unknown[] }): void;
}

/** The screenshots' clock: a Wednesday evening, local time (the run sets TZ=Asia/Shanghai). */
export const NOW = new Date(2025, 5, 18, 21, 30, 0).getTime();
const DAY = 86_400_000;
/** Local time `days` ago at hh:mm. */
function at(days: number, hh: number, mm: number): number {
  const date = new Date(NOW - days * DAY);
  date.setHours(hh, mm, 0, 0);
  return date.getTime();
}

// Images: URLs as the server answers uploads (<base>/uploads/<name>); the screenshot run serves every
// image request from test/screenshots/fixtures/ by the file's base name (photo-lotus.jpg → photo-lotus.svg).
const SERVER = 'http://127.0.0.1:9';
const upload = (name: string) => `${SERVER}/uploads/${name}.jpg`;

export const ME: PublicUser = { id: 'u7Hk2Lm9Qa01', nickname: '李想', avatar: upload('avatar-me') };

const people = {
  xiaoyu: { id: 'u3Fq8Ws1Za02', nickname: '林晓雨', avatar: upload('avatar-flower') },
  ziang: { id: 'u5Rt6Yx2Cb03', nickname: '陈子昂', avatar: '' },
  yiming: { id: 'u8Nb4Vm7Dc04', nickname: '周一鸣', avatar: upload('avatar-cat') },
  min: { id: 'u2Kd9Pl3Ed05', nickname: '赵敏', avatar: '' },
  dad: { id: 'u6Jh1Gf5Fe06', nickname: '老爸', avatar: upload('avatar-mountain') },
  na: { id: 'u9Lz7Xc4Gf07', nickname: '李娜', avatar: '' },
  hao: { id: 'u4Mw3Qe8Hg08', nickname: '孙浩', avatar: '' },
  jing: { id: 'u1Pv5Bn6Jh09', nickname: '吴静', avatar: '' },
} satisfies Record<string, PublicUser>;
type Person = keyof typeof people;

const convWith = (peer: PublicUser) => directConversationId(ME.id, peer.id);

let cidSeed = 0;
function message(
  peer: PublicUser,
  seq: number,
  from: PublicUser,
  ts: number,
  body: string,
  kind: ChatMessage['kind'] = 'text',
): ChatMessage {
  cidSeed += 1;
  return { conv: convWith(peer), seq, cid: `shot${cidSeed}`, from: from.id, kind, body, ts };
}

/** A session whose last message is `last`, with `unread` unread messages. */
function session(person: Person, last: ChatMessage, unread: number): SessionEntry {
  return {
    conv: last.conv,
    peer: people[person],
    last,
    lastSeq: last.seq,
    readSeq: last.seq - unread,
    peerReadSeq: last.from === ME.id ? last.seq : 0,
    unread,
  };
}

const LAST_FROM_XIAOYU = '周六下午三点，断桥见 🌸';

function sessionList(): SessionEntry[] {
  const { xiaoyu, ziang, yiming, min, dad, na, hao, jing } = people;
  return [
    session('xiaoyu', message(xiaoyu, 42, xiaoyu, NOW - 20_000, LAST_FROM_XIAOYU), 2),
    session('ziang', message(ziang, 17, ziang, at(0, 21, 5), upload('photo-lotus'), 'image'), 1),
    session('yiming', message(yiming, 388, yiming, at(0, 20, 47), '哈哈哈哈哈哈哈笑死我了，你快看群里'), 136),
    session('min', message(min, 56, ME, at(0, 18, 42), '好的，收到，明天上午十点会议室见'), 0),
    session('dad', message(dad, 230, dad, at(1, 19, 20), '周末回家吃饭吗？你妈做了红烧肉'), 0),
    session('na', message(na, 12, na, at(6, 22, 15), '谢谢你推荐的那本书，真的很好看！'), 0),
    session('hao', message(hao, 9, ME, at(19, 17, 3), '下次一起打球 🏀'), 0),
    session(
      'jing',
      message(jing, 31, jing, new Date(2024, 11, 28, 10, 0).getTime(), '文件我已经发到你邮箱了，查收一下'),
      0,
    ),
  ];
}

/** The conversation with 林晓雨: yesterday evening, then tonight (gaps for time separators). */
function conversation(): { conv: string; messages: ChatMessage[]; lastReadByPeer: number } {
  const { xiaoyu } = people;
  const messages = [
    message(xiaoyu, 36, xiaoyu, at(1, 20, 14), '这周末有空吗？想去西湖边走走'),
    message(xiaoyu, 37, ME, at(1, 20, 31), '有空呀！周六还是周日？'),
    message(xiaoyu, 38, xiaoyu, at(1, 20, 32), '周六吧，周日好像要下雨 ☔'),
    message(xiaoyu, 39, xiaoyu, at(0, 21, 2), upload('photo-lotus'), 'image'),
    message(xiaoyu, 40, xiaoyu, at(0, 21, 2), '曲院风荷的荷花都开了'),
    message(xiaoyu, 41, ME, at(0, 21, 10), '好美！几点见面？'),
    message(xiaoyu, 42, xiaoyu, NOW - 20_000, LAST_FROM_XIAOYU),
  ];
  return { conv: convWith(xiaoyu), messages, lastReadByPeer: 41 };
}

/**
 * The conversation with 林晓雨 for the message actions: a moment ago, with a quote each way, one
 * message of hers recalled and one of the user's recalled a minute ago (重新编辑 still offered).
 */
function actionsConversation(): { conv: string; messages: ChatMessage[] } {
  const { xiaoyu } = people;
  const question = message(xiaoyu, 50, xiaoyu, NOW - 600_000, '明天去灵隐寺还是法喜寺？听说法喜寺的玉兰开了');
  const answer = message(xiaoyu, 51, ME, NOW - 540_000, '法喜寺吧，人少一点');
  const quoteOf = (of: ChatMessage) => ({ seq: of.seq, from: of.from, kind: of.kind, excerpt: of.body.slice(0, 50) });
  const messages: ChatMessage[] = [
    question,
    answer,
    { ...message(xiaoyu, 52, xiaoyu, NOW - 480_000, '好，那早上九点出发'), reply: quoteOf(answer) },
    message(xiaoyu, 53, xiaoyu, NOW - 300_000, '', 'recalled'),
    message(xiaoyu, 54, xiaoyu, NOW - 290_000, JSON.stringify({ event: 'recalled', seq: 53 }), 'system'),
    { ...message(xiaoyu, 55, ME, NOW - 200_000, '九点可以，我去接你 🚗'), reply: quoteOf(question) },
    message(xiaoyu, 56, ME, NOW - 90_000, '', 'recalled'),
    message(xiaoyu, 57, ME, NOW - 60_000, JSON.stringify({ event: 'recalled', seq: 56 }), 'system'),
    message(xiaoyu, 58, ME, NOW - 40_000, '记得带伞，明天可能下雨'),
  ];
  return { conv: convWith(xiaoyu), messages };
}

/** The message-actions conversation on screen, its last message the list's. */
function fillActions(phone: Phone): void {
  const { conv, messages } = actionsConversation();
  const last = messages[messages.length - 1];
  phone.stores.sessions.replaceAll([{ ...session('xiaoyu', last, 0), peerReadSeq: last.seq }]);
  phone.stores.messages.addHistory(conv, messages, false, ME.id, false);
  phone.stores.messages.keepRecalledText(conv, 56, '明天早上可能起不来');
  phone.stores.connection.setState('ready');
}

/** Long-presses the `index`th bubble on the page. */
function longPress(page: SimulatedPage, index: number): void {
  page.querySelectorAll('.bubble')[index]?.dispatchEvent('longpress');
}

/** A conversation of voice messages with 林晓雨: several lengths, one unplayed, one playing. */
function fillVoice(phone: Phone): void {
  const { xiaoyu } = people;
  const voice = (seq: number, from: PublicUser, ts: number, duration: number, name: string): ChatMessage => ({
    ...message(xiaoyu, seq, from, ts, `${SERVER}/uploads/${name}.aac`, 'voice'),
    duration,
  });
  const messages: ChatMessage[] = [
    message(xiaoyu, 70, xiaoyu, NOW - 400_000, '到了吗？'),
    voice(71, ME, NOW - 380_000, 2, 'v71'),
    voice(72, xiaoyu, NOW - 300_000, 8, 'v72'),
    voice(73, ME, NOW - 240_000, 23, 'v73'),
    voice(74, xiaoyu, NOW - 120_000, 52, 'v74'),
    voice(75, xiaoyu, NOW - 60_000, 5, 'v75'),
  ];
  const conv = convWith(xiaoyu);
  const last = messages[messages.length - 1];
  phone.stores.sessions.replaceAll([{ ...session('xiaoyu', last, 0), peerReadSeq: 73 }]);
  phone.stores.messages.addHistory(conv, messages, false, ME.id, false);
  const keyOf = (seq: number) => phone.stores.messages.view(conv).items.find((item) => item.seq === seq)?.key ?? '';
  // 8" and 52" were played here; 52" is playing; 5" has not been played yet (the red dot).
  phone.stores.voice.setPlayed([keyOf(72), keyOf(74)]);
  phone.stores.voice.setPlaying(keyOf(74));
  phone.stores.connection.setState('ready');
  // The microphone was allowed before: a press records at once.
  phone.adapter.media.permission = true;
}

/** Switches to 按住 说话 and holds it; the overlay shows 7 seconds in (the screenshots' clock stands still). */
async function holdToTalk(page: SimulatedPage): Promise<void> {
  page.querySelector('.voice-toggle')?.dispatchEvent('tap');
  await new Promise((resolve) => setTimeout(resolve, 30));
  page.querySelector('.hold')?.dispatchEvent('touchstart', { touches: [{ x: 180, y: 620 }] });
  await new Promise((resolve) => setTimeout(resolve, 30));
  page.setData({ recordLabel: '0:07' });
}

/** The usual session list: 老爸 pinned on top, the rest newest first; the tab shows the unread total. */
function fillSessions({ stores }: Phone): void {
  stores.sessions.replaceAll(sessionList());
  stores.sessions.pin(convWith(people.dad), true);
}

/** The contacts page's people: the directory answers from here (HTTP in the app). */
function fillContacts(phone: Phone): void {
  fillSessions(phone);
  const online = new Set<Person>(['xiaoyu', 'ziang', 'min']);
  const order: Person[] = ['ziang', 'na', 'xiaoyu', 'dad', 'hao', 'jing', 'min', 'yiming'];
  const users: DirectoryEntry[] = order.map((key) => ({ ...people[key], online: online.has(key) }));
  for (const user of users) phone.stores.people.setOnline(user.id, user.online);
  // The page asks the client for the directory (HTTP in the app): answer from here.
  phone.client.directory = (query = '') => Promise.resolve(users.filter((user) => user.nickname.includes(query)));
  phone.stores.connection.setState('ready');
}

/** The group 周末爬山 (five members, 林晓雨 its owner), for the group message page and its receipts. */
const HIKE: Group = {
  id: 'gHike2025x01',
  conv: 'g:gHike2025x01',
  name: '周末爬山',
  avatar: '',
  notice: '',
  owner: people.xiaoyu.id,
  memberCount: 5,
};

function hikeMembers(): GroupMember[] {
  const { xiaoyu, ziang, yiming, min } = people;
  return [
    { ...xiaoyu, role: 'owner' },
    { ...ME, role: 'member' },
    { ...ziang, role: 'admin' },
    { ...yiming, role: 'member' },
    { ...min, role: 'member' },
  ];
}

/** The group's conversation: a tip, a rename, a mention of 李想 and his reply, which three have not read. */
function hikeMessages(): ChatMessage[] {
  const { xiaoyu, ziang, yiming } = people;
  let seq = 0;
  const say = (from: PublicUser, ts: number, body: string, extra: Partial<ChatMessage> = {}): ChatMessage => {
    seq += 1;
    cidSeed += 1;
    return { conv: HIKE.conv, seq, cid: `shot${cidSeed}`, from: from.id, kind: 'text', body, ts, ...extra };
  };
  const system = (from: PublicUser, ts: number, event: object) =>
    say(from, ts, JSON.stringify(event), { kind: 'system', cid: '' });
  return [
    system(xiaoyu, at(1, 19, 58), {
      event: 'created',
      users: [ME.id, ziang.id, yiming.id, people.min.id],
      name: '爬山',
    }),
    say(xiaoyu, at(1, 20, 0), '周六爬北高峰，有空吗？🏔'),
    say(ziang, at(1, 20, 3), '我可以！几点出发？'),
    system(xiaoyu, at(1, 20, 4), { event: 'updated', name: '周末爬山', previousName: '爬山' }),
    say(yiming, at(0, 20, 51), '@李想 你上次说的那条路线叫什么？', { mentions: [ME.id] }),
    say(ME, at(0, 21, 6), '从龙井村上去，走十里琅珰，风景最好'),
  ];
}

/** The group page's stores: the list entry, the details (members), the messages and the receipt count. */
function fillHike(phone: Phone): void {
  const messages = hikeMessages();
  const last = messages[messages.length - 1];
  const { stores, client } = phone;
  stores.people.remember(hikeMembers());
  stores.groups.set(HIKE.conv, HIKE, hikeMembers(), ME.id);
  stores.sessions.replaceAll([
    {
      conv: HIKE.conv,
      group: { id: HIKE.id, name: HIKE.name, avatar: HIKE.avatar, memberCount: HIKE.memberCount },
      last,
      lastSeq: last.seq,
      readSeq: last.seq,
      unread: 0,
      mentioned: false,
      left: false,
    },
  ]);
  stores.messages.addHistory(HIKE.conv, messages, false, ME.id, false);
  stores.groups.setReceipt(HIKE.conv, { seq: last.seq, read: 1, unread: 3 });
  // The page asks the client for the details and receipts (HTTP in the app): answer from here.
  const { xiaoyu, ziang, yiming, min } = people;
  client.groups.load = () => Promise.resolve();
  client.groups.receipts = (_conv, seq) => Promise.resolve({ seq, read: [xiaoyu], unread: [ziang, yiming, min] });
  stores.connection.setState('ready');
}

// Groups: 周末爬山 (five, a grid, mentions me), 家人群 (muted, four), 项目组 (nine faces), 读书会 (I was removed).
const GROUPS = {
  hike: { id: 'gHike0000001', name: '周末爬山', members: ['xiaoyu', 'yiming', 'min', 'ziang'] as Person[] },
  family: { id: 'gFamily00002', name: '相亲相爱一家人', members: ['dad', 'na', 'jing'] as Person[] },
  work: {
    id: 'gWork0000003',
    name: '项目组',
    members: ['yiming', 'hao', 'jing', 'min', 'na', 'xiaoyu', 'ziang', 'dad'] as Person[],
  },
  books: { id: 'gBooks000004', name: '读书会', members: ['na', 'hao'] as Person[] },
};
type GroupKey = keyof typeof GROUPS;

const groupConv = (key: GroupKey) => `g:${GROUPS[key].id}`;

function groupMembers(key: GroupKey): GroupMember[] {
  const owner: GroupMember = { ...ME, role: key === 'hike' ? 'owner' : 'member' };
  const others = GROUPS[key].members.map((person, i): GroupMember => {
    const role = key !== 'hike' && i === 0 ? 'owner' : 'member';
    return { ...people[person], role };
  });
  return key === 'hike' ? [owner, ...others] : [others[0], owner, ...others.slice(1)];
}

function groupMessage(
  key: GroupKey,
  seq: number,
  from: PublicUser,
  ts: number,
  body: string,
  extra: Partial<ChatMessage> = {},
): ChatMessage {
  cidSeed += 1;
  return { conv: groupConv(key), seq, cid: `shot${cidSeed}`, from: from.id, kind: 'text', body, ts, ...extra };
}

function groupSession(
  key: GroupKey,
  last: ChatMessage,
  unread: number,
  extra: Partial<GroupSessionEntry> = {},
): GroupSessionEntry {
  const { id, name } = GROUPS[key];
  return {
    conv: groupConv(key),
    group: { id, name, avatar: '', memberCount: groupMembers(key).length },
    last,
    lastSeq: last.seq,
    readSeq: last.seq - unread,
    unread,
    mentioned: false,
    left: false,
    ...extra,
  };
}

/** The groups' members into the stores (as `GET /api/groups/:id` would), so names and grids show. */
function fillGroupDetails({ stores }: Phone, notice = ''): void {
  for (const key of Object.keys(GROUPS) as GroupKey[]) {
    const members = groupMembers(key);
    const { id, name } = GROUPS[key];
    const group = {
      id,
      conv: groupConv(key),
      name,
      avatar: '',
      notice,
      owner: members.find((m) => m.role === 'owner')!.id,
      memberCount: members.length,
    };
    stores.people.remember(members.map(({ id: userId, nickname, avatar }) => ({ id: userId, nickname, avatar })));
    stores.groups.set(groupConv(key), group, members, ME.id);
  }
}

/** The session list with groups among the chats. */
function fillGroupSessions(phone: Phone): void {
  fillGroupDetails(phone);
  const { xiaoyu, yiming, dad, na } = people;
  // A few chats between the groups (周一鸣's 99+ would hide the tab total of the groups).
  const dms = sessionList();
  const groups = [
    groupSession(
      'hike',
      groupMessage('hike', 58, xiaoyu, NOW - 60_000, `@${ME.nickname} 周六早上八点地铁站集合，记得带水`, {
        mentions: [ME.id],
      }),
      3,
      { mentioned: true },
    ),
    groupSession('family', groupMessage('family', 311, dad, at(0, 20, 58), '今晚的红烧肉特别成功 😋'), 5),
    groupSession('work', groupMessage('work', 1024, yiming, at(0, 19, 12), '需求文档已更新，大家有空看一下'), 0),
    groupSession(
      'books',
      groupMessage('books', 40, na, at(0, 19, 40), JSON.stringify({ event: 'removed', users: [ME.id] }), {
        kind: 'system',
      }),
      0,
      { left: true },
    ),
  ];
  phone.stores.sessions.replaceAll([dms[0], groups[0], groups[1], dms[1], groups[2], dms[4], groups[3]]);
  phone.stores.sessions.pin(convWith(dad), true);
  phone.stores.sessions.mute(groupConv('family'), true);
  phone.stores.connection.setState('ready');
}

/** The keys (cids) of the messages the forward picker is opened with: 林晓雨's photo and its caption. */
const FORWARDED = ['shot-forward-photo', 'shot-forward-text'];

/** The session list with groups, and the conversation with 林晓雨 whose photo and caption are forwarded. */
function fillForward(phone: Phone): void {
  fillGroupSessions(phone);
  const { conv, messages } = conversation();
  // The photo and the text after it (seq 39 and 40) carry the keys the picker is opened with.
  const keyed = messages.map((message, i) => (i === 3 || i === 4 ? { ...message, cid: FORWARDED[i - 3] } : message));
  phone.stores.messages.addHistory(conv, keyed, true, ME.id, false);
}

export const STATES: ScreenshotState[] = [
  {
    name: 'sessions',
    page: 'index',
    caption: 'Session list: a pinned chat, unread badges up to 99+, `[图片]`, relative times, the tab total',
    fill(phone) {
      fillSessions(phone);
      phone.stores.connection.setState('ready');
    },
  },
  {
    name: 'sessions-banner',
    page: 'index',
    caption: 'Session list after the reconnect limit: the banner offers a retry',
    fill(phone) {
      fillSessions(phone);
      phone.stores.connection.setState('failed');
    },
  },
  {
    name: 'sessions-empty',
    page: 'index',
    caption: 'First launch: no conversations yet, a way to the contacts',
    fill(phone) {
      phone.stores.sessions.replaceAll([]);
      phone.stores.connection.setState('ready');
    },
  },
  {
    name: 'chat',
    page: 'chat',
    caption: 'Message page: both sides, time separators, an image, 已读, a failed send, a draft',
    query: { conv: convWith(people.xiaoyu) },
    fill(phone) {
      const { conv, messages, lastReadByPeer } = conversation();
      const last = messages[messages.length - 1];
      phone.stores.sessions.replaceAll([{ ...session('xiaoyu', last, 0), peerReadSeq: lastReadByPeer }]);
      phone.stores.messages.addHistory(conv, messages, true, ME.id, false);
      phone.stores.messages.addPending({
        conv,
        cid: 'shot-failed',
        from: ME.id,
        kind: 'text',
        body: '好的，不见不散！我带上相机 📷',
        ts: NOW - 5_000,
      });
      phone.stores.messages.setStatus(conv, 'shot-failed', 'failed');
      phone.stores.connection.setState('ready');
    },
    interact(page) {
      page.querySelector('.input')?.dispatchEvent('input', { detail: { value: '记得带伞' } });
    },
  },
  {
    name: 'contacts',
    page: 'contacts',
    caption: 'Contacts: the people one talks with, online dots',
    fill: fillContacts,
  },
  {
    name: 'contacts-search-hint',
    page: 'contacts',
    caption: 'Contacts: a one-character search asks for a second one instead of searching',
    fill: fillContacts,
    interact(page) {
      page.querySelector('.search-input')?.dispatchEvent('input', { detail: { value: '林' } });
    },
  },
  {
    name: 'profile',
    page: 'profile',
    caption: 'Profile: avatar (chooseAvatar) and nickname, 黑名单, logout',
    fill(phone) {
      fillSessions(phone);
      phone.stores.connection.setState('ready');
    },
  },
  {
    name: 'group-chat',
    page: 'chat',
    caption:
      'Group message page: senders’ names and faces, system tips, an @ mention, 3人未读 under the own last message',
    query: { conv: HIKE.conv },
    fill: fillHike,
  },
  {
    name: 'group-mention',
    page: 'chat',
    caption: 'Group message page: typing @ opens the member picker',
    query: { conv: HIKE.conv },
    fill: fillHike,
    interact(page) {
      page.querySelector('.input')?.dispatchEvent('input', { detail: { value: '@', cursor: 1 } });
    },
  },
  {
    name: 'group-receipts',
    page: 'receipts',
    caption: 'Who read a message in a group: 未读 and 已读 members',
    query: { conv: HIKE.conv, seq: '6' },
    fill: fillHike,
  },
  {
    name: 'sessions-draft-muted',
    page: 'index',
    caption: 'Session list: a draft ([草稿] in red) and a muted chat (a dot for its unread, [136条], the bell)',
    fill(phone) {
      fillSessions(phone);
      phone.client.saveDraft(convWith(people.min), '明天我可能晚到十分钟');
      phone.stores.sessions.mute(convWith(people.yiming), true);
      phone.stores.connection.setState('ready');
    },
  },
  {
    name: 'sessions-groups',
    page: 'index',
    caption:
      'Session list with groups: member grids, `昵称: 内容`, [有人@我], a muted group (dot, [5条], bell), a group left',
    fill: fillGroupSessions,
  },
  {
    name: 'group-create',
    page: 'group-create',
    caption: '发起群聊: people checked from the contacts, the default name as placeholder, 完成(N)',
    fill: fillContacts,
    interact(page) {
      const rows = page.querySelectorAll('.row');
      for (const index of [0, 2, 4]) rows[index]?.dispatchEvent('tap');
    },
  },
  {
    name: 'group-settings',
    page: 'group-settings',
    caption: '聊天信息 of a group, as its owner: members with + and −, name, notice, 免打扰 and 置顶, 退出 and 解散',
    query: { conv: groupConv('hike') },
    fill(phone) {
      fillGroupSessions(phone);
      fillGroupDetails(phone, '周六早上八点地铁站集合，记得带水和午饭，下雨则改到下周。');
      phone.stores.sessions.pin(groupConv('hike'), true);
      // The page fetches the details on opening (HTTP in the app): they are here already.
      phone.client.groups.load = () => Promise.resolve();
    },
  },
  {
    name: 'actions-menu',
    page: 'chat',
    caption: "Long-press on one's own fresh message: 复制 转发 引用 撤回 删除 多选 above the bubble",
    query: { conv: convWith(people.xiaoyu) },
    fill: fillActions,
    interact(page) {
      // 记得带伞… (the user's, 40 s old: still recallable).
      longPress(page, 4);
    },
  },
  {
    name: 'reply',
    page: 'chat',
    caption: '引用: quotes under the bubbles, and a quote under the input with ✕ while replying',
    query: { conv: convWith(people.xiaoyu) },
    fill: fillActions,
    async interact(page) {
      // 好，那早上九点出发 (hers).
      longPress(page, 2);
      // The menu is drawn at the page's next update.
      await new Promise((resolve) => setTimeout(resolve, 30));
      const items = page.querySelectorAll('.menu-item');
      // 复制 转发 引用 …: the third.
      items[2]?.dispatchEvent('tap');
      page.querySelector('.input')?.dispatchEvent('input', { detail: { value: '可以' } });
    },
  },
  {
    name: 'recalled',
    page: 'chat',
    caption: 'Recalled messages: "林晓雨"撤回了一条消息, and 你撤回了一条消息 with 重新编辑',
    query: { conv: convWith(people.xiaoyu) },
    fill: fillActions,
  },
  {
    name: 'multi-select',
    page: 'chat',
    caption: '多选: check circles before the messages, 逐条转发 and 删除 instead of the input',
    query: { conv: convWith(people.xiaoyu) },
    fill: fillActions,
    async interact(page) {
      longPress(page, 4);
      await new Promise((resolve) => setTimeout(resolve, 30));
      const items = page.querySelectorAll('.menu-item');
      // 复制 转发 引用 撤回 删除 多选: the last.
      items[items.length - 1]?.dispatchEvent('tap');
      await new Promise((resolve) => setTimeout(resolve, 30));
      // Tick 九点可以… too.
      page.querySelectorAll('.row')[3]?.dispatchEvent('tap');
    },
  },
  {
    name: 'voice-record',
    page: 'chat',
    caption: '按住 说话: the overlay while recording (the time, the moving bars, 手指上滑，取消发送)',
    query: { conv: convWith(people.xiaoyu) },
    fill: fillVoice,
    async interact(page) {
      await holdToTalk(page);
    },
  },
  {
    name: 'voice-record-cancel',
    page: 'chat',
    caption: 'Slid up while recording: 松开手指，取消发送 in red',
    query: { conv: convWith(people.xiaoyu) },
    fill: fillVoice,
    async interact(page) {
      await holdToTalk(page);
      page.querySelector('.hold')?.dispatchEvent('touchmove', { touches: [{ x: 180, y: 380 }] });
    },
  },
  {
    name: 'voice-bubbles',
    page: 'chat',
    caption: 'Voice messages: widths by length, 3" beside, a red dot on one not yet played, one playing',
    query: { conv: convWith(people.xiaoyu) },
    fill: fillVoice,
  },
  {
    name: 'forward',
    page: 'forward',
    caption: 'Forward (转发): 选择一个聊天 in 多选, recent chats first (no group left), two chats ticked, 完成(2)',
    query: { conv: convWith(people.xiaoyu), keys: encodeURIComponent(JSON.stringify(FORWARDED)) },
    fill: fillForward,
    interact(page) {
      page.querySelector('.mode')?.dispatchEvent('tap');
      const rows = page.querySelectorAll('.row');
      // 周末爬山 (a grid of faces) and 陈子昂 (an initial).
      for (const index of [2, 3]) rows[index]?.dispatchEvent('tap');
    },
  },
  {
    name: 'chat-settings',
    page: 'chat-settings',
    caption:
      '聊天信息 of a one-to-one chat, muted and pinned: the peer and + (a group with them), 清空聊天记录, 加入黑名单, 投诉',
    query: { conv: convWith(people.xiaoyu) },
    fill(phone) {
      fillSessions(phone);
      phone.stores.sessions.mute(convWith(people.xiaoyu), true);
      phone.stores.sessions.pin(convWith(people.xiaoyu), true);
      phone.stores.connection.setState('ready');
    },
  },
  {
    name: 'reminders',
    page: 'profile',
    caption: '新消息提醒 on the profile page: on, 还可以收到3次提醒 (WeChat subscription messages)',
    fill(phone) {
      fillSessions(phone);
      phone.stores.reminders.setState({ enabled: true, templateId: 'shot-template', credits: 3 });
      phone.stores.connection.setState('ready');
    },
  },
  {
    name: 'reminders-bar',
    page: 'chat',
    caption: 'After a message to someone offline: 对方离线时，开启新消息提醒 above the input (a tap asks, ✕ hides it)',
    query: { conv: convWith(people.xiaoyu) },
    fill(phone) {
      const { conv, messages, lastReadByPeer } = conversation();
      // The user's answer, sent after 林晓雨 went offline.
      const sent = message(people.xiaoyu, messages[messages.length - 1].seq + 1, ME, NOW - 20_000, '好，到时见 👋');
      const all = [...messages, sent];
      phone.stores.sessions.replaceAll([{ ...session('xiaoyu', sent, 0), peerReadSeq: lastReadByPeer }]);
      phone.stores.messages.addHistory(conv, all, true, ME.id, false);
      phone.stores.people.setOnline(people.xiaoyu.id, false);
      phone.stores.reminders.setState({ enabled: true, templateId: 'shot-template', credits: 0 });
      phone.stores.reminders.markSent(conv);
      phone.stores.connection.setState('ready');
    },
  },
  {
    name: 'report',
    page: 'report',
    caption: '举报 a message (long-press menu → 举报): the reasons, 诈骗 picked, 补充说明, 提交',
    query: { conv: convWith(people.ziang), seq: '3' },
    fill(phone) {
      fillSessions(phone);
      phone.stores.connection.setState('ready');
    },
    interact(page) {
      page.querySelectorAll('.reason')[1]?.dispatchEvent('tap');
      page.querySelector('.text')?.dispatchEvent('input', { detail: { value: '冒充客服，让我转账到陌生账户' } });
    },
  },
  {
    name: 'blocklist',
    page: 'blacklist',
    caption: '黑名单 (我 → 黑名单): the people blocked, newest first, each with 移出黑名单',
    fill(phone) {
      fillSessions(phone);
      phone.stores.blocks.set([people.hao, people.yiming, people.jing]);
      phone.stores.connection.setState('ready');
    },
  },
  {
    name: 'refused',
    page: 'chat',
    caption:
      'Refused sends: 消息已发出，但被对方拒收了 (the peer blocked the user) and 内容含有违规信息，发送失败 (the content check), the red ! kept',
    query: { conv: convWith(people.xiaoyu) },
    fill(phone) {
      const { conv, messages, lastReadByPeer } = conversation();
      const last = messages[messages.length - 1];
      phone.stores.sessions.replaceAll([{ ...session('xiaoyu', last, 0), peerReadSeq: lastReadByPeer }]);
      phone.stores.messages.addHistory(conv, messages, true, ME.id, false);
      const refused = [
        { cid: 'shot-blocked', body: '在吗？上次的事我想再解释一下', reason: '消息已发出，但被对方拒收了' },
        { cid: 'shot-content', body: '加我微信领取免费资料，稳赚不赔', reason: '内容含有违规信息，发送失败' },
      ];
      refused.forEach(({ cid, body, reason }, index) => {
        phone.stores.messages.addPending({
          conv,
          cid,
          from: ME.id,
          kind: 'text',
          body,
          ts: NOW - 60_000 + index * 5_000,
        });
        phone.stores.messages.setStatus(conv, cid, 'failed', reason);
      });
      phone.stores.connection.setState('ready');
    },
  },
];
