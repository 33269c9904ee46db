import type { SubscribeResult } from '../../contract/http';

/** One call of wx.requestSubscribeMessage, as the double saw it. */
export interface SubscribeCall {
  tmplIds: string[];
  /** Made from a tap's own call stack (`tap`): WeChat refuses every other call. */
  fromTap: boolean;
  /** WeChat's panel showed (no kept choice for the template). */
  prompted: boolean;
  /** What the call answered for the first template (`accept`, `reject`, `ban`, `filter`), or the failure's errMsg. */
  outcome: string;
}

/**
 * WeChat's subscription panel as documented: `wx.requestSubscribeMessage` works only from a tap
 * (otherwise it fails: "can only be invoked by user TAP gesture"), and with the main switch off it
 * fails (20004). The panel answers what the user taps (`answer`); with 总是保持以上选择 ticked
 * (`always`) WeChat keeps that answer for the template and gives it from then on without the panel,
 * and `getSetting({withSubscriptions: true})` lists it in `itemSettings`. Answers are asynchronous.
 */
export class SubscribePrompt {
  answer: SubscribeResult = 'accept';
  /** Whether the user ticks 总是保持以上选择 on the panel's next answers. */
  always = false;
  /** 接收通知 in the mini-program's settings (off: every call fails, 20004). */
  mainSwitch = true;
  /** What WeChat keeps, by template: only the choices made with 总是保持以上选择. */
  readonly kept = new Map<string, 'accept' | 'reject'>();
  readonly calls: SubscribeCall[] = [];
  private tapping = 0;

  /** Runs `handler` as WeChat runs a tap handler: calls made inside it count as from a tap. */
  tap<T>(handler: () => T): T {
    this.tapping++;
    try {
      return handler();
    } finally {
      this.tapping--;
    }
  }

  /** How many times the panel showed. */
  get prompts(): number {
    return this.calls.filter((call) => call.prompted).length;
  }

  request(options: WechatMiniprogram.RequestSubscribeMessageOption): void {
    const tmplIds = (options.tmplIds as unknown[]).map(String);
    const call: SubscribeCall = { tmplIds, fromTap: this.tapping > 0, prompted: false, outcome: '' };
    this.calls.push(call);
    const fail = (errCode: number, errMsg: string) => {
      call.outcome = errMsg;
      setTimeout(() => {
        options.fail?.({ errCode, errMsg });
        options.complete?.({ errMsg });
      }, 0);
    };
    if (!call.fromTap) return fail(10005, 'requestSubscribeMessage:fail can only be invoked by user TAP gesture.');
    if (!this.mainSwitch) return fail(20004, 'requestSubscribeMessage:fail main switch is switched off');
    if (tmplIds.length === 0) return fail(10001, 'requestSubscribeMessage:fail tmplIds is empty');
    const answer: WechatMiniprogram.RequestSubscribeMessageSuccessCallbackResult = {
      errMsg: 'requestSubscribeMessage:ok',
    };
    for (const id of tmplIds) {
      const kept = this.kept.get(id);
      if (kept) {
        answer[id] = kept;
        continue;
      }
      call.prompted = true;
      answer[id] = this.answer;
      if (this.always && (this.answer === 'accept' || this.answer === 'reject')) this.kept.set(id, this.answer);
    }
    call.outcome = answer[tmplIds[0]];
    setTimeout(() => {
      options.success?.(answer);
      options.complete?.({ errMsg: answer.errMsg });
    }, 0);
  }

  /** getSetting's `subscriptionsSetting`: the main switch and the kept choices. */
  setting(): WechatMiniprogram.SubscriptionsSetting {
    return { mainSwitch: this.mainSwitch, itemSettings: Object.fromEntries(this.kept) };
  }
}

/** The part of WeChat's component framework (exparser, which miniprogram-simulate runs) a tap needs. */
interface Exparser {
  Event: {
    create(name: string, detail: object, options: object): unknown;
    dispatchEvent(target: unknown, event: unknown): void;
  };
}

// The same module instance miniprogram-simulate renders with (it has no type declarations).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const exparser = require('miniprogram-exparser') as Exparser;

/**
 * A tap on a rendered node as WeChat delivers it: the bound handler runs in the tap's own call
 * stack, inside `prompt.tap`. (miniprogram-simulate's `dispatchEvent('tap')` runs it a microtask
 * later, where nothing could tell a tap from any other call.) Whatever the handler awaits before
 * calling `wx.requestSubscribeMessage` runs outside the tap, and WeChat refuses it.
 */
export function tapNow(prompt: SubscribePrompt, node: { dom?: unknown } | undefined): void {
  const element = (node?.dom as { __wxElement?: unknown } | undefined)?.__wxElement;
  if (!element) throw new Error('nothing to tap');
  prompt.tap(() =>
    exparser.Event.dispatchEvent(
      element,
      exparser.Event.create('tap', {}, { bubbles: true, capturePhase: true, composed: true, extraFields: {} }),
    ),
  );
}
