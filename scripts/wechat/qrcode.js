// The preview's QR code, from the image WeChat sends back: saved as a PNG file and drawn in the terminal.
// miniprogram-ci can give only one of the two per call, so we ask it for the image (base64) and do both here,
// with the packages its own terminal format uses (jimp to read the image, qrcode-reader to decode it,
// qrcode-terminal to draw it), loaded from miniprogram-ci's dependencies rather than added to ours.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { createRequire } = require('node:module');

const ciRequire = createRequire(require.resolve('miniprogram-ci'));

/**
 * @param {string} text a data URI ("data:image/jpeg;base64,…") or bare base64
 * @returns {Buffer}
 */
function imageBytes(text) {
  return Buffer.from(text.trim().replace(/^data:[^,]*,/, ''), 'base64');
}

/**
 * Reads the QR code in an image: the URL it encodes.
 * @param {{ width: number, height: number, data: Buffer }} bitmap
 * @returns {Promise<string>}
 */
function decode(bitmap) {
  const QrCode = ciRequire('qrcode-reader');
  return new Promise((resolve, reject) => {
    const reader = new QrCode();
    reader.callback = (/** @type {unknown} */ err, /** @type {{ result?: string } | undefined} */ value) => {
      if (err || !value || !value.result) reject(err || new Error('no QR code found in the image'));
      else resolve(value.result);
    };
    reader.decode(bitmap);
  });
}

/**
 * @param {string} text
 * @returns {string} the QR code drawn with half-block characters, two rows per line
 */
function drawForTerminal(text) {
  const terminal = ciRequire('qrcode-terminal');
  let drawn = '';
  terminal.generate(text, { small: true }, (/** @type {string} */ out) => (drawn = out));
  return drawn;
}

/**
 * Saves the QR code WeChat sent as a PNG file and draws it for the terminal.
 * @param {string} image what miniprogram-ci wrote with qrcodeFormat "base64": a data URI
 * @param {string} pngFile where to save the PNG (its folder is created)
 * @returns {Promise<{ file: string, terminal?: string, url?: string }>} terminal and url are missing when the
 *   image could not be decoded (the file is saved all the same, in the format WeChat sent if not PNG)
 */
async function saveQrCode(image, pngFile) {
  const bytes = imageBytes(image);
  fs.mkdirSync(path.dirname(pngFile), { recursive: true });
  let jimp;
  try {
    const Jimp = ciRequire('jimp');
    jimp = await Jimp.read(bytes);
    fs.writeFileSync(pngFile, await jimp.getBufferAsync(Jimp.MIME_PNG));
  } catch {
    // Not an image jimp reads: keep WeChat's bytes, named for what they are.
    const ext = bytes.subarray(0, 3).equals(Buffer.from([0xff, 0xd8, 0xff])) ? '.jpg' : path.extname(pngFile);
    const file = pngFile.replace(/\.png$/i, ext);
    fs.writeFileSync(file, bytes);
    return { file };
  }
  try {
    const url = await decode(jimp.bitmap);
    return { file: pngFile, url, terminal: drawForTerminal(url) };
  } catch {
    return { file: pngFile };
  }
}

module.exports = { saveQrCode, imageBytes, drawForTerminal };
