import { describe, expect, it } from 'vitest';
import { FrameDecoder, InvalidFrameSizeError } from './frame-decoder.js';

function frame(payload: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(payload.length);
  return Buffer.concat([size, payload]);
}

describe('FrameDecoder', () => {
  it('reassembles frames split across reads and separates frames sharing a read', () => {
    const a = Buffer.alloc(10, 1);
    const b = Buffer.alloc(20, 2);
    const stream = Buffer.concat([frame(a), frame(b)]);
    const decoder = new FrameDecoder(1024);
    const frames: Buffer[] = [];
    for (let i = 0; i < stream.length; i += 3) frames.push(...decoder.push(stream.subarray(i, i + 3)).frames);
    expect(frames.map((f) => [...f])).toEqual([[...a], [...b]]);
    expect(new FrameDecoder(1024).push(stream).frames).toHaveLength(2);
  });

  it('refuses sizes beyond the limit or too small before buffering them', () => {
    const header = Buffer.alloc(4);
    header.writeInt32BE(2048);
    expect(new FrameDecoder(1024).push(header).invalid?.message).toBe('frame of 2048 bytes exceeds --max-request-bytes 1024');
    header.writeInt32BE(-1);
    expect(new FrameDecoder(1024).push(header).invalid?.message).toContain('too small to hold a request header');
  });

  it('still hands out the complete frames that came before an impossible size', () => {
    const bad = Buffer.alloc(4);
    bad.writeInt32BE(1 << 30);
    const decoded = new FrameDecoder(1024).push(Buffer.concat([frame(Buffer.alloc(10, 1)), bad]));
    expect(decoded.frames).toHaveLength(1);
    expect(decoded.invalid).toBeInstanceOf(InvalidFrameSizeError);
  });
});
