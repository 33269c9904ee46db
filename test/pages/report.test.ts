import type { ReportData } from '../../miniprogram/pages/report/report';
import { reportReason } from '../../miniprogram/pages/report/reasons';
import { waitFor } from '../support/app';
import { useServer } from '../support/fixture';
import { renderPage, settle, texts, type RenderedPage } from '../support/pages';

const ok = (api: string) => Promise.resolve({ errMsg: `${api}:ok` });

function tapReason(page: RenderedPage<ReportData>, label: string): void {
  const index = texts(page, '.reason .cell-label').indexOf(label);
  if (index < 0) throw new Error(`no reason ${label}`);
  page.querySelectorAll('.reason')[index].dispatchEvent('tap');
}

describe('举报: the report form, against the real server', () => {
  const fixture = useServer();
  afterEach(() => jest.restoreAllMocks());

  it('offers the five reasons; 提交 waits for one; a message is reported with the words, 已提交 and back', async () => {
    const { me, peer, conv } = await fixture.pair();
    peer.client.sendText(conv, '加我私聊，稳赚不赔');
    await waitFor(() => me.client.stores.messages.view(conv).items.length === 1, 'the message');
    const seq = me.client.stores.messages.view(conv).items[0].seq;
    const page = renderPage<ReportData>('report', me.client, { conv, seq: String(seq) });
    await settle();
    expect(texts(page, '.reason .cell-label')).toEqual(['骚扰', '诈骗', '色情低俗', '违法违规', '其他']);
    expect(page.querySelectorAll('.check')).toHaveLength(0);
    expect(texts(page, '.title')).toEqual(['请选择举报原因', '补充说明（选填）']);

    // Nothing picked: 提交 is disabled, and a tap does nothing.
    const report = jest.spyOn(me.client, 'report');
    const toast = jest.spyOn(wx, 'showToast').mockImplementation(() => ok('showToast'));
    const back = jest.spyOn(wx, 'navigateBack').mockImplementation(() => ok('navigateBack'));
    expect(page.data.picked).toBe('');
    page.querySelector('.submit')!.dispatchEvent('tap');
    await settle();
    expect(report).not.toHaveBeenCalled();

    tapReason(page, '诈骗');
    await settle();
    expect(page.data.picked).toBe('诈骗');
    // One check, on the picked reason.
    expect(page.querySelectorAll('.check')).toHaveLength(1);
    expect(texts(page, '.picked .cell-label')).toEqual(['诈骗']);
    page.querySelector('.text')!.dispatchEvent('input', { detail: { value: '  让我转账  ' } });
    await settle();
    // 200 with the label and its ：(诈骗：…).
    expect(texts(page, '.count')).toEqual([`${'  让我转账  '.length}/197`]);

    page.querySelector('.submit')!.dispatchEvent('tap');
    await waitFor(() => toast.mock.calls.length > 0, 'the toast');
    expect(report).toHaveBeenCalledWith(conv, '诈骗：让我转账', seq);
    expect(toast.mock.calls[0][0]).toMatchObject({ title: '已提交' });
    expect(back).toHaveBeenCalled();
    page.detach();
  });

  it('a whole conversation (no seq) with 其他; a refusal (not a member) is a plain toast, the form stays', async () => {
    const { me, conv } = await fixture.pair();
    const stranger = await fixture.phone();
    const toast = jest.spyOn(wx, 'showToast').mockImplementation(() => ok('showToast'));
    const back = jest.spyOn(wx, 'navigateBack').mockImplementation(() => ok('navigateBack'));

    const mine = renderPage<ReportData>('report', me.client, { conv });
    await settle();
    const report = jest.spyOn(me.client, 'report');
    tapReason(mine, '其他');
    await settle();
    expect(texts(mine, '.title')[1]).toBe('请说明举报原因');
    mine.querySelector('.text')!.dispatchEvent('input', { detail: { value: '冒充客服' } });
    mine.querySelector('.submit')!.dispatchEvent('tap');
    await waitFor(() => toast.mock.calls.length > 0, 'the toast');
    expect(report).toHaveBeenCalledWith(conv, '其他：冒充客服', undefined);
    expect(toast.mock.calls[0][0]).toMatchObject({ title: '已提交' });
    mine.detach();

    toast.mockClear();
    back.mockClear();
    const theirs = renderPage<ReportData>('report', stranger.client, { conv });
    await settle();
    tapReason(theirs, '骚扰');
    await settle();
    theirs.querySelector('.submit')!.dispatchEvent('tap');
    await waitFor(() => toast.mock.calls.length > 0, 'the toast');
    expect(toast.mock.calls[0][0]).toMatchObject({ title: '你不在该聊天中，无法举报', icon: 'none' });
    expect(back).not.toHaveBeenCalled();
    expect(theirs.data).toMatchObject({ picked: '骚扰', submitting: false });
    theirs.detach();
  });

  it('keeps the reason within 200 characters with its label', () => {
    expect(reportReason('骚扰', '')).toBe('骚扰');
    expect(reportReason('色情低俗', '啊'.repeat(300))).toHaveLength(200);
  });
});
