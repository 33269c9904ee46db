import { ChatClient } from './core/client';
import { SERVER_URL } from './config';
import { watchErrors } from './utils/error-toast';
import { watchTabBadge } from './utils/tab-badge';

// The one socket service of the app (docs/architecture.md): created here, shared by every
// page through getApp().client. Pages never open or close a socket.
App<IAppOption>({
  client: new ChatClient({ platform: wx, serverUrl: SERVER_URL }),
  globalData: {},
  onLaunch() {
    watchTabBadge(this.client.stores.sessions, wx);
    watchErrors(this.client.stores.errors, wx);
    this.client.start();
  },
  onShow() {
    this.client.onShow();
  },
});
