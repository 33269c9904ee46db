import { LIMITS } from '../../../contract/limits';
import type { MessageItem } from '../../stores/messages';

/*
 * The message page renders a window of the conversation: from a seq to the newest message, so a
 * long conversation opens as fast as a short one and an arriving message is an append.
 */

/** Messages shown per page, when opening and per step back in time. */
export const PAGE = LIMITS.historyDefault;

/** Index of the first stored message with seq ≥ `fromSeq` (pending sends sort last). */
export function firstShownIndex(items: readonly MessageItem[], fromSeq: number): number {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    const seq = items[mid].seq;
    if (seq !== 0 && seq < fromSeq) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** The seq that starts a window of `count` stored messages ending at index `end`. */
export function windowStart(items: readonly MessageItem[], end: number, count: number): number {
  const start = Math.max(0, end - count);
  return start === 0 || !items[start] ? 0 : items[start].seq;
}

export function storedCount(items: readonly MessageItem[]): number {
  return firstShownIndex(items, Number.MAX_SAFE_INTEGER);
}
