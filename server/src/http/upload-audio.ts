// music-metadata ships only ES modules; Node (≥ 20.19) require()s them from our CommonJS build, as
// it does file-type (uploads.ts). Version 11 is the last line that supports Node 20 (12 needs 22).
import { parseBuffer } from 'music-metadata';

/**
 * Audio uploads (voice messages): which of the three containers a file is, by its content alone,
 * and how long it plays. The length is read once, when the upload is stored (upload-store.ts keeps
 * it with the upload's row), so a voice `send` only compares numbers and never parses a file.
 */

/** The stored audio types: extension → Content-Type. */
export const AUDIO_TYPES = { aac: 'audio/aac', m4a: 'audio/mp4', mp3: 'audio/mpeg' } as const;
export type AudioExtension = keyof typeof AUDIO_TYPES;

/** What an accepted audio file is: its container, and its real length in ms. */
export interface AudioInfo {
  ext: AudioExtension;
  durationMs: number;
}

/**
 * ISO base media brands (the `ftyp` box's major brand) taken for M4A: the audio brands, and the
 * generic ones phones' recorders write. Whether the file holds AAC audio and no video is the
 * parser's answer, checked after.
 */
const M4A_BRANDS = new Set([
  'M4A ',
  'M4B ',
  'mp41',
  'mp42',
  'isom',
  'iso2',
  'iso4',
  'iso5',
  'iso6',
  '3gp4',
  '3gp5',
  '3gp6',
]);

/** The codec music-metadata names for each container's audio: AAC in ADTS and MP4, MPEG layer III. */
const CODECS: Record<AudioExtension, RegExp> = { aac: /AAC/i, m4a: /AAC/i, mp3: /Layer 3/i };

/** ADTS: sync word 0xFFF, layer 00, a sampling frequency index that exists. */
function isAdtsHeader(bytes: Uint8Array, at: number): boolean {
  return (
    bytes.length >= at + 7 &&
    bytes[at] === 0xff &&
    (bytes[at + 1] & 0xf6) === 0xf0 &&
    ((bytes[at + 2] >> 2) & 0x0f) < 13
  );
}

/**
 * An MPEG audio layer III frame header: 11 sync bits, a version that exists (1, 2 or 2.5), layer
 * III, a bitrate index other than "free" and "bad", a sampling rate that exists.
 */
function isMp3Header(bytes: Uint8Array, at: number): boolean {
  if (bytes.length < at + 4 || bytes[at] !== 0xff || (bytes[at + 1] & 0xe0) !== 0xe0) return false;
  const version = (bytes[at + 1] >> 3) & 0x03;
  const layer = (bytes[at + 1] >> 1) & 0x03;
  const bitrate = bytes[at + 2] >> 4;
  const rate = (bytes[at + 2] >> 2) & 0x03;
  return version !== 0x01 && layer === 0x01 && bitrate !== 0x00 && bitrate !== 0x0f && rate !== 0x03;
}

/** Where the audio after a leading ID3v2 tag starts (header, body and footer skipped); 0 without one. */
function afterId3(bytes: Uint8Array): number {
  if (bytes.length < 10 || bytes[0] !== 0x49 || bytes[1] !== 0x44 || bytes[2] !== 0x33) return 0;
  const size = bytes.subarray(6, 10);
  if (bytes[3] === 0xff || bytes[4] === 0xff || size.some((byte) => byte >= 0x80)) return 0;
  const body = (size[0] << 21) | (size[1] << 14) | (size[2] << 7) | size[3];
  const footer = (bytes[5] & 0x10) !== 0 ? 10 : 0;
  return 10 + body + footer;
}

/**
 * Whether a file's first bytes (at least 12 of them) start like one of the audio containers: an
 * ID3 tag, an ADTS or MPEG audio frame, or an `ftyp` box. Decides, while an upload is still
 * arriving, which size limit it is held to; `sniffAudio` decides what it is once it is complete.
 */
export function looksLikeAudio(head: Uint8Array): boolean {
  return (
    afterId3(head) > 0 ||
    isAdtsHeader(head, 0) ||
    isMp3Header(head, 0) ||
    (head.length >= 12 && String.fromCharCode(...head.subarray(4, 8)) === 'ftyp')
  );
}

/**
 * The audio container of a whole file, by content only (never a name or a client-sent type):
 * AAC in ADTS (sync word 0xFFF, layer 00), M4A (an `ftyp` box with an audio or generic MP4
 * brand), or MP3 (an MPEG layer III frame sync, after an ID3v2 tag or not). Undefined otherwise.
 */
export function sniffAudio(bytes: Uint8Array): AudioExtension | undefined {
  if (bytes.length >= 12 && String.fromCharCode(...bytes.subarray(4, 8)) === 'ftyp') {
    const boxSize = ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0;
    const brand = String.fromCharCode(...bytes.subarray(8, 12));
    return boxSize >= 16 && M4A_BRANDS.has(brand) ? 'm4a' : undefined;
  }
  const start = afterId3(bytes);
  if (isAdtsHeader(bytes, start)) return 'aac';
  if (isMp3Header(bytes, start)) return 'mp3';
  return undefined;
}

/**
 * The container and real length of a complete audio file, or undefined when it is none of ours:
 * not sniffed as one, or music-metadata cannot read it, finds video, another codec, or no length.
 * Every frame is read for the length (`duration: true`), so a header that lies about it (an MP3's
 * Xing frame) counts for nothing, and ADTS, which has no header with a length, is measured too.
 */
export async function readAudio(bytes: Uint8Array): Promise<AudioInfo | undefined> {
  const ext = sniffAudio(bytes);
  if (!ext) return undefined;
  try {
    // A copy: under jest Node's Buffer may be another realm's Uint8Array (as in sniffImage).
    const { format } = await parseBuffer(
      new Uint8Array(bytes),
      // The parser is chosen by this name's extension (after the type, which music-metadata knows
      // for MP3 and M4A but not ADTS): never by its own guess from the content.
      { mimeType: AUDIO_TYPES[ext], path: `recording.${ext}`, size: bytes.length },
      { duration: true, skipCovers: true },
    );
    const seconds = format.duration;
    if (format.hasVideo === true || !CODECS[ext].test(format.codec ?? '')) return undefined;
    if (seconds === undefined || !Number.isFinite(seconds) || seconds <= 0) return undefined;
    return { ext, durationMs: Math.round(seconds * 1000) };
  } catch {
    return undefined;
  }
}
