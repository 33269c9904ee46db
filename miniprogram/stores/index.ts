import { ConnectionStore, type ConnectionView } from './connection';
import { ErrorsStore, type ErrorsView } from './errors';
import { MeStore, type MeView } from './me';
import { MessagesStore, type MessagesView } from './messages';
import { PeopleStore, type PeopleView } from './people';
import { SessionsStore, type SessionsView } from './sessions';

/** The stores of one app instance. Only the chat client (core/) writes them. */
export interface Stores {
  me: MeStore;
  connection: ConnectionStore;
  sessions: SessionsStore;
  messages: MessagesStore;
  people: PeopleStore;
  errors: ErrorsStore;
}

/** What pages see of the stores: everything to read, nothing to write (they call the client instead). */
export interface StoreViews {
  readonly me: MeView;
  readonly connection: ConnectionView;
  readonly sessions: SessionsView;
  readonly messages: MessagesView;
  readonly people: PeopleView;
  readonly errors: ErrorsView;
}

export function createStores(): Stores {
  return {
    me: new MeStore(),
    connection: new ConnectionStore(),
    sessions: new SessionsStore(),
    messages: new MessagesStore(),
    people: new PeopleStore(),
    errors: new ErrorsStore(),
  };
}
