import { makeAutoObservable, observable } from 'mobx-miniprogram';

/** A problem the user's action ran into that is not about the connection: a refused send, a failed upload. */
export interface ClientError {
  code: string;
  message: string;
  /** When it happened, in ms since the epoch. */
  at: number;
  /** `message` is written for the user (Chinese, WeChat's tone): the app shows it as a toast. */
  forUser: boolean;
}

/** What went wrong last, apart from the connection (the connection store has that). */
export class ErrorsStore {
  last: ClientError | null = null;

  constructor() {
    makeAutoObservable(this, { last: observable.ref });
  }

  /** `code: message` of the last problem, or '' when there was none. */
  get lastError(): string {
    return this.last ? `${this.last.code}: ${this.last.message}` : '';
  }

  /** A problem for the record (its message is the server's, not for the user's eyes). */
  record(code: string, message: string, at: number = Date.now()): void {
    this.last = { code, message, at, forUser: false };
  }

  /** A problem to tell the user: `message` is shown as it is (utils/error-toast.ts). */
  tell(code: string, message: string, at: number = Date.now()): void {
    this.last = { code, message, at, forUser: true };
  }

  clear(): void {
    this.last = null;
  }
}

export type ErrorsView = Pick<ErrorsStore, 'last' | 'lastError'>;
