import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import WebSocket from 'ws';
import type { Platform } from '../../miniprogram/core/platform';
import { PhoneMedia } from './wx-media';
import { SubscribePrompt } from './wx-subscribe';

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
  /** WeChat's subscription panel (new-message reminders): what the user answers, what WeChat keeps. */
  readonly subscribe = new SubscribePrompt();
  private networkListeners: Array<Callback<WechatMiniprogram.OnNetworkStatusChangeListenerResult>> = [];
  private online = true;

  /**
   * `media`: the phone's recorder, audio, files and microphone permission (share it to relaunch an
   * installation with the files it kept).
   */
  constructor(
    storage: Map<string, string> = new Map(),
    readonly media: PhoneMedia = new PhoneMedia(),
  ) {
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
    const media = adapter.media.wx();
    return {
      ...media,
      requestSubscribeMessage(options: WechatMiniprogram.RequestSubscribeMessageOption) {
        adapter.subscribe.request(options);
      },
      // The microphone's permission, and with `withSubscriptions` what WeChat keeps of subscriptions.
      getSetting(options: WechatMiniprogram.GetSettingOption) {
        media.getSetting({
          ...options,
          success: (result) =>
            options.success?.(
              options.withSubscriptions ? { ...result, subscriptionsSetting: adapter.subscribe.setting() } : result,
            ),
        });
      },
      connectSocket(options: WechatMiniprogram.ConnectSocketOption): SocketTask {
        const task = new FakeSocketTask(options);
        adapter.tasks.push(task);
        adapter.maxConcurrentTasks = Math.max(adapter.maxConcurrentTasks, adapter.liveTasks().length);
        return task;
      },
      uploadFile(options: WechatMiniprogram.UploadFileOption) {
        return uploadFile(options);
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

/**
 * wx.uploadFile over node:http: the file at `filePath` as one multipart part named `name`, with
 * `formData` fields, progress events, and the answer's body as text (as WeChat gives it).
 */
function uploadFile(options: WechatMiniprogram.UploadFileOption) {
  const progressHandlers: Array<(result: WechatMiniprogram.UploadTaskOnProgressUpdateListenerResult) => void> = [];
  const task = {
    abort() {},
    onProgressUpdate(handler: (result: WechatMiniprogram.UploadTaskOnProgressUpdateListenerResult) => void) {
      progressHandlers.push(handler);
    },
    offProgressUpdate() {},
    onHeadersReceived() {},
    offHeadersReceived() {},
  };
  setTimeout(() => {
    let file: Buffer;
    try {
      file = fs.readFileSync(options.filePath);
    } catch {
      options.fail?.({ errMsg: `uploadFile:fail file not found: ${options.filePath}` });
      return;
    }
    const boundary = `----wxadapter${Math.random().toString(16).slice(2)}`;
    const fields = Object.entries((options.formData ?? {}) as Record<string, string>).map(
      ([key, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${key}"\r\n\r\n${value}\r\n`,
    );
    const body = Buffer.concat([
      Buffer.from(fields.join('')),
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${options.name}"; filename="${path.basename(options.filePath)}"\r\n` +
          'Content-Type: application/octet-stream\r\n\r\n',
      ),
      file,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const req = http.request(
      new URL(options.url),
      {
        method: 'POST',
        headers: {
          ...(options.header as Record<string, string>),
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': String(body.length),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          // The debug-only profile of WeChat's answer has no meaning here.
          options.success?.({
            data: Buffer.concat(chunks).toString('utf8'),
            statusCode: res.statusCode ?? 0,
            errMsg: 'uploadFile:ok',
          } as WechatMiniprogram.UploadFileSuccessCallbackResult),
        );
      },
    );
    req.on('error', (error) => options.fail?.({ errMsg: `uploadFile:fail ${error.message}` }));
    // Written in a few chunks so progress is reported the way WeChat reports it.
    const step = Math.max(1, Math.ceil(body.length / 4));
    for (let offset = 0; offset < body.length; offset += step) {
      req.write(body.subarray(offset, offset + step));
      const sent = Math.min(body.length, offset + step);
      for (const handler of progressHandlers) {
        handler({
          progress: Math.round((sent / body.length) * 100),
          totalBytesSent: sent,
          totalBytesExpectedToSend: body.length,
        });
      }
    }
    req.end();
  }, 0);
  return task;
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
