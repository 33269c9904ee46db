import { directConversationId } from '../../../contract/conversations';
import { LIMITS } from '../../../contract/limits';
import type { PublicUser } from '../../../contract/frames';
import type { GroupMember } from '../../../contract/http';
import type { ChatClient } from '../../core/client';
import { defaultGroupName, GROUP_NAME_MAX } from '../../core/groups';
import { bindData, type Unbind } from '../../utils/bind';
import { showGroupError } from '../../utils/group-error';

/**
 * What the page picks people for: a new group (发起群聊), more members for a group (invite), or
 * members to take out of it (remove).
 */
export type PickMode = 'create' | 'invite' | 'remove';

/** One row of the list: a person with a checkbox. */
export interface PickRow {
  id: string;
  nickname: string;
  avatar: string;
  checked: boolean;
  /**
   * Already in the group (invite), or the person of the one-to-one chat the group starts from
   * (create with `with`): shown checked and greyed, not selectable.
   */
  fixed: boolean;
}

export interface GroupCreateData {
  mode: PickMode;
  rows: PickRow[];
  /** The people picked so far, in the order picked (the strip of faces beside the search box). */
  chosen: PublicUser[];
  query: string;
  /** Shown instead of asking the server: a search needs at least 2 characters. */
  hint: string;
  /** Whether the server may have another page of the directory. */
  more: boolean;
  loading: boolean;
  error: string;
  /** The group's name as typed (create); empty means the default name. */
  name: string;
  /** The default name for who is picked: the name field's placeholder. */
  placeholder: string;
  nameMax: number;
  /** The button's word: 完成 (create, invite) or 删除 (remove). */
  action: string;
  busy: boolean;
  /** The group's members as the store holds them (invite and remove). */
  members: GroupMember[];
}

interface Instance {
  /** The app's chat client, looked up once when the page attaches. */
  chat: ChatClient;
  /** The people the list shows before the picks are marked: the directory's answer, or the members. */
  found: PublicUser[];
  /** Picked people by id, kept across searches. */
  picked: Map<string, PublicUser>;
  /** Current members' ids (invite: greyed; remove: who may be removed is among them). */
  members: Set<string>;
  /**
   * 发起群聊 from a one-to-one chat's 聊天信息 (`with`): its peer, ticked from the start and kept
   * ticked, in the group besides those picked; null otherwise.
   */
  kept: PublicUser | null;
  unbind?: Unbind;
}

const PAGE = LIMITS.directoryPage;
const SHORT_QUERY_HINT = `请输入至少${LIMITS.directoryQueryMin}个字符`;
const TITLES: Record<PickMode, string> = { create: '发起群聊', invite: '选择联系人', remove: '删除成员' };

function modeOf(value: string): PickMode {
  return value === 'invite' || value === 'remove' ? value : 'create';
}

function person({ id, nickname, avatar }: PublicUser): PublicUser {
  return { id, nickname, avatar };
}

// 发起群聊 (from the contacts page) and the member pickers of 聊天信息: check people in the list
// (the directory's peers, or a search), then 完成(N). `mode` and `conv` arrive from the page query;
// `with` (a user id, create only): that person is ticked and stays ticked, as WeChat's + in the
// 聊天信息 of a one-to-one chat (完成 then needs at least one more person).
Component<
  GroupCreateData,
  { mode: StringConstructor; conv: StringConstructor; with: StringConstructor },
  {
    refresh(): Promise<void>;
    onReachBottom(): Promise<void>;
    onSearch(event: WechatMiniprogram.Input): void;
    onName(event: WechatMiniprogram.Input): void;
    toggle(event: WechatMiniprogram.BaseEvent): void;
    unpick(event: WechatMiniprogram.BaseEvent): void;
    show(): void;
    removable(): PublicUser[];
    submit(): Promise<void>;
  },
  [],
  Instance,
  true
