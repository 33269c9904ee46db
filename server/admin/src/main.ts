/**
 * The moderation console (`GET /admin`): the report queue with each message's context, recall, ban
 * and dismiss; a user search with ban controls; the live figures; the audit log. Preact with htm
 * (tagged templates, no JSX step), bundled by esbuild (scripts/build-admin.js). The token is kept in
 * sessionStorage and sent as a bearer header: no cookies.
 */
import { render } from 'preact';
import { html } from 'htm/preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { Api, ApiError, type AuditEntry, type ChatMessage, type ReportView, type UserView, type BanView } from './api';

const TOKEN_KEY = 'admin.token';
const STATS_EVERY_MS = 5000;
const DAY_MS = 24 * 60 * 60 * 1000;

const ACTIONS: Record<AuditEntry['action'], string> = {
  ban: '封禁',
  unban: '解除封禁',
  recall: '撤回消息',
  dismiss: '忽略举报',
};

function time(ms: number): string {
  return new Date(ms).toLocaleString('zh-CN', { hour12: false });
}

function clock(ms: number): string {
  return new Date(ms).toLocaleTimeString('zh-CN', { hour12: false });
}

function failure(error: unknown): string {
  if (error instanceof ApiError) return `操作失败：${error.message}（${error.status}）`;
  return `操作失败：${String(error)}`;
}

function banText(ban: BanView | null) {
  if (!ban) return html`<span class="tag">正常</span>`;
  const until = ban.until === null ? '永久' : `至 ${time(ban.until)}`;
  return html`<span class="tag banned">已封禁（${until}）</span> <span class="muted">${ban.reason}</span>`;
}

