/**
 * Where the chat server is: its HTTP base (the socket is base + /ws). The build replaces this value
 * (gulpfile.js), so do not edit it by hand:
 * - development (`npm run build`, `npm start`, `npm run preview`): this machine's LAN address, e.g.
 *   http://192.168.1.5:3000, so WeChat DevTools and a phone on the same Wi-Fi both reach `npm start`;
 *   SERVER_URL in the environment overrides it;
 * - production (`npm run build:prod`, `npm run upload`): SERVER_URL from the environment or .env,
 *   a wss:// or https:// domain (docs/deploy.md).
 * The value below is what tests see when they import this module from source.
 */
export const SERVER_URL = 'http://127.0.0.1:3000';
