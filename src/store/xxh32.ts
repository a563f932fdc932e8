// XXH32 (xxHash, 32-bit), the checksum of the LZ4 frame format: header, block and
// content checksums. Incremental, so a frame's content checksum is computed block by
// block as it is decoded, without holding the whole frame.

const P1 = 0x9e3779b1;
const P2 = 0x85ebca77;
const P3 = 0xc2b2ae3d;
const P4 = 0x27d4eb2f;
const P5 = 0x165667b1;

const rotl = (x: number, r: number) => (x << r) | (x >>> (32 - r));
const round = (acc: number, lane: number) => Math.imul(rotl((acc + Math.imul(lane, P2)) | 0, 13), P1);
const u32 = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);

export class Xxh32 {
  private v1: number;
  private v2: number;
  private v3: number;
  private v4: number;
  private total = 0;
  // Up to 15 bytes that did not fill a 16-byte stripe yet.
  private readonly tail = new Uint8Array(16);
  private tailLen = 0;

  constructor(private readonly seed = 0) {
    this.v1 = (seed + P1 + P2) | 0;
    this.v2 = (seed + P2) | 0;
    this.v3 = seed | 0;
    this.v4 = (seed - P1) | 0;
  }

  update(data: Uint8Array): this {
    this.total += data.length;
    let i = 0;
    if (this.tailLen) {
      const take = Math.min(16 - this.tailLen, data.length);
      this.tail.set(data.subarray(0, take), this.tailLen);
      this.tailLen += take;
      i = take;
      if (this.tailLen < 16) return this;
      this.stripe(this.tail, 0);
      this.tailLen = 0;
    }
    let { v1, v2, v3, v4 } = this;
    for (const end = data.length - 16; i <= end; i += 16) {
      v1 = round(v1, u32(data, i));
      v2 = round(v2, u32(data, i + 4));
      v3 = round(v3, u32(data, i + 8));
      v4 = round(v4, u32(data, i + 12));
    }
    Object.assign(this, { v1, v2, v3, v4 });
    this.tail.set(data.subarray(i), 0);
    this.tailLen = data.length - i;
    return this;
  }

  digest(): number {
    let h = this.total >= 16 ? (rotl(this.v1, 1) + rotl(this.v2, 7) + rotl(this.v3, 12) + rotl(this.v4, 18)) | 0 : (this.seed + P5) | 0;
    h = (h + this.total) | 0;
    let i = 0;
    for (; i + 4 <= this.tailLen; i += 4) h = Math.imul(rotl((h + Math.imul(u32(this.tail, i), P3)) | 0, 17), P4);
    for (; i < this.tailLen; i++) h = Math.imul(rotl((h + Math.imul(this.tail[i]!, P5)) | 0, 11), P1);
    h = Math.imul(h ^ (h >>> 15), P2);
    h = Math.imul(h ^ (h >>> 13), P3);
    return (h ^ (h >>> 16)) >>> 0;
  }

  private stripe(b: Uint8Array, i: number): void {
    this.v1 = round(this.v1, u32(b, i));
    this.v2 = round(this.v2, u32(b, i + 4));
    this.v3 = round(this.v3, u32(b, i + 8));
    this.v4 = round(this.v4, u32(b, i + 12));
  }
}

export const xxh32 = (data: Uint8Array, seed = 0) => new Xxh32(seed).update(data).digest();
