import { ChatClient } from './core/client';
import { SERVER_URL } from './config';

// The one socket service of the app (the design card's rule): created here, shared by every
// page through getApp().client. Pages never open or close a socket.
App<IAppOption>({
  client: new ChatClient({ platform: wx, serverUrl: SERVER_URL }),
  globalData: {},
  onLaunch() {
    this.client.start();
  },
  onShow() {
    this.client.onShow();
  },
});
