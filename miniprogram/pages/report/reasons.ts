import type { ReportReason } from '../../../contract/http';
import { ApiError } from '../../core/api';

// The report form's rules (pages/report), apart from the page so tests can use them.

/** The reasons offered, in this order (contract/http.ts ReportReason). */
export const REPORT_REASONS: readonly ReportReason[] = ['骚扰', '诈骗', '色情低俗', '违法违规', '其他'];

/** The server takes a reason of at most this many characters: the label, `：`, and the user's words. */
export const REPORT_REASON_MAX = 200;

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
export function textMaxFor(picked: ReportReason | ''): number {
  const label = picked || '色情低俗';
  return REPORT_REASON_MAX - label.length - 1;
}
