/**
 * Where the chat server is. WeChat DevTools on the machine that runs `npm start` reaches it at
 * 127.0.0.1; a phone previewing over the same Wi-Fi needs this machine's LAN address instead.
 */
export const SERVER_URL = 'http://127.0.0.1:3000';
