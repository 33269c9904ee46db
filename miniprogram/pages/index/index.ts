import type { SessionItem } from '../../stores/sessions';
import { bindFields, type Unbind } from '../../utils/bind';

interface Instance {
  unbind?: Unbind;
}

// The session list: one entry per conversation (the seeds' dedupe by fromId), newest first.
Component<
  { sessions: SessionItem[]; banner: string },
  WechatMiniprogram.Component.PropertyOption,
  {
    open(event: WechatMiniprogram.BaseEvent): void;
    retry(): void;
    goContacts(): void;
  },
  [],
  Instance,
  true
>({
  data: { sessions: [], banner: '' },
  lifetimes: {
    attached() {
      const { sessions, connection } = getApp<IAppOption>().client.stores;
      this.unbind = bindFields(this, { sessions: () => sessions.list, banner: () => connection.banner });
    },
    detached() {
      this.unbind?.();
    },
  },
  methods: {
    open(event) {
      const conv = String(event.currentTarget.dataset.conv);
      getApp<IAppOption>().client.markRead(conv);
      void wx.navigateTo({ url: `/pages/chat/chat?conv=${conv}` });
    },
    retry() {
      getApp<IAppOption>().client.retry();
    },
    goContacts() {
      void wx.switchTab({ url: '/pages/contacts/contacts' });
    },
  },
});
