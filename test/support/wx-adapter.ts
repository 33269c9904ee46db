import http from 'node:http';
import WebSocket from 'ws';
import type { Platform } from '../../miniprogram/core/platform';

type SocketTask = WechatMiniprogram.SocketTask;
type Callback<T> = (result: T) => void;

/**
 * A `wx` for tests: SocketTask over a real WebSocket client, wx.request over real HTTP, and
 * storage of its own (one per simulated phone). It follows WeChat's documented behaviour: events
 * arrive asynchronously, `send` on a task that is not open fails, storage holds JSON copies.
 */
export class WxAdapter {
  readonly storage: Map<string, string>;
  /** Every SocketTask ever made, newest last. */
  readonly tasks: FakeSocketTask[] = [];
  /** The most SocketTasks that were open or opening at one time. */
  maxConcurrentTasks = 0;
  private networkListeners: Array<Callback<WechatMiniprogram.OnNetworkStatusChangeListenerResult>> = [];
  private online = true;

  constructor(storage: Map<string, string> = new Map()) {
    this.storage = storage;
  }

  /** Open or opening tasks right now. */
  liveTasks(): FakeSocketTask[] {
    return this.tasks.filter((task) => task.live);
  }

  /** Simulates the phone losing or regaining its network (wx.onNetworkStatusChange). */
  setNetwork(isConnected: boolean): void {
    this.online = isConnected;
    for (const listener of this.networkListeners) {
      listener({ isConnected, networkType: isConnected ? 'wifi' : 'none' });
    }
  }

  /** The platform to hand to ChatClient. */
  platform(): Platform {
    return this.callbacks() as unknown as Platform;
  }

  // The real wx's overloads (promise and callback forms) are more than these test doubles
  // declare; the callback forms the client uses are implemented faithfully here.
  private callbacks() {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- wx's methods are called unbound.
    const adapter = this;
    return {
      connectSocket(options: WechatMiniprogram.ConnectSocketOption): SocketTask {
        const task = new FakeSocketTask(options);
        adapter.tasks.push(task);
        adapter.maxConcurrentTasks = Math.max(adapter.maxConcurrentTasks, adapter.liveTasks().length);
        return task;
      },
      request(options: WechatMiniprogram.RequestOption) {
        request(options);
        return {
          abort() {},
          offChunkReceived() {},
          offHeadersReceived() {},
          onChunkReceived() {},
          onHeadersReceived() {},
        };
      },
      login(options: WechatMiniprogram.LoginOption) {
        setTimeout(() => {
          options.success?.({ code: `code-${Math.random().toString(36).slice(2)}`, errMsg: 'login:ok' });
        }, 0);
      },
      getStorageSync(key: string): unknown {
        const raw = adapter.storage.get(key);
        return raw === undefined ? '' : JSON.parse(raw);
      },
      setStorageSync(key: string, value: unknown): void {
        adapter.storage.set(key, JSON.stringify(value));
      },
      removeStorageSync(key: string): void {
        adapter.storage.delete(key);
      },
      onNetworkStatusChange(listener: Callback<WechatMiniprogram.OnNetworkStatusChangeListenerResult>) {
        adapter.networkListeners.push(listener);
      },
      offNetworkStatusChange(listener?: Callback<WechatMiniprogram.OnNetworkStatusChangeListenerResult>) {
        adapter.networkListeners = listener ? adapter.networkListeners.filter((other) => other !== listener) : [];
      },
      getNetworkType(options: WechatMiniprogram.GetNetworkTypeOption) {
        setTimeout(() => {
          options.success?.({
            networkType: adapter.online ? 'wifi' : 'none',
            signalStrength: 0,
            hasSystemProxy: false,
            weakNet: false,
            errMsg: 'getNetworkType:ok',
          });
        }, 0);
      },
    };
  }
}

