import type { SubscribeResult } from '../../contract/http';

/** One call of wx.requestSubscribeMessage, as the double saw it. */
export interface SubscribeCall {
  tmplIds: string[];
  /** Made from a tap's own call stack (`tap`): WeChat refuses every other call. */
  fromTap: boolean;
  /** WeChat's panel showed (no kept choice for the template). */
  prompted: boolean;
  /** What the call answered, or the failure's errMsg. */
  outcome: SubscribeResult | string;
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
