/**
 * The part of `wx` the chat core uses. The app passes the real `wx`; tests pass an adapter over
 * a real WebSocket client and real HTTP, with storage of their own, so two "phones" can share
 * one process.
 */
export type Platform = Pick<
  WechatMiniprogram.Wx,
  | 'connectSocket'
  | 'request'
  | 'login'
  | 'getStorageSync'
  | 'setStorageSync'
  | 'removeStorageSync'
  | 'onNetworkStatusChange'
  | 'offNetworkStatusChange'
  | 'getNetworkType'
  | 'uploadFile'
  // Voice: recording (with its permission), playback, and the recordings kept until they are sent.
  | 'getRecorderManager'
  | 'getSetting'
  | 'authorize'
  | 'createInnerAudioContext'
  | 'setInnerAudioOption'
  | 'getFileSystemManager'
  | 'env'
  // New-message reminders (WeChat subscription messages): the prompt, and getSetting's subscriptionsSetting.
  | 'requestSubscribeMessage'
>;
