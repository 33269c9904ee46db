/** The console's calls to the moderation API (docs/protocol.md, "Safety"), with the bearer token. */

export interface PublicUser {
  id: string;
  nickname: string;
  avatar: string;
}

export interface ChatMessage {
  conv: string;
  seq: number;
  from: string;
  /** `text`, `image`, `voice`, `system`, `recalled` (others shown as they are). */
  kind: string;
  body: string;
  ts: number;
  duration?: number;
}

export interface BanView {
  reason: string;
  until: number | null;
  since: number;
}

export interface ReportView {
  id: string;
  conv: string;
  seq: number | null;
  reason: string;
  createdAt: number;
  reporter: PublicUser | null;
  reported: (PublicUser & { ban: BanView | null }) | null;
  message: ChatMessage | null;
  context: ChatMessage[];
}

export interface UserView extends PublicUser {
  ban: BanView | null;
  reports: Array<{ id: string; conv: string; seq: number | null; reason: string; createdAt: number; status: string }>;
}

export interface AuditEntry {
  id: string;
  ts: number;
  actor: string;
  ip: string;
  action: 'ban' | 'unban' | 'recall' | 'dismiss';
  target: string;
  reason: string;
  detail: string;
}

export interface LiveStats {
  online: number;
  messagesLastMinute: number;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class Api {
  constructor(readonly token: string) {}

  private async call<T>(method: string, path: string, body?: object): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    if (body) headers['content-type'] = 'application/json';
    const response = await fetch(path, {
      method,
      headers,
      body: body ? JSON.stringify(body) : undefined,
      credentials: 'omit',
      cache: 'no-store',
    });
    const text = await response.text();
    const parsed: unknown = text ? JSON.parse(text) : null;
    if (!response.ok) {
      const message =
        typeof parsed === 'object' && parsed !== null && 'message' in parsed && typeof parsed.message === 'string'
          ? parsed.message
          : response.statusText;
      throw new ApiError(response.status, message);
    }
    return parsed as T;
  }

  stats(): Promise<LiveStats> {
    return this.call('GET', '/api/admin/stats');
  }

  reports(before?: string): Promise<{ reports: ReportView[]; next: string | null }> {
    const query = before ? `?before=${encodeURIComponent(before)}` : '';
    return this.call('GET', `/api/admin/reports${query}`);
  }

  dismiss(report: string): Promise<null> {
    return this.call('POST', `/api/admin/reports/${encodeURIComponent(report)}/dismiss`, {});
  }

  recall(conv: string, seq: number, report?: string): Promise<unknown> {
    return this.call('POST', '/api/admin/recall', report ? { conv, seq, report } : { conv, seq });
  }

  ban(user: string, reason: string, until?: number, report?: string): Promise<unknown> {
    const body: { reason: string; until?: number; report?: string } = { reason };
    if (until !== undefined) body.until = until;
    if (report) body.report = report;
    return this.call('POST', `/api/admin/users/${encodeURIComponent(user)}/ban`, body);
  }

  unban(user: string): Promise<null> {
    return this.call('DELETE', `/api/admin/users/${encodeURIComponent(user)}/ban`);
  }

  users(query: string): Promise<UserView[]> {
    return this.call<{ users: UserView[] }>('GET', `/api/admin/users?q=${encodeURIComponent(query)}`).then(
      (answer) => answer.users,
    );
  }

  audit(): Promise<{ entries: AuditEntry[]; next: string | null }> {
    return this.call('GET', '/api/admin/audit?limit=50');
  }
}
