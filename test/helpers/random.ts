// Seeded randomness so a failing case can be replayed (mulberry32).
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  /** Bytes of an 8-bit type: uniform, or only the extremes (every position can be 0/255 or -128/127). */
  bytes(n: number, signed: boolean, mode: 'random' | 'extreme' | 'mixed' = 'random'): number[] {
    const lo = signed ? -128 : 0, hi = signed ? 127 : 255;
    return Array.from({ length: n }, () => {
      if (mode === 'extreme' || (mode === 'mixed' && this.next() < 0.3)) return this.next() < 0.5 ? lo : hi;
      return this.int(lo, hi);
    });
  }

  floats(n: number, lo: number, hi: number): Float32Array {
    return Float32Array.from({ length: n }, () => lo + this.next() * (hi - lo));
  }
}