/** SocketTask over `ws`, with WeChat's callback shapes and error messages. */
export class FakeSocketTask implements SocketTask {
  readonly socketId: number;
  readonly url: string;
  readonly ws: WebSocket;
  live = true;
  /** The close code this task's socket ended with (undefined while it lives). */
  closeCode?: number;
  private openHandlers: Array<Callback<WechatMiniprogram.OnOpenListenerResult>> = [];
  private messageHandlers: Array<Callback<WechatMiniprogram.SocketTaskOnMessageListenerResult>> = [];
  private errorHandlers: Array<Callback<WechatMiniprogram.GeneralCallbackResult>> = [];
  private closeHandlers: Array<Callback<WechatMiniprogram.SocketTaskOnCloseListenerResult>> = [];
  private static nextId = 1;

  constructor(options: WechatMiniprogram.ConnectSocketOption) {
    this.socketId = FakeSocketTask.nextId++;
    this.url = options.url;
    this.ws = new WebSocket(options.url, { headers: options.header });
    let opened = false;
    this.ws.on('open', () => {
      opened = true;
      options.success?.({ errMsg: 'connectSocket:ok' });
      for (const handler of this.openHandlers) handler({ header: {}, profile: {} as WechatMiniprogram.SocketProfile });
    });
    this.ws.on('message', (data, isBinary) => {
      const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      const payload = isBinary ? new Uint8Array(bytes).buffer : bytes.toString('utf8');
      for (const handler of this.messageHandlers) handler({ data: payload });
    });
    this.ws.on('error', (error) => {
      if (!opened) options.fail?.({ errMsg: `connectSocket:fail ${error.message}` });
      for (const handler of this.errorHandlers) handler({ errMsg: error.message });
    });
    this.ws.on('close', (code, reason) => {
      this.live = false;
      this.closeCode = code;
      for (const handler of this.closeHandlers) handler({ code, reason: reason.toString() });
    });
  }

  send(options: WechatMiniprogram.SocketTaskSendOption): void {
    if (this.ws.readyState !== WebSocket.OPEN) {
      setTimeout(() => options.fail?.({ errMsg: 'sendSocketMessage:fail WebSocket is not connected' }), 0);
      return;
    }
    this.ws.send(options.data as string, (error) => {
      if (error) options.fail?.({ errMsg: `sendSocketMessage:fail ${error.message}` });
      else options.success?.({ errMsg: 'sendSocketMessage:ok' });
    });
  }

  close(options: WechatMiniprogram.SocketTaskCloseOption = {}): void {
    this.live = false;
    if (this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
    else this.ws.close(options.code ?? 1000, options.reason);
    setTimeout(() => options.success?.({ errMsg: 'closeSocket:ok' }), 0);
  }

  onOpen(handler: Callback<WechatMiniprogram.OnOpenListenerResult>): void {
    this.openHandlers.push(handler);
  }

  onMessage(handler: Callback<WechatMiniprogram.SocketTaskOnMessageListenerResult>): void {
    this.messageHandlers.push(handler);
  }

  onError(handler: Callback<WechatMiniprogram.GeneralCallbackResult>): void {
    this.errorHandlers.push(handler);
  }

  onClose(handler: Callback<WechatMiniprogram.SocketTaskOnCloseListenerResult>): void {
    this.closeHandlers.push(handler);
  }
}

/** wx.request over node:http, answering JSON as WeChat does (parsed when it is JSON). */
function request(options: WechatMiniprogram.RequestOption): void {
  const url = new URL(options.url);
  const body =
    options.data === undefined || options.method === 'GET'
      ? undefined
      : typeof options.data === 'string'
        ? options.data
        : JSON.stringify(options.data);
  const req = http.request(url, { method: options.method ?? 'GET', headers: options.header }, (res) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let data: unknown = text;
      try {
        data = JSON.parse(text);
      } catch {
        // Not JSON: WeChat hands over the text as it is.
      }
      // Debug-only fields of WeChat's answer (profile, exception) have no meaning here.
      options.success?.({
        data: data as WechatMiniprogram.IAnyObject,
        statusCode: res.statusCode ?? 0,
        header: res.headers,
        cookies: [],
        errMsg: 'request:ok',
      } as unknown as WechatMiniprogram.RequestSuccessCallbackResult);
    });
  });
  req.on('error', (error) =>
    options.fail?.({
      errMsg: `request:fail ${error.message}`,
      errno: 600001,
    } as WechatMiniprogram.RequestFailCallbackErr),
  );
  if (body !== undefined) req.end(body);
  else req.end();
}
