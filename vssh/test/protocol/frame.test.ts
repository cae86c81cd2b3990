import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { VsshError } from '../../src/errors.js';
import { codeOf } from '../helpers.js';
import { FrameReader, FrameType, MAX_FRAME, MAX_PAYLOAD, encodeFrame } from '../../src/protocol/frame.js';

const frames = [
  { type: FrameType.REQUEST, stream: 1, payload: Buffer.from('{"verb":"exec"}') },
  { type: FrameType.DATA, stream: 1, payload: randomBytes(70_000) },
  { type: FrameType.END, stream: 1, payload: Buffer.alloc(0) },
  { type: FrameType.WINDOW, stream: 0xffffffff, payload: Buffer.from([0, 1, 0, 0]) },
];

describe('frames', () => {
  it('round-trip however the bytes are cut', () => {
    const wire = Buffer.concat(frames.map(encodeFrame));
    for (const cut of [1, 3, 4, 5, 9, 1000, 65_536, wire.length]) {
      const r = new FrameReader();
      const got = [];
      for (let i = 0; i < wire.length; i += cut) got.push(...r.push(wire.subarray(i, i + cut)));
      expect(got).toEqual(frames);
      expect(r.pending).toBe(0);
    }
  });

  it('holds a frame cut off mid-way without delivering it', () => {
    const one = encodeFrame(frames[1]!);
    const r = new FrameReader();
    expect(r.push(one.subarray(0, one.length - 1))).toEqual([]);
    expect(r.pending).toBe(one.length - 1);
  });

  it('refuses a 4 GiB length prefix before buffering anything, and stays refused', () => {
    const r = new FrameReader();
    const huge = Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 1]);
    expect(codeOf(() => r.push(huge))).toBe('VSSH_FRAME_TOO_LARGE');
    expect(codeOf(() => r.push(encodeFrame(frames[0]!)))).toBe('VSSH_FRAME_TOO_LARGE');
    const over = Buffer.alloc(4);
    over.writeUInt32BE(MAX_FRAME + 1);
    expect(codeOf(() => new FrameReader().push(over))).toBe('VSSH_FRAME_TOO_LARGE');
  });

  it('refuses a length under the header and an unknown type', () => {
    expect(codeOf(() => new FrameReader().push(Buffer.from([0, 0, 0, 2, 1, 0])))).toBe('VSSH_FRAME_MALFORMED');
    expect(codeOf(() => new FrameReader().push(Buffer.from([0, 0, 0, 5, 99, 0, 0, 0, 1])))).toBe('VSSH_FRAME_MALFORMED');
  });

  it('never throws anything but a VsshError on random bytes', () => {
    for (let i = 0; i < 2000; i++) {
      const r = new FrameReader();
      try {
        r.push(randomBytes(1 + (i % 64)));
      } catch (err) {
        expect(err).toBeInstanceOf(VsshError);
      }
    }
  });

  it('refuses to encode what it would refuse to read', () => {
    expect(codeOf(() => encodeFrame({ type: FrameType.DATA, stream: 1, payload: Buffer.alloc(MAX_PAYLOAD + 1) }))).toBe('VSSH_FRAME_TOO_LARGE');
    expect(codeOf(() => encodeFrame({ type: 42 as FrameType, stream: 1, payload: Buffer.alloc(0) }))).toBe('VSSH_FRAME_MALFORMED');
    expect(codeOf(() => encodeFrame({ type: FrameType.DATA, stream: -1, payload: Buffer.alloc(0) }))).toBe('VSSH_FRAME_MALFORMED');
  });
});
