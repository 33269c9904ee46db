import type { ReportReason } from '../../../contract/http';
import { ApiError } from '../../core/api';
import type { ChatClient } from '../../core/client';

/** The reasons offered, in this order (contract/http.ts ReportReason). */
export const REPORT_REASONS: readonly ReportReason[] = ['骚扰', '诈骗', '色情低俗', '违法违规', '其他'];

/** The server takes a reason of at most this many characters: the label, `：`, and the user's words. */
export const REPORT_REASON_MAX = 200;

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

/** The `reason` sent: the label, then the user's own words if any (`其他：…`), at most 200 characters. */
export function reportReason(picked: ReportReason, text: string): string {
  const words = text.trim();
  return (words ? `${picked}：${words}` : picked).slice(0, REPORT_REASON_MAX);
}

/** What the user is told when the report is not taken. */
export function reportFailure(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 0) return '网络不可用，请稍后重试';
    if (error.status === 403) return '你不在该聊天中，无法举报';
    if (error.status === 404) return '该聊天不存在';
    if (error.status === 429) return '提交太频繁，请稍后再试';
  }
  return '提交失败，请稍后重试';
}

/** The room the words have beside a label (the longest label when none is picked). */
function textMaxFor(picked: ReportReason | ''): number {
  const label = picked || '色情低俗';
  return REPORT_REASON_MAX - label.length - 1;
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
