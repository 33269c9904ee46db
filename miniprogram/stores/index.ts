import { ConnectionStore } from './connection';
import { MeStore } from './me';
import { MessagesStore } from './messages';
import { PeopleStore } from './people';
import { SessionsStore } from './sessions';

/** The stores of one app instance; pages read them through the app's chat client. */
export interface Stores {
  me: MeStore;
  connection: ConnectionStore;
  sessions: SessionsStore;
  messages: MessagesStore;
  people: PeopleStore;
}

export function createStores(): Stores {
  return {
    me: new MeStore(),
    connection: new ConnectionStore(),
    sessions: new SessionsStore(),
    messages: new MessagesStore(),
    people: new PeopleStore(),
  };
}
