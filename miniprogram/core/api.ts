import type { Platform } from './platform';
import type { DirectoryEntry, PublicUser } from '../../contract/frames';
import type {
  BlockList,
  ConversationPrefs,
  ConversationPrefsUpdate,
  Group,
  GroupDetails,
  GroupReceipts,
  GroupResponse,
  GroupUpdate,
  HttpErrorBody,
  LoginRequest,
  LoginResponse,
  ProfileUpdate,
  ReportCreated,
  ReportRequest,
  SubscriptionCredits,
  SubscriptionReport,
  SubscriptionState,
  UploadResponse,
} from '../../contract/http';

/** An HTTP call that failed: `status` 0 when the server could not be reached at all. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** What wx.request can send (no PATCH: the server takes PUT for its partial updates). */
type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

function succeeded(status: number): boolean {
  return status >= 200 && status < 300;
}

/** The error of an answer that is not a success: the server's `{error:{code,message}}` when it sent one. */
function failure(status: number, body: unknown): ApiError {
  const error = (body as Partial<HttpErrorBody> | undefined)?.error;
  return new ApiError(status, error?.code ?? 'http_error', error?.message ?? `HTTP ${status}`);
}

/** The server's HTTP routes over wx.request. */
export class Api {
  constructor(
    private readonly platform: Platform,
    private readonly baseUrl: string,
    private readonly token: () => string | undefined,
  ) {}

  login(body: LoginRequest): Promise<LoginResponse> {
    return this.call<LoginResponse>('POST', '/api/login', body, false);
  }

  /**
   * The directory: no query lists the caller's peers; a query needs at least
   * `DIRECTORY_QUERY_MIN` characters. A page of `limit` entries from `offset`.
   */
  users(query = '', page: { limit?: number; offset?: number } = {}): Promise<DirectoryEntry[]> {
    let path = `/api/users?q=${encodeURIComponent(query)}`;
    if (page.limit !== undefined) path += `&limit=${page.limit}`;
    if (page.offset) path += `&offset=${page.offset}`;
    return this.call<DirectoryEntry[]>('GET', path);
  }

  /** Who the token names: answers 401 for a token the server no longer takes. */
  me(): Promise<PublicUser> {
    return this.call<PublicUser>('GET', '/api/me');
  }

  updateProfile(update: ProfileUpdate): Promise<PublicUser> {
    return this.call<PublicUser>('PUT', '/api/profile', update);
  }

  /** Mutes and/or pins a conversation for the user, on every device. */
  updateConversation(conv: string, update: ConversationPrefsUpdate): Promise<ConversationPrefs> {
    return this.call<ConversationPrefs>('PUT', `/api/conversations/${encodeURIComponent(conv)}`, update);
  }

  /** Whether the server sends reminders, the template to ask for, and the user's credits. */
  subscriptions(): Promise<SubscriptionState> {
    return this.call<SubscriptionState>('GET', '/api/subscriptions');
  }

  /** What `wx.requestSubscribeMessage` answered: an accept is one more credit. */
  reportSubscription(report: SubscriptionReport): Promise<SubscriptionCredits> {
    return this.call<SubscriptionCredits>('POST', '/api/subscriptions', report);
  }

  // Safety (PROTOCOL.md, "Safety"): 拉黑 and 举报.

  /** The people the user blocked, newest first. */
  blocks(): Promise<BlockList> {
    return this.call<BlockList>('GET', '/api/blocks');
  }

  async block(userId: string): Promise<void> {
    await this.call<unknown>('PUT', `/api/blocks/${encodeURIComponent(userId)}`);
  }

  async unblock(userId: string): Promise<void> {
    await this.call<unknown>('DELETE', `/api/blocks/${encodeURIComponent(userId)}`);
  }

  /** Reports a message (`seq`) or a whole conversation (no `seq`). */
  report(request: ReportRequest): Promise<ReportCreated> {
    return this.call<ReportCreated>('POST', '/api/reports', request);
  }

  // Groups (docs/protocol.md, "Groups"): `id` is the group's id, not its conversation.

  async createGroup(name: string, members: readonly string[]): Promise<Group> {
    return (await this.call<GroupResponse>('POST', '/api/groups', { name, members })).group;
  }

  group(id: string): Promise<GroupDetails> {
    return this.call<GroupDetails>('GET', `/api/groups/${encodeURIComponent(id)}`);
  }

  async updateGroup(id: string, update: GroupUpdate): Promise<Group> {
    return (await this.call<GroupResponse>('PUT', `/api/groups/${encodeURIComponent(id)}`, update)).group;
  }

  async inviteToGroup(id: string, users: readonly string[]): Promise<Group> {
    const path = `/api/groups/${encodeURIComponent(id)}/members`;
    return (await this.call<GroupResponse>('POST', path, { users })).group;
  }

  /** Leaves the group (`userId` the caller's own) or removes a member. */
  async removeFromGroup(id: string, userId: string): Promise<void> {
    await this.call<unknown>('DELETE', `/api/groups/${encodeURIComponent(id)}/members/${encodeURIComponent(userId)}`);
  }

  async setGroupAdmin(id: string, userId: string, admin: boolean): Promise<Group> {
    const path = `/api/groups/${encodeURIComponent(id)}/admins/${encodeURIComponent(userId)}`;
    return (await this.call<GroupResponse>(admin ? 'PUT' : 'DELETE', path)).group;
  }

  async dismissGroup(id: string): Promise<void> {
    await this.call<unknown>('DELETE', `/api/groups/${encodeURIComponent(id)}`);
  }

  groupReceipts(id: string, seq: number): Promise<GroupReceipts> {
    return this.call<GroupReceipts>('GET', `/api/groups/${encodeURIComponent(id)}/receipts?seq=${seq}`);
  }

  /** Uploads an image file (wx.uploadFile, field `file`); `progress` gets 0–100. */
  upload(filePath: string, progress?: (percent: number) => void): Promise<UploadResponse> {
    return new Promise<UploadResponse>((resolve, reject) => {
      const task = this.platform.uploadFile({
        url: `${this.baseUrl}/api/upload`,
        filePath,
        name: 'file',
        header: { authorization: `Bearer ${this.token() ?? ''}` },
        success: (response) => {
          let body: unknown = response.data;
          try {
            body = JSON.parse(response.data);
          } catch {
            // Not JSON: reported below with the status.
          }
          if (succeeded(response.statusCode) && (body as UploadResponse)?.url) resolve(body as UploadResponse);
          else reject(failure(response.statusCode, body));
        },
        fail: (failure) => reject(new ApiError(0, 'network', failure.errMsg)),
      });
      if (progress && task) task.onProgressUpdate((update) => progress(update.progress));
    });
  }

  private call<T>(method: Method, path: string, body?: object, authorized = true): Promise<T> {
    // A JSON content type with no body is refused by the server: only with a body.
    const header: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
    const token = this.token();
    if (authorized && token) header.authorization = `Bearer ${token}`;
    return new Promise<T>((resolve, reject) => {
      this.platform.request({
        url: this.baseUrl + path,
        method,
        header,
        data: body,
        success: (response) => {
          if (succeeded(response.statusCode)) resolve(response.data as T);
          else reject(failure(response.statusCode, response.data));
        },
        fail: (failure) => reject(new ApiError(0, 'network', failure.errMsg)),
      });
    });
  }
}
