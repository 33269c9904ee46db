import type { GroupMember, GroupRole } from '../../../contract/http';
import type { ChatClient } from '../../core/client';
import { GROUP_NAME_MAX } from '../../core/groups';
import { ApiError } from '../../core/api';
import { bindData, type Unbind } from '../../utils/bind';
import { showGroupError } from '../../utils/group-error';

/** The longest notice the server takes (docs/protocol.md, "Groups"). */
const NOTICE_MAX = 500;
/** Members the grid shows before 查看更多群成员 (with + and −, four rows of five). */
export const GRID_MEMBERS = 18;

export interface GroupSettingsData {
  members: GroupMember[];
  memberCount: number;
  name: string;
  notice: string;
  /** The user's role; null before the details came, or once out of the group. */
  role: GroupRole | null;
  /** The details have come (the grid and the rows can be drawn). */
  loaded: boolean;
  /** The user is no longer in the group: 你已不在群聊中, and only 删除. */
  left: boolean;
  muted: boolean;
  pinned: boolean;
  /** Owner or admin: may rename, edit the notice and remove members. */
  canEdit: boolean;
  /** Someone the user may remove is in the group (the owner: anyone; an admin: a plain member). */
  canRemove: boolean;
  isOwner: boolean;
  /** Every member shown (after 查看更多群成员). */
  expanded: boolean;
  gridMax: number;
  error: string;
  busy: boolean;
}

interface Instance {
  /** The app's chat client, looked up once when the page attaches. */
  chat: ChatClient;
  unbind?: Unbind;
}

const LIST = '/pages/index/index';

/** The grid's order, as WeChat's: the owner first, then everyone as the server lists them (by joining). */
function ownerFirst(members: readonly GroupMember[]): GroupMember[] {
  const owner = members.filter((member) => member.role === 'owner');
  return [...owner, ...members.filter((member) => member.role !== 'owner')];
}

// 聊天信息 of a group (from the message page's ···): members with + (invite) and − (remove; the
// owner taps a member to make them an admin or not), name and notice (owner and admins edit),
// 消息免打扰, 置顶聊天, 退出群聊 and, for the owner, 解散群聊.
// `conv` arrives from the page query.
Component<
  GroupSettingsData,
  { conv: StringConstructor },
  {
    load(): Promise<void>;
    invite(): void;
    remove(): void;
    manageMember(event: WechatMiniprogram.BaseEvent): Promise<void>;
    expand(): void;
    editName(): Promise<void>;
    editNotice(): Promise<void>;
    onMute(event: WechatMiniprogram.SwitchChange): void;
    onPin(event: WechatMiniprogram.SwitchChange): void;
    leave(): Promise<void>;
    dismiss(): Promise<void>;
    deleteChat(): Promise<void>;
    report(): void;
  },
  [],
  Instance,
  true
