import type { ReportReason } from '../../../contract/http';
import type { ChatClient } from '../../core/client';
import { REPORT_REASONS, reportFailure, reportReason, textMaxFor } from './reasons';

export interface ReportData {
  reasons: readonly ReportReason[];
  /** The reason picked ('' until one is). */
  picked: ReportReason | '';
  /** 补充说明 (optional; with 其他, what it is). */
  text: string;
  /** How many characters the words may have beside the picked label. */
  textMax: number;
  submitting: boolean;
}

interface Instance {
  chat: ChatClient;
}

// 举报 (from a message's long-press menu, `seq` set, or from 聊天信息's 投诉, the whole
// conversation): WeChat's look — a white list of reasons with a check on the picked one, a
// textarea for 补充说明, 提交 disabled until a reason is picked; 已提交 and back on success.
Component<
  ReportData,
  { conv: StringConstructor; seq: NumberConstructor },
  {
    pick(event: WechatMiniprogram.BaseEvent): void;
    onText(event: WechatMiniprogram.Input): void;
    submit(): Promise<void>;
  },
  [],
  Instance,
  true
>({
  properties: { conv: String, seq: Number },
  data: {
    reasons: REPORT_REASONS,
    picked: '',
    text: '',
    textMax: textMaxFor(''),
    submitting: false,
  },
  lifetimes: {
    attached() {
      this.chat = getApp<IAppOption>().client;
    },
  },
  methods: {
    pick(event) {
      const picked = String(event.currentTarget.dataset.reason) as ReportReason;
      if (!REPORT_REASONS.includes(picked)) return;
      const textMax = textMaxFor(picked);
      this.setData({ picked, textMax, text: this.data.text.slice(0, textMax) });
    },
    onText(event) {
      this.setData({ text: event.detail.value.slice(0, this.data.textMax) });
    },
    async submit() {
      const { picked, text, submitting } = this.data;
      if (!picked || submitting) return;
      const seq = this.properties.seq > 0 ? this.properties.seq : undefined;
      this.setData({ submitting: true });
      try {
        await this.chat.report(this.properties.conv, reportReason(picked, text), seq);
      } catch (error) {
        this.setData({ submitting: false });
        void wx.showToast({ title: reportFailure(error), icon: 'none' });
        return;
      }
      this.setData({ submitting: false });
      void wx.showToast({ title: '已提交', icon: 'success' });
      void wx.navigateBack();
    },
  },
});
