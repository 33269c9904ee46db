import type { PublicUser } from '../../contract/frames';
import { ChatClient, type ChatClientOptions } from '../../miniprogram/core/client';
import type { Platform } from '../../miniprogram/core/platform';
import { createStores, type Stores } from '../../miniprogram/stores/index';
import { sleep, waitFor } from '../../server/test/support/wait';
import { WxAdapter } from './wx-adapter';
import type { PhoneMedia } from './wx-media';

export { sleep, waitFor };

/**
 * One simulated phone: its own wx (storage, sockets) and its own chat client. `stores` are the
 * client's stores, writable: a test may fill them as frames would (the app's pages can only read).
 */
export interface Phone {
  adapter: WxAdapter;
  client: ChatClient;
  stores: Stores;
}

export type PhoneOptions = Partial<Omit<ChatClientOptions, 'platform' | 'stores'>> & {
  /** The phone's storage, to relaunch an installation (share it) or start a new one (default). */
  storage?: Map<string, string>;
  /** Wraps the adapter's wx, to watch what the client does with it. */
  platform?: (platform: Platform) => Platform;
  /** The phone's files, recorder and audio (share them to relaunch an installation). */
  media?: PhoneMedia;
};

export function createPhone(serverUrl: string, options: PhoneOptions = {}): Phone {
  const { storage, platform: wrap, media, ...clientOptions } = options;
  const adapter = new WxAdapter(storage, media);
  const stores = createStores();
  const platform = wrap ? wrap(adapter.platform()) : adapter.platform();
  const client = new ChatClient({ serverUrl, ...clientOptions, platform, stores });
  return { adapter, client, stores };
}

/** Starts a phone and waits until it has logged in, connected and synced. */
export async function startPhone(serverUrl: string, options: PhoneOptions = {}): Promise<Phone> {
  return started(createPhone(serverUrl, options));
}

/** Starts a phone that was made, and waits until it has logged in, connected and synced. */
export async function started<P extends Phone>(phone: P): Promise<P> {
  phone.client.start();
  await waitFor(() => phone.client.stores.connection.state === 'ready', 'the phone to be ready');
  return phone;
}

/**
 * A phone logged in as `user` that never connects (its server address answers nothing): tests
 * fill its stores directly, as frames would, to render a screen.
 */
export function offlinePhone(user: PublicUser): Phone {
  const phone = createPhone('http://127.0.0.1:9');
  phone.stores.me.setUser(user);
  return phone;
}

/** A value the phone keeps in its storage, as the app reads it back. */
export function stored<T>(phone: Phone, key: string): T | undefined {
  const raw = phone.adapter.storage.get(key);
  return raw === undefined ? undefined : (JSON.parse(raw) as T);
}
