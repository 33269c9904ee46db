import type { ChatClient } from '../miniprogram/core/client';

declare global {
  /** What App() holds: the one chat client every page uses. */
  interface IAppOption {
    client: ChatClient;
    globalData: Record<string, never>;
  }
}

export {};
