import { VsshError } from '../errors.js';

/**
 * A frame on the wire (see PROTOCOL.md):
 *
 *   u32BE length | u8 type | u32BE stream | payload        (length counts type + stream + payload)
 *
 * The length is checked against MAX_FRAME before a single payload byte is buffered, so a peer that
 * announces 4 GiB costs nothing but the refusal.
 */

export const FrameType = {
  REQUEST: 1,
  REPLY: 2,
  DATA: 3,
  END: 4,
  RESET: 5,
  WINDOW: 6,
  PING: 7,
  PONG: 8,
  MSG: 9,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

/** HEADER_BYTES is the fixed part after the length prefix: type and stream id. */
export const HEADER_BYTES = 5;
/** MAX_PAYLOAD is the largest payload a frame may carry: 1 MiB. */
export const MAX_PAYLOAD = 1024 * 1024;
/** MAX_FRAME is the largest length prefix accepted. */
export const MAX_FRAME = HEADER_BYTES + MAX_PAYLOAD;

/** Frame is one decoded frame. */
export interface Frame {
  type: FrameType;
  stream: number;
  payload: Buffer;
}

const TYPES = new Set<number>(Object.values(FrameType));

/**
 * frameHeader returns the bytes before a payload of `payloadLength` bytes: length, type, stream, and a DATA
 * frame's channel byte when `channel` is given (counted in the length). It refuses what no reader would take.
 */
export function frameHeader(type: FrameType, stream: number, payloadLength: number, channel?: number): Buffer {
  const extra = channel === undefined ? 0 : 1;
  if (payloadLength + extra > MAX_PAYLOAD) throw new VsshError('VSSH_FRAME_TOO_LARGE', `a frame payload of ${payloadLength + extra} bytes is over the limit (${MAX_PAYLOAD}); this message cannot be sent as it is`);
  if (!TYPES.has(type)) throw new VsshError('VSSH_FRAME_MALFORMED', `unknown frame type ${type}`);
  if (!Number.isInteger(stream) || stream < 0 || stream > 0xffffffff) throw new VsshError('VSSH_FRAME_MALFORMED', `stream id ${stream} out of range`);
  const head = Buffer.allocUnsafe(4 + HEADER_BYTES + extra);
  head.writeUInt32BE(HEADER_BYTES + extra + payloadLength, 0);
  head.writeUInt8(type, 4);
  head.writeUInt32BE(stream, 5);
  if (extra) head.writeUInt8(channel!, 9);
  return head;
}

/** encodeFrame lays a frame out in bytes. */
export function encodeFrame(f: Frame): Buffer {
  return Buffer.concat([frameHeader(f.type, f.stream, f.payload.length), f.payload]);
}

/**
 * FrameReader turns a byte stream into frames, however the bytes are cut. It throws a VsshError (and
 * stays failed) on a length prefix over MAX_FRAME or under the header, or an unknown type: the
 * connection is then to be closed, since the stream can no longer be trusted to be in step.
 */
export class FrameReader {
  #chunks: Buffer[] = [];
  #buffered = 0;
  #failed: VsshError | undefined;

  /** push adds bytes and returns every frame they complete. */
  push(chunk: Buffer): Frame[] {
    if (this.#failed) throw this.#failed;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    const out: Frame[] = [];
    for (;;) {
      if (this.#buffered < 4) return out;
      const len = this.#peekLength();
      if (len > MAX_FRAME || len < HEADER_BYTES) {
        this.#failed = new VsshError(len > MAX_FRAME ? 'VSSH_FRAME_TOO_LARGE' : 'VSSH_FRAME_MALFORMED', `a frame announces ${len} bytes; frames are ${HEADER_BYTES} to ${MAX_FRAME} bytes`);
        throw this.#failed;
      }
      if (this.#buffered < 4 + len) return out;
      const bytes = this.#take(4 + len);
      const type = bytes.readUInt8(4);
      if (!TYPES.has(type)) {
        this.#failed = new VsshError('VSSH_FRAME_MALFORMED', `unknown frame type ${type}`);
        throw this.#failed;
      }
      out.push({ type: type as FrameType, stream: bytes.readUInt32BE(5), payload: bytes.subarray(4 + HEADER_BYTES) });
    }
  }

  /** pending is how many bytes of an incomplete frame are held (a peer that stops mid-frame). */
  get pending(): number {
    return this.#buffered;
  }

  #peekLength(): number {
    if (this.#chunks[0]!.length >= 4) return this.#chunks[0]!.readUInt32BE(0);
    // The prefix is split over small chunks: read its 4 bytes without copying everything held.
    const head = Buffer.alloc(4);
    let got = 0;
    for (const c of this.#chunks) {
      got += c.copy(head, got, 0, Math.min(c.length, 4 - got));
      if (got === 4) break;
    }
    return head.readUInt32BE(0);
  }

  /** #take removes the first `n` bytes: without a copy when one chunk holds them, else with exactly one. */
  #take(n: number): Buffer {
    const first = this.#chunks[0]!;
    let frame: Buffer;
    if (first.length >= n) {
      frame = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
    } else {
      frame = Buffer.allocUnsafe(n);
      let got = 0;
      while (got < n) {
        const c = this.#chunks[0]!;
        const k = Math.min(c.length, n - got);
        c.copy(frame, got, 0, k);
        got += k;
        if (k === c.length) this.#chunks.shift();
        else this.#chunks[0] = c.subarray(k);
      }
    }
    this.#buffered -= n;
    return frame;
  }
}