function Login(props: { onToken: (token: string) => void }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const token = value.trim();
    if (!token) return;
    setBusy(true);
    setError('');
    try {
      await new Api(token).stats();
      props.onToken(token);
    } catch (caught) {
      setError(caught instanceof ApiError && caught.status === 401 ? '令牌错误，请检查后重新输入' : failure(caught));
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="login" onSubmit=${submit}>
    <h1>审核后台</h1>
    <p class="muted">请输入管理员令牌（ADMIN_TOKEN）。令牌只保存在本标签页中。</p>
    <input
      type="password"
      name="token"
      autocomplete="off"
      placeholder="管理员令牌"
      value=${value}
      onInput=${(event: Event) => setValue((event.target as HTMLInputElement).value)}
    />
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <button class="primary" type="submit" disabled=${busy}>登录</button>
  </form>`;
}

function Live(props: { api: Api; onUnauthorized: () => void }) {
  const { api, onUnauthorized } = props;
  const [stats, setStats] = useState<{ online: number; messagesLastMinute: number } | null>(null);
  useEffect(() => {
    let stopped = false;
    const load = () =>
      api.stats().then(
        (next) => !stopped && setStats(next),
        (error: unknown) => error instanceof ApiError && error.status === 401 && onUnauthorized(),
      );
    void load();
    const timer = setInterval(load, STATS_EVERY_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [api]);
  return html`<div class="live" data-test="live">
    <span>在线用户 <b data-test="online">${stats ? stats.online : '–'}</b></span>
    <span>每分钟消息 <b data-test="per-minute">${stats ? stats.messagesLastMinute : '–'}</b></span>
  </div>`;
}

/** Ban controls: a duration (1 天, 7 天, 永久) and a reason. */
function BanForm(props: { onBan: (reason: string, until: number | undefined) => Promise<void> }) {
  const [days, setDays] = useState('1');
  const [reason, setReason] = useState('');
  const ban = () => {
    const text = reason.trim() || '违反社区规范';
    const until = days === 'forever' ? undefined : Date.now() + Number(days) * DAY_MS;
    void props.onBan(text, until);
  };
  return html`<span class="actions">
    <select
      aria-label="封禁时长"
      value=${days}
      onChange=${(event: Event) => setDays((event.target as HTMLSelectElement).value)}
    >
      <option value="1">1 天</option>
      <option value="7">7 天</option>
      <option value="forever">永久</option>
    </select>
    <input
      aria-label="封禁原因"
      placeholder="封禁原因"
      maxlength="200"
      value=${reason}
      onInput=${(event: Event) => setReason((event.target as HTMLInputElement).value)}
    />
    <button class="danger" onClick=${ban}>封禁</button>
  </span>`;
}

function MessageBody(props: { message: ChatMessage }) {
  const { message } = props;
  switch (message.kind) {
    case 'text':
      return html`<span>${message.body}</span>`;
    case 'image':
      return html`<img src=${message.body} alt="图片消息" loading="lazy" />`;
    case 'voice':
      return html`<audio controls preload="metadata" src=${message.body}></audio>
        ${message.duration ? html` <span class="muted">${message.duration}″</span>` : ''}`;
    case 'recalled':
      return html`<span class="muted">（消息已撤回）</span>`;
    case 'system':
      return html`<span class="muted">（系统消息）</span>`;
    default:
      return html`<span class="muted">[${message.kind}] ${message.body}</span>`;
  }
}

function ReportCard(props: { report: ReportView; act: (run: () => Promise<unknown>, done: string) => Promise<void> }) {
  const { report, act } = props;
  const api = useApi();
  const names = new Map<string, string>();
  if (report.reporter) names.set(report.reporter.id, report.reporter.nickname);
  if (report.reported) names.set(report.reported.id, report.reported.nickname);
  const message = report.message;
  const recallable = message !== null && message.kind !== 'recalled' && message.kind !== 'system';
  return html`<section class="card" data-test="report" data-report=${report.id}>
    <h2><span class="tag reason">${report.reason}</span> ${report.seq === null ? '整个会话被举报' : '消息被举报'}</h2>
    <div class="meta">
      <span>举报人：${report.reporter ? `${report.reporter.nickname}（${report.reporter.id}）` : '—'}</span>
      <span data-test="reported"
        >被举报人：${report.reported ? `${report.reported.nickname}（${report.reported.id}）` : '—'}
        ${report.reported && banText(report.reported.ban)}</span
      >
      <span>时间：${time(report.createdAt)}</span>
      <span class="muted">会话 ${report.conv}${report.seq === null ? '' : ` #${report.seq}`}</span>
    </div>
    <ul class="context">
      ${report.context.map(
        (item) =>
          html`<li key=${item.seq} class=${item.seq === report.seq ? 'reported' : ''} data-seq=${item.seq}>
            <span class="who">${names.get(item.from) ?? item.from}</span>
            <span class="when">${clock(item.ts)}</span>
            <span class="body"><${MessageBody} message=${item} /></span>
          </li>`,
      )}
      ${report.context.length === 0 && html`<li class="muted">（没有消息）</li>`}
    </ul>
    <div class="actions">
      <button
        disabled=${!recallable}
        onClick=${() =>
          message &&
          act(() => api.recall(message.conv, message.seq, report.id), `已撤回 ${message.conv} #${message.seq}`)}
      >
        撤回消息
      </button>
      ${
        report.reported &&
        html`<${BanForm}
          onBan=${(reason: string, until: number | undefined) =>
            act(() => api.ban(report.reported!.id, reason, until, report.id), `已封禁 ${report.reported!.nickname}`)}
        />`
      }
      <button onClick=${() => act(() => api.dismiss(report.id), '已忽略该举报')}>忽略</button>
    </div>
  </section>`;
}

let currentApi: Api | null = null;
function useApi(): Api {
  if (!currentApi) throw new Error('not signed in');
  return currentApi;
}

function Reports(props: { onUnauthorized: () => void }) {
  const api = useApi();
  const [reports, setReports] = useState<ReportView[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [message, setMessage] = useState({ text: '', error: false });
  const load = useCallback(async () => {
    try {
      const page = await api.reports();
      setReports(page.reports);
      setNext(page.next);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) props.onUnauthorized();
      else setMessage({ text: failure(error), error: true });
    }
  }, [api]);
  useEffect(() => void load(), [load]);
  const more = async () => {
    if (!next || !reports) return;
    const page = await api.reports(next);
    setReports([...reports, ...page.reports]);
    setNext(page.next);
  };
  const act = async (run: () => Promise<unknown>, done: string) => {
    try {
      await run();
      setMessage({ text: done, error: false });
    } catch (error) {
      setMessage({ text: failure(error), error: true });
    }
    await load();
  };
  return html`<div>
    <div class="actions">
      <h2>待处理举报${reports ? `（${reports.length}${next ? '+' : ''}）` : ''}</h2>
      <span class="spacer"></span>
      <button onClick=${() => void load()}>刷新</button>
    </div>
    ${message.text && html`<p class=${message.error ? 'error' : 'notice'} role="status">${message.text}</p>`}
    ${reports === null && html`<p class="muted">加载中…</p>`}
    ${reports !== null && reports.length === 0 && html`<p class="muted" data-test="empty">没有待处理的举报</p>`}
    ${reports?.map((report) => html`<${ReportCard} key=${report.id} report=${report} act=${act} />`)}
    ${next && html`<button onClick=${() => void more()}>加载更多</button>`}
  </div>`;
}

function Users() {
  const api = useApi();
  const [query, setQuery] = useState('');
  const [users, setUsers] = useState<UserView[] | null>(null);
  const [message, setMessage] = useState({ text: '', error: false });
  const search = async (event?: Event) => {
    event?.preventDefault();
    try {
      setUsers(await api.users(query.trim()));
    } catch (error) {
      setMessage({ text: failure(error), error: true });
    }
  };
  const act = async (run: () => Promise<unknown>, done: string) => {
    try {
      await run();
      setMessage({ text: done, error: false });
    } catch (error) {
      setMessage({ text: failure(error), error: true });
    }
    await search();
  };
  return html`<div>
    <form class="search" onSubmit=${search}>
      <input
        aria-label="用户 ID 或昵称"
        placeholder="用户 ID 或昵称"
        value=${query}
        onInput=${(event: Event) => setQuery((event.target as HTMLInputElement).value)}
      />
      <button class="primary" type="submit">搜索</button>
    </form>
    ${message.text && html`<p class=${message.error ? 'error' : 'notice'} role="status">${message.text}</p>`}
    ${users !== null && users.length === 0 && html`<p class="muted">没有找到用户</p>`}
    ${users?.map(
      (user) =>
        html`<section class="card" key=${user.id} data-test="user" data-user=${user.id}>
          <h2>${user.nickname} <span class="muted">${user.id}</span></h2>
          <div class="meta"><span data-test="ban-state">状态：${banText(user.ban)}</span></div>
          <div class="actions">
            ${
              user.ban
                ? html`<button onClick=${() => act(() => api.unban(user.id), `已解除封禁 ${user.nickname}`)}>
                    解除封禁
                  </button>`
                : html`<${BanForm}
                    onBan=${(reason: string, until: number | undefined) =>
                      act(() => api.ban(user.id, reason, until), `已封禁 ${user.nickname}`)}
                  />`
            }
          </div>
          <h2>最近被举报</h2>
          ${
            user.reports.length === 0
              ? html`<p class="muted">没有举报</p>`
              : html`<table>
                  <thead>
                    <tr>
                      <th>时间</th>
                      <th>原因</th>
                      <th>会话</th>
                      <th>状态</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${user.reports.map(
                      (report) =>
                        html`<tr key=${report.id}>
                          <td>${time(report.createdAt)}</td>
                          <td>${report.reason}</td>
                          <td>${report.conv}${report.seq === null ? '' : ` #${report.seq}`}</td>
                          <td>${report.status === 'open' ? '待处理' : '已处理'}</td>
                        </tr>`,
                    )}
                  </tbody>
                </table>`
          }
        </section>`,
    )}
  </div>`;
}

function Audit() {
  const api = useApi();
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const [error, setError] = useState('');
  const load = useCallback(() => {
    api.audit().then(
      (page) => setEntries(page.entries),
      (caught: unknown) => setError(failure(caught)),
    );
  }, [api]);
  useEffect(load, [load]);
  return html`<section class="card">
    <div class="actions">
      <h2>操作记录（最近 50 条）</h2>
      <span class="spacer"></span>
      <button onClick=${load}>刷新</button>
    </div>
    ${error && html`<p class="error">${error}</p>`}
    <table data-test="audit">
      <thead>
        <tr>
          <th>时间</th>
          <th>操作</th>
          <th>对象</th>
          <th>原因</th>
          <th>来源 IP</th>
        </tr>
      </thead>
      <tbody>
        ${entries?.map(
          (entry) =>
            html`<tr key=${entry.id}>
              <td>${time(entry.ts)}</td>
              <td>${ACTIONS[entry.action] ?? entry.action}</td>
              <td>${entry.target}</td>
              <td>${entry.reason}</td>
              <td>${entry.ip}</td>
            </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}

type Tab = 'reports' | 'users' | 'audit';
const TABS: Array<[Tab, string]> = [
  ['reports', '举报队列'],
  ['users', '用户查询'],
  ['audit', '操作记录'],
];

function App() {
  const [token, setToken] = useState<string | null>(() => sessionStorage.getItem(TOKEN_KEY));
  const [tab, setTab] = useState<Tab>('reports');
  const [expired, setExpired] = useState(false);
  const signIn = (value: string) => {
    sessionStorage.setItem(TOKEN_KEY, value);
    setExpired(false);
    setToken(value);
  };
  const signOut = () => {
    sessionStorage.removeItem(TOKEN_KEY);
    setToken(null);
  };
  const unauthorized = useCallback(() => {
    sessionStorage.removeItem(TOKEN_KEY);
    setExpired(true);
    setToken(null);
  }, []);
  if (!token) {
    return html`${expired && html`<p class="error login-expired">令牌已失效，请重新登录</p>`}
      <${Login} onToken=${signIn} />`;
  }
  if (!currentApi || currentApi.token !== token) currentApi = new Api(token);
  return html`<header>
      <h1>审核后台</h1>
      <nav>
        ${TABS.map(
          ([name, label]) =>
            html`<button key=${name} class=${tab === name ? 'active' : ''} onClick=${() => setTab(name)}>
              ${label}
            </button>`,
        )}
      </nav>
      <span class="spacer"></span>
      <${Live} api=${currentApi} onUnauthorized=${unauthorized} />
      <button onClick=${signOut}>退出</button>
    </header>
    <main>
      ${tab === 'reports' && html`<${Reports} onUnauthorized=${unauthorized} />`}
      ${tab === 'users' && html`<${Users} />`} ${tab === 'audit' && html`<${Audit} />`}
    </main>`;
}

render(html`<${App} />`, document.getElementById('app')!);
