/**
 * A local HTTP server that stands in for WeChat's api.weixin.qq.com (code2session) in the login
 * tests: a subclass says how it answers; this starts it on a free loopback port and stops it.
 */
import http from 'node:http';
import type net from 'node:net';

export abstract class WechatStandIn {
  private readonly server = http.createServer((request, response) => this.answer(request, response));

  /** Starts listening; answers the base URL to give the server as its WeChat `apiBase`. */
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  /** Stops listening, cutting any connection still open (an answer held back included). */
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Answers one request to the stand-in. */
  protected abstract answer(request: http.IncomingMessage, response: http.ServerResponse): void;
}