>({
  properties: { mode: String, conv: String, with: String },
  data: {
    mode: 'create',
    rows: [],
    chosen: [],
    query: '',
    hint: '',
    more: false,
    loading: false,
    error: '',
    name: '',
    placeholder: '',
    nameMax: GROUP_NAME_MAX,
    action: '完成',
    busy: false,
    members: [],
  },
  lifetimes: {
    attached() {
      this.chat = getApp<IAppOption>().client;
      this.found = [];
      this.picked = new Map();
      this.members = new Set();
      const mode = modeOf(this.properties.mode);
      this.kept = null;
      const keep = this.properties.with;
      if (mode === 'create' && keep) {
        const { people, sessions, me } = this.chat.stores;
        const known = people.profile(keep) ?? sessions.find(directConversationId(me.id, keep))?.peer;
        if (known && known.id !== me.id) this.kept = person(known);
      }
      this.setData({ mode, action: mode === 'remove' ? '删除' : '完成' });
      void wx.setNavigationBarTitle({ title: TITLES[mode] });
      if (mode !== 'create') {
        const { groups } = this.chat.stores;
        const conv = this.properties.conv;
        // The members as the store has them (they change while the page is open: follow them).
        this.unbind = bindData(this, { members: () => groups.details(conv)?.members ?? [] });
      }
      void this.refresh();
    },
    detached() {
      this.unbind?.();
    },
  },
  observers: {
    // `.**`: a path update (members[2].role) changes the list too.
    'members.**'(members: GroupMember[]) {
      this.members = new Set(members.map((member) => member.id));
      if (this.data.mode === 'remove') void this.refresh();
      else this.show();
    },
  },
  methods: {
    async refresh() {
      const { mode, query } = this.data;
      if (mode === 'remove') {
        // Members are few and already here: the search filters them on the phone.
        this.found = this.removable().filter((member) => !query || member.nickname.includes(query));
        for (const id of [...this.picked.keys()]) if (!this.members.has(id)) this.picked.delete(id);
        this.setData({ hint: '', error: '', more: false, loading: false });
        this.show();
        return;
      }
      if (query.length > 0 && query.length < LIMITS.directoryQueryMin) {
        this.found = [];
        this.setData({ more: false, hint: SHORT_QUERY_HINT, error: '', loading: false });
        this.show();
        return;
      }
      this.setData({ loading: true, hint: '' });
      try {
        const found = await this.chat.directory(query, { limit: PAGE });
        // A slower answer to an older query must not overwrite the newer one.
        if (query !== this.data.query) return;
        const me = this.chat.stores.me.id;
        this.found = found.filter((user) => user.id !== me).map(person);
        this.setData({ more: found.length === PAGE, error: '' });
        this.show();
      } catch {
        this.setData({ error: '加载失败，点击重试' });
      } finally {
        this.setData({ loading: false });
      }
    },
    async onReachBottom() {
      const { mode, more, loading, hint, query } = this.data;
      if (mode === 'remove' || !more || loading || hint) return;
      const offset = this.found.length;
      this.setData({ loading: true });
      try {
        const found = await this.chat.directory(query, { limit: PAGE, offset });
        if (query !== this.data.query || offset !== this.found.length) return;
        const seen = new Set(this.found.map((user) => user.id));
        const me = this.chat.stores.me.id;
        const added = found.filter((user) => !seen.has(user.id) && user.id !== me).map(person);
        this.found = [...this.found, ...added];
        this.setData({ more: found.length === PAGE });
        this.show();
      } catch {
        this.setData({ error: '加载失败，点击重试' });
      } finally {
        this.setData({ loading: false });
      }
    },
    onSearch(event) {
      this.setData({ query: event.detail.value.trim() });
      void this.refresh();
    },
    onName(event) {
      this.setData({ name: event.detail.value });
    },
    toggle(event) {
      const row = this.data.rows[Number(event.currentTarget.dataset.index)];
      if (!row || row.fixed || this.data.busy) return;
      if (this.picked.has(row.id)) this.picked.delete(row.id);
      else this.picked.set(row.id, { id: row.id, nickname: row.nickname, avatar: row.avatar });
      this.show();
    },
    unpick(event) {
      this.picked.delete(String(event.currentTarget.dataset.id));
      this.show();
    },
    /** Draws the rows and the picks from `found`, `picked` and `members`. */
    show() {
      const { kept } = this;
      const fixedOnes = this.data.mode === 'invite' ? this.members : new Set<string>(kept ? [kept.id] : []);
      // The kept person heads the list until a search, whether or not the directory's page has them.
      const listed =
        kept && !this.data.query && !this.found.some((user) => user.id === kept.id)
          ? [kept, ...this.found]
          : this.found;
      const rows = listed.map((user) => ({
        ...user,
        checked: this.picked.has(user.id) || fixedOnes.has(user.id),
        fixed: fixedOnes.has(user.id),
      }));
      const chosen = [...this.picked.values()];
      const placeholder = defaultGroupName(this.chat.stores.me.user, kept ? [kept, ...chosen] : chosen);
      // Before anyone is picked there is no default name yet: the field is optional.
      this.setData({ rows, chosen, placeholder: chosen.length > 0 ? placeholder : '选填' });
    },
    /** Whom the user may take out: the owner anyone else, an admin plain members, a member nobody. */
    removable() {
      const details = this.chat.stores.groups.details(this.properties.conv);
      if (!details || (details.myRole !== 'owner' && details.myRole !== 'admin')) return [];
      const me = this.chat.stores.me.id;
      return details.members
        .filter((member) => member.id !== me && (details.myRole === 'owner' || member.role === 'member'))
        .map(person);
    },
    async submit() {
      const chosen = [...this.picked.values()];
      if (chosen.length === 0 || this.data.busy) return;
      const { mode } = this.data;
      const conv = this.properties.conv;
      this.setData({ busy: true });
      void wx.showLoading({ title: mode === 'remove' ? '正在删除' : '请稍候', mask: true });
      try {
        if (mode === 'create') {
          const members = this.kept ? [this.kept, ...chosen] : chosen;
          const created = await this.chat.groups.create(members, this.data.name);
          void wx.hideLoading();
          void wx.redirectTo({ url: `/pages/chat/chat?conv=${created}` });
          return;
        }
        if (mode === 'invite') {
          await this.chat.groups.invite(
            conv,
            chosen.map((user) => user.id),
          );
        } else {
          for (const user of chosen) {
            await this.chat.groups.remove(conv, user.id);
            this.picked.delete(user.id);
          }
        }
        void wx.hideLoading();
        void wx.navigateBack();
      } catch (error) {
        void wx.hideLoading();
        showGroupError(error, mode === 'create' ? '发起群聊失败，请稍后再试' : undefined);
        this.show();
      } finally {
        this.setData({ busy: false });
      }
    },
  },
});
