import { makeAutoObservable, observable } from 'mobx-miniprogram';

/** A problem the user's action ran into that is not about the connection: a refused send, a failed upload. */
export interface ClientError {
  code: string;
  message: string;
  /** When it happened, in ms since the epoch. */
  at: number;
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

  record(code: string, message: string, at: number = Date.now()): void {
    this.last = { code, message, at };
  }

  clear(): void {
    this.last = null;
  }
}

export type ErrorsView = Pick<ErrorsStore, 'last' | 'lastError'>;
