/**
 * Splits a TCP byte stream into Kafka request frames.
 *
 *   Frame => size:INT32 payload:size bytes
 *
 * Chunks are kept as a list and joined once per frame, so a large produce request arriving in many
 * small reads is copied once, not once per read. A size below 8 (no room for api key, version and
 * correlation id) or above the limit is refused before any memory is allocated for it.
 */
export class InvalidFrameSizeError extends Error {
  constructor(readonly size: number, readonly limit: number) {
    super(
      size > limit
        ? `frame of ${size} bytes exceeds --max-request-bytes ${limit}`
        : `frame size ${size} is too small to hold a request header (at least ${MIN_FRAME_SIZE} bytes)`,
    );
    this.name = 'InvalidFrameSizeError';
  }
}

const MIN_FRAME_SIZE = 8;

export interface DecodedFrames {
  frames: Buffer[];
  /** Set when the stream announced an impossible frame: the frames before it are still valid. */
  invalid?: InvalidFrameSizeError;
}

export class FrameDecoder {
  private chunks: Buffer[] = [];
  private length = 0;

  constructor(private readonly maxFrameBytes: number) {}

  /** Adds bytes and returns every frame they complete (payloads without the size prefix). */
  push(chunk: Buffer): DecodedFrames {
    this.chunks.push(chunk);
    this.length += chunk.length;
    const frames: Buffer[] = [];
    while (this.length >= 4) {
      const size = this.peekSize();
      if (size < MIN_FRAME_SIZE || size > this.maxFrameBytes) return { frames, invalid: new InvalidFrameSizeError(size, this.maxFrameBytes) };
      if (this.length < 4 + size) break;
      frames.push(this.take(4 + size).subarray(4));
    }
    return { frames };
  }

  private peekSize(): number {
    const first = this.chunks[0]!;
    if (first.length >= 4) return first.readInt32BE(0);
    return this.take(4, false).readInt32BE(0);
  }

  /** Removes (or, with consume=false, just joins) the first `bytes` bytes. */
  private take(bytes: number, consume = true): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= bytes) {
      if (!consume) return first;
      if (first.length === bytes) this.chunks.shift();
      else this.chunks[0] = first.subarray(bytes);
      this.length -= bytes;
      return first.subarray(0, bytes);
    }
    const joined = Buffer.concat(this.chunks, this.length);
    if (!consume) {
      this.chunks = [joined];
      return joined;
    }
    this.chunks = joined.length > bytes ? [joined.subarray(bytes)] : [];
    this.length -= bytes;
    return joined.subarray(0, bytes);
  }
}
