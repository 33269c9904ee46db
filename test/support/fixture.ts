import { createPhone, started, type Phone, type PhoneOptions } from './app';
import { startServerProcess, type ServerProcess } from './server-process';

export interface ServerFixture {
  /** The running server (set once the fixture's before-hook has run). */
  readonly server: ServerProcess;
  readonly url: string;
  /** A phone started against the server and ready; stopped after. */
  phone(options?: PhoneOptions): Promise<Phone>;
  /** A phone made but not started (it may be pointed elsewhere); stopped after. */
  unstarted(url: string, options?: PhoneOptions): Phone;
  /** Two ready phones and their conversation, listed on both sides as if each had opened the other in 通讯录. */
  pair(): Promise<{ me: Phone; peer: Phone; conv: string }>;
}

/**
 * The real server as a process for a describe block — one for all its tests, or a fresh one for
 * each with `each` — and every phone its tests start, stopped again after.
 */
export function useServer(options: { each?: boolean; env?: Record<string, string> } = {}): ServerFixture {
  let running: ServerProcess | undefined;
  const phones: Phone[] = [];
  const track = (phone: Phone): Phone => {
    phones.push(phone);
    return phone;
  };
  (options.each ? beforeEach : beforeAll)(async () => {
    running = await startServerProcess({ env: options.env });
  });
  (options.each ? afterEach : afterAll)(async () => {
    for (const phone of phones.splice(0)) phone.client.stop();
    await running?.stop();
    running = undefined;
  });
  const fixture: ServerFixture = {
    get server() {
      if (!running) throw new Error('the server is not running: use the fixture inside a test');
      return running;
    },
    get url() {
      return fixture.server.url;
    },
    phone: (phoneOptions) => started(track(createPhone(fixture.url, phoneOptions))),
    unstarted: (url, phoneOptions) => track(createPhone(url, phoneOptions)),
    async pair() {
      const me = await fixture.phone();
      const peer = await fixture.phone();
      const conv = me.client.conversationWith(peer.client.stores.me.user!);
      peer.client.conversationWith(me.client.stores.me.user!);
      return { me, peer, conv };
    },
  };
  return fixture;
}