>({
  properties: { conv: String },
  data: {
    members: [],
    memberCount: 0,
    name: '',
    notice: '',
    role: null,
    loaded: false,
    left: false,
    muted: false,
    pinned: false,
    canEdit: false,
    canRemove: false,
    isOwner: false,
    expanded: false,
    gridMax: GRID_MEMBERS,
    error: '',
    busy: false,
  },
  observers: {
    'memberCount, left'(memberCount: number, left: boolean) {
      void wx.setNavigationBarTitle({ title: !left && memberCount > 0 ? `聊天信息(${memberCount})` : '聊天信息' });
    },
  },
  lifetimes: {
    attached() {
      this.chat = getApp<IAppOption>().client;
      const conv = this.properties.conv;
      const { groups, sessions } = this.chat.stores;
      const details = () => groups.details(conv);
      const session = () => sessions.find(conv);
      const role = () => details()?.myRole ?? null;
      this.unbind = bindData(this, {
        members: () => ownerFirst(details()?.members ?? []),
        memberCount: () => details()?.group.memberCount ?? session()?.group?.memberCount ?? 0,
        name: () => details()?.group.name ?? session()?.title ?? '',
        notice: () => details()?.group.notice ?? '',
        role,
        loaded: () => !!details(),
        left: () => !!session()?.left || (!!details() && role() === null),
        muted: () => !!session()?.muted,
        pinned: () => !!session()?.pinned,
        canEdit: () => role() === 'owner' || role() === 'admin',
        canRemove: () => {
          const members = details()?.members ?? [];
          if (role() === 'owner') return members.length > 1;
          return role() === 'admin' && members.some((member) => member.role === 'member');
        },
        isOwner: () => role() === 'owner',
      });
      void this.load();
    },
    detached() {
      this.unbind?.();
    },
  },
  methods: {
    async load() {
      if (this.data.left) return;
      this.setData({ error: '' });
      try {
        await this.chat.groups.load(this.properties.conv);
      } catch (error) {
        if (error instanceof ApiError && error.code === 'forbidden') {
          // Out of the group, and the list has not heard yet: the page says so all the same.
          this.setData({ left: true });
        } else {
          this.setData({ error: '加载失败，点击重试' });
        }
      }
    },
    /** 投诉: the report form for the whole group conversation. */
    report() {
      void wx.navigateTo({ url: `/pages/report/report?conv=${this.properties.conv}` });
    },
    invite() {
      if (this.data.left) return;
      void wx.navigateTo({ url: `/pages/group-create/group-create?mode=invite&conv=${this.properties.conv}` });
    },
    remove() {
      if (!this.data.canRemove || this.data.left) return;
      void wx.navigateTo({ url: `/pages/group-create/group-create?mode=remove&conv=${this.properties.conv}` });
    },
    /** The owner taps a member: makes them an admin, or a plain member again. */
    async manageMember(event) {
      const member = this.data.members.find((one) => one.id === String(event.currentTarget.dataset.id));
      if (!this.data.isOwner || this.data.left || !member || member.role === 'owner') return;
      const admin = member.role !== 'admin';
      try {
        await wx.showActionSheet({ itemList: [admin ? '设为管理员' : '取消管理员'] });
      } catch {
        return; // Cancelled.
      }
      try {
        await this.chat.groups.setAdmin(this.properties.conv, member.id, admin);
      } catch (error) {
        showGroupError(error);
      }
    },
    expand() {
      this.setData({ expanded: true });
    },
    async editName() {
      if (!this.data.canEdit || this.data.left) return;
      const answer = await wx.showModal({
        title: '修改群聊名称',
        editable: true,
        placeholderText: '群聊名称',
        content: this.data.name,
      });
      if (!answer.confirm) return;
      const name = (answer.content ?? '').trim();
      if (name === this.data.name) return;
      if (!name) {
        void wx.showToast({ title: '群聊名称不能为空', icon: 'none' });
        return;
      }
      if (name.length > GROUP_NAME_MAX) {
        void wx.showToast({ title: `群聊名称最多${GROUP_NAME_MAX}个字`, icon: 'none' });
        return;
      }
      try {
        await this.chat.groups.update(this.properties.conv, { name });
      } catch (error) {
        showGroupError(error, '修改失败，请稍后再试');
      }
    },
    async editNotice() {
      if (this.data.left) return;
      if (!this.data.canEdit) {
        // Read-only for members: the whole notice, as WeChat opens it.
        if (this.data.notice) {
          await wx.showModal({ title: '群公告', content: this.data.notice, showCancel: false, confirmText: '知道了' });
        } else {
          void wx.showToast({ title: '只有群主及管理员可以编辑', icon: 'none' });
        }
        return;
      }
      const answer = await wx.showModal({
        title: '群公告',
        editable: true,
        placeholderText: '请编辑群公告',
        content: this.data.notice,
        confirmText: '完成',
      });
      if (!answer.confirm) return;
      const notice = (answer.content ?? '').trim();
      if (notice === this.data.notice) return;
      if (notice.length > NOTICE_MAX) {
        void wx.showToast({ title: `群公告最多${NOTICE_MAX}个字`, icon: 'none' });
        return;
      }
      try {
        await this.chat.groups.update(this.properties.conv, { notice });
      } catch (error) {
        showGroupError(error, '修改失败，请稍后再试');
      }
    },
    onMute(event) {
      void this.chat.mute(this.properties.conv, event.detail.value);
    },
    onPin(event) {
      void this.chat.pin(this.properties.conv, event.detail.value);
    },
    async leave() {
      if (this.data.busy) return;
      const { confirm } = await wx.showModal({
        title: '退出群聊',
        content: '退出后不会通知群聊中其他成员，且不会再接收此群聊消息',
        confirmText: '退出',
        confirmColor: '#FA5151',
      });
      if (!confirm) return;
      this.setData({ busy: true });
      try {
        await this.chat.groups.leave(this.properties.conv);
        void wx.switchTab({ url: LIST });
      } catch (error) {
        showGroupError(error, '退出失败，请稍后再试');
      } finally {
        this.setData({ busy: false });
      }
    },
    async dismiss() {
      if (this.data.busy || !this.data.isOwner) return;
      const { confirm } = await wx.showModal({
        title: '解散群聊',
        content: '解散后，所有成员将被移出群聊，且不会再接收此群聊消息',
        confirmText: '解散',
        confirmColor: '#FA5151',
      });
      if (!confirm) return;
      this.setData({ busy: true });
      try {
        await this.chat.groups.dismiss(this.properties.conv);
        void wx.switchTab({ url: LIST });
      } catch (error) {
        showGroupError(error, '解散失败，请稍后再试');
      } finally {
        this.setData({ busy: false });
      }
    },
    async deleteChat() {
      const { confirm } = await wx.showModal({
        title: '删除该聊天',
        content: '删除后，该聊天将不再显示在消息列表中',
        confirmText: '删除',
        confirmColor: '#FA5151',
      });
      if (!confirm) return;
      this.chat.removeConversation(this.properties.conv);
      void wx.switchTab({ url: LIST });
    },
  },
});
