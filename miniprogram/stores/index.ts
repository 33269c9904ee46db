import { BlocksStore, type BlocksView } from './blocks';
import { ConnectionStore, type ConnectionView } from './connection';
import { ErrorsStore, type ErrorsView } from './errors';
import { GroupsStore, type GroupsView } from './groups';
import { MeStore, type MeView } from './me';
import { MessagesStore, type MessagesView } from './messages';
import { PeopleStore, type PeopleView } from './people';
import { RemindersStore, type RemindersView } from './reminders';
import { SessionsStore, type SessionsView } from './sessions';
import { VoiceStore, type VoiceView } from './voice';

/** The stores of one app instance. Only the chat client (core/) writes them. */
export interface Stores {
  me: MeStore;
  connection: ConnectionStore;
  sessions: SessionsStore;
  messages: MessagesStore;
  people: PeopleStore;
  groups: GroupsStore;
  errors: ErrorsStore;
  voice: VoiceStore;
  reminders: RemindersStore;
  blocks: BlocksStore;
}

/** What pages see of the stores: everything to read, nothing to write (they call the client instead). */
export interface StoreViews {
  readonly me: MeView;
  readonly connection: ConnectionView;
  readonly sessions: SessionsView;
  readonly messages: MessagesView;
  readonly people: PeopleView;
  readonly groups: GroupsView;
  readonly errors: ErrorsView;
  readonly voice: VoiceView;
  readonly reminders: RemindersView;
  readonly blocks: BlocksView;
}

export function createStores(): Stores {
  const me = new MeStore();
  const people = new PeopleStore();
  const groups = new GroupsStore();
  const messages = new MessagesStore();
  return {
    me,
    connection: new ConnectionStore(),
    sessions: new SessionsStore({
      meId: () => me.id,
      nameOf: (userId) => people.profile(userId)?.nickname ?? '',
      facesOf: (conv) => groups.faces(conv),
      recallOf: (conv) => ({
        senderOf: (seq) => messages.view(conv).items.find((item) => item.seq === seq)?.from,
        roleOf: (userId) => groups.details(conv)?.members.find((member) => member.id === userId)?.role,
      }),
    }),
    messages,
    people,
    groups,
    errors: new ErrorsStore(),
    voice: new VoiceStore(),
    reminders: new RemindersStore(),
    blocks: new BlocksStore(),
  };
}
