import { describe, expect, it } from 'vitest';
import { FrameDecoder, FrameTooLargeError } from './frame-decoder.js';

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
    for (let i = 0; i < stream.length; i += 3) frames.push(...decoder.push(stream.subarray(i, i + 3)));
    expect(frames.map((f) => [...f])).toEqual([[...a], [...b]]);
    expect(new FrameDecoder(1024).push(stream)).toHaveLength(2);
  });

  it('refuses sizes beyond the limit or too small before buffering them', () => {
    const header = Buffer.alloc(4);
    header.writeInt32BE(2048);
    expect(() => new FrameDecoder(1024).push(header)).toThrow(FrameTooLargeError);
    header.writeInt32BE(-1);
    expect(() => new FrameDecoder(1024).push(header)).toThrow(FrameTooLargeError);
  });
});
