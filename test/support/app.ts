import { ChatClient, type ChatClientOptions } from '../../miniprogram/core/client';
import { WxAdapter } from './wx-adapter';

/** One simulated phone: its own wx (storage, sockets) and its own chat client and stores. */
export interface Phone {
  adapter: WxAdapter;
  client: ChatClient;
}

export function createPhone(
  serverUrl: string,
  options: Partial<ChatClientOptions> & { storage?: Map<string, string> } = {},
): Phone {
  const adapter = new WxAdapter(options.storage);
  const client = new ChatClient({ serverUrl, ...options, platform: adapter.platform() });
  return { adapter, client };
}

/** Waits until `condition` holds, polling; fails with `what` after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Starts a phone and waits until it has logged in, connected and synced. */
export async function startPhone(serverUrl: string, options: Parameters<typeof createPhone>[1] = {}): Promise<Phone> {
  const phone = createPhone(serverUrl, options);
  phone.client.start();
  await waitFor(() => phone.client.stores.connection.state === 'ready', 'the phone to be ready');
  return phone;
}

/** A value the phone keeps in its storage, as the app reads it back. */
export function stored<T>(phone: Phone, key: string): T | undefined {
  const raw = phone.adapter.storage.get(key);
  return raw === undefined ? undefined : (JSON.parse(raw) as T);
}
