// requantizeHardSwishInto (int32 convolution accumulators -> HardSwish -> 8
// bits): equals a JavaScript recomputation of the stated float32 semantics
// (Math.fround at each step) bit for bit on every ISA path, immediately and in
// a Program, with and without bias, one or per-channel scales, narrowed
// ranges; within one step of float64; bad arguments are LowbitErrors.
import { strict as assert } from 'node:assert';
import { cpu, LowbitError, ops, Tensor } from '../lib';
import { native } from '../lib/native';
import type { Slot } from '../lib/ops';
import { Rng } from './helpers/random';

type B8 = 'int8' | 'uint8';
const f = Math.fround;

function rne(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The header's formula in float32, one Math.fround per operation, in its order. */
function refHardSwish(acc: Int32Array, channels: number, p: ops.RequantizeHardSwishParams, ot: B8): number[] {
  const scales = typeof p.scale === 'number' ? [p.scale] : Array.from(p.scale);
  const bias = p.bias === undefined ? [0] : Array.from(p.bias);
  const [tlo, thi] = ot === 'int8' ? [-128, 127] : [0, 255];
  const zy = p.yZeroPoint ?? 0, sy = f(p.yScale);
  const lo = (p.min ?? tlo) - zy, hi = (p.max ?? thi) - zy;
  const sixth = f(1 / 6);
  return Array.from(acc, (x, i) => {
    const c = i % channels;
    const a = (x + bias[bias.length === 1 ? 0 : c]) | 0;  // wrapping int32 add
    const v = f(f(a) * f(scales[scales.length === 1 ? 0 : c]));
    let t = f(v * sixth);
    t = f(t + 0.5);
    t = Math.max(Math.min(t, 1), 0);
    const q = f(f(v * t) / sy);
    return rne(Math.min(hi, Math.max(lo, q))) + zy;
  });
}

/** float64 throughout (no per-step rounding). */
function float64HardSwish(acc: Int32Array, channels: number, p: ops.RequantizeHardSwishParams, ot: B8): number[] {
  const scales = typeof p.scale === 'number' ? [p.scale] : Array.from(p.scale);
  const bias = p.bias === undefined ? [0] : Array.from(p.bias);
  const [tlo, thi] = ot === 'int8' ? [-128, 127] : [0, 255];
  const zy = p.yZeroPoint ?? 0;
  return Array.from(acc, (x, i) => {
    const c = i % channels;
    const v = ((x + bias[bias.length === 1 ? 0 : c]) | 0) * f(scales[scales.length === 1 ? 0 : c]);
    const h = v * Math.min(1, Math.max(0, v / 6 + 0.5));
    return Math.min(p.max ?? thi, Math.max(p.min ?? tlo, rne(h / f(p.yScale)) + zy));
  });
}

function eachIsa(body: (isa: string) => void): void {
  const original = cpu.isa;
  try {
    for (const isa of cpu.available()) {
      cpu.setIsa(isa);
      body(isa);
    }
  } finally {
    cpu.setIsa(original);
  }
}

function bad(fn: () => unknown, code: string, re?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    if (!(e instanceof LowbitError)) return false;
    if (e.code !== code) assert.fail(`expected ${code}, got ${e.code}: ${e.message}`);
    if (re && !re.test(e.message)) assert.fail(`message ${JSON.stringify(e.message)} does not match ${re}`);
    return true;
  });
}

interface Case {
  acc: Tensor<'int32'>;
  channels: number;
  p: ops.RequantizeHardSwishParams;
  ot: B8;
  want: number[];
}

/** Accumulators within +-2^magnitude, with a few int32 extremes. */
function accumulators(rng: Rng, n: number, magnitude: number): Int32Array {
  const m = 2 ** magnitude;
  return Int32Array.from({ length: n }, () => {
    const r = rng.next();
    if (r < 0.01) return -2147483648;
    if (r < 0.02) return 2147483647;
    return Math.max(-2147483648, Math.min(2147483647, Math.round((rng.next() * 2 - 1) * m)));
  });
}

function randomCase(rng: Rng, shape: number[], channels: number, ot: B8): Case {
  const size = shape.reduce((a, b) => a * b, 1);
  const magnitude = rng.pick([4, 10, 16, 22, 28, 31]);
  const s0 = 10 ** (rng.next() * 7 - 6);  // 1e-6 .. 10
  const perChannel = rng.next() < 0.5;
  const scale: ops.RequantizeHardSwishParams['scale'] = perChannel
    ? rng.pick(['array', 'typed']) === 'array'
      ? Array.from({ length: channels }, () => s0 * (0.5 + rng.next()))
      : Float32Array.from({ length: channels }, () => s0 * (0.5 + rng.next()))
    : rng.pick([s0, [s0]]);
  const biasKind = rng.pick(['none', 'one', 'channels', 'wide']);
  const bias = biasKind === 'none' ? undefined
    : biasKind === 'one' ? [rng.int(-5000, 5000)]
    : Int32Array.from({ length: channels }, () => (biasKind === 'wide' ? rng.int(-2147483648, 2147483647) : rng.int(-5000, 5000)));
  // Outputs spread over the type: a step of ~1/60 of the largest real value (or an unrelated yScale).
  const yScale = rng.next() < 0.8 ? (s0 * 2 ** magnitude) / rng.int(20, 300) : 10 ** (rng.next() * 6 - 5);
  const [tlo, thi] = ot === 'int8' ? [-128, 127] : [0, 255];
  const yZeroPoint = rng.pick([tlo, thi, rng.int(tlo, thi), rng.int(tlo, thi)]);
  const p: ops.RequantizeHardSwishParams = { scale, yScale, yZeroPoint };
  if (bias !== undefined) p.bias = bias;
  if (rng.next() < 0.3) {
    const a = rng.int(tlo, thi), b = rng.int(tlo, thi);
    p.min = Math.min(a, b);
    p.max = Math.max(a, b);
  }
  const acc = new Tensor('int32', accumulators(rng, size, magnitude), shape);
  return { acc, channels, p, ot, want: refHardSwish(acc.data, channels, p, ot) };
}

describe('requantizeHardSwishInto (int32 accumulators -> HardSwish -> 8 bits)', function () {
  this.timeout(120000);
  const rng = new Rng(2026);

  it('equals the float32 formula bit for bit on every ISA path (channels 1..200, NHWC and NCHW-labelled shapes)', () => {
    const cases: Case[] = [];
    for (const channels of [1, 3, 7, 8, 15, 16, 17, 31, 33, 64, 65, 200]) {
      for (const rows of [1, 2, 5, 37]) {
        for (const ot of ['uint8', 'int8'] as B8[]) {
          // Stored NHWC; the runtime may label it NCHW [n, m, oh, ow]: only counts matter.
          const shape = rows === 37 ? [1, channels, 1, rows] : [rows, channels];
          cases.push(randomCase(rng, shape, channels, ot));
        }
      }
    }
    // Large enough to be split over the thread pool.
    cases.push(randomCase(rng, [2, 40, 40, 64], 64, 'uint8'), randomCase(rng, [1, 56, 56, 72], 72, 'int8'));
    eachIsa((isa) => {
      for (const c of cases) {
        const out = Tensor.zeros(c.ot, c.acc.shape);
        ops.requantizeHardSwishInto(c.acc, out, c.channels, c.p);
        const got = Array.from(out.data as ArrayLike<number>);
        const at = got.findIndex((v, i) => v !== c.want[i]);
        assert.equal(at, -1, `${isa}: [${c.acc.shape}] ${c.ot}, channels ${c.channels}: element ${at} is ${got[at]}, expected ${c.want[at]}`);
      }
    });
    // The formula itself is within one step of float64 (a sanity check of the reference).
    let differ = 0;
    for (const c of cases) {
      const wide = float64HardSwish(c.acc.data, c.channels, c.p, c.ot);
      c.want.forEach((v, i) => {
        assert.ok(Math.abs(v - wide[i]) <= 1, `float64 differs by ${v - wide[i]}`);
        differ += v !== wide[i] ? 1 : 0;
      });
    }
    assert.ok(differ < 100, `${differ} results differ from float64`);
  });

  it('HardSwish shape: zero below -3, the identity above 3, v * (v + 3) / 6 between; exact ties round to even', () => {
    // scale 1, yScale 0.5: y = 2 * h + zy; scale 1, yScale 2 on odd a >= 3: ties.
    const acc = new Tensor('int32', Int32Array.of(-100, -3, -2, -1, 0, 1, 2, 3, 60, 1000), [10]);
    const out = Tensor.zeros('uint8', [10]);
    eachIsa(() => {
      ops.requantizeHardSwishInto(acc, out, 1, { scale: 1, yScale: 0.5, yZeroPoint: 10 });
      // h: 0, 0, -2/3, -1/3, 0, 2/3, 5/3, 3, 60, 1000 -> 2h rounded + 10, clamped at 255.
      assert.deepEqual(Array.from(out.data), [10, 10, 9, 9, 10, 11, 13, 16, 130, 255]);
      const ties = new Tensor('int32', Int32Array.of(3, 5, 7, 9, 11), [5]), y = Tensor.zeros('int8', [5]);
      ops.requantizeHardSwishInto(ties, y, 5, { scale: [1, 1, 1, 1, 1], yScale: 2 });
      assert.deepEqual(Array.from(y.data), [2, 2, 4, 4, 6]);
    });
  });

  it('records into a Program: the same bytes as the immediate call', () => {
    const c = randomCase(rng, [1, 6, 7, 24], 24, 'int8');
    const d = randomCase(rng, [1, 6, 7, 24], 24, 'uint8');
    const want = [Tensor.zeros('int8', c.acc.shape), Tensor.zeros('uint8', c.acc.shape)];
    ops.requantizeHardSwishInto(c.acc, want[0], 24, c.p);
    ops.requantizeHardSwishInto(c.acc, want[1], 24, d.p);
    const accSlot: Slot = { dtype: 'int32', shape: c.acc.shape, ref: 0 };
    const o1: Slot = { dtype: 'int8', shape: c.acc.shape, ref: 4096 }, o2: Slot = { dtype: 'uint8', shape: [1, 24, 6, 7], ref: 8192 };
    const program = new ops.Program(16384);
    ops.requantizeHardSwishInto(accSlot, o1, 24, c.p, program);
    ops.requantizeHardSwishInto(accSlot, o2, 24, d.p, program);
    assert.deepEqual(program.labels(), ['qrequantize_hardswish_s8', 'qrequantize_hardswish_u8']);
    const outs = [new Int8Array(c.acc.size), new Uint8Array(c.acc.size)];
    program.runSync([c.acc.data], [0], outs, [4096, 8192]);
    assert.deepEqual(Array.from(outs[0]), Array.from(want[0].data as Int8Array));
    assert.deepEqual(Array.from(outs[1]), Array.from(want[1].data as Uint8Array));
    // Params changed after recording do not reach the recorded step (copied).
    const scale = Float32Array.from({ length: 24 }, () => 0.001), bias = new Int32Array(24);
    const p = { scale, bias, yScale: 0.05 };
    const ref = Tensor.zeros('int8', c.acc.shape);
    ops.requantizeHardSwishInto(c.acc, ref, 24, p);
    const program2 = new ops.Program(16384);
    ops.requantizeHardSwishInto(accSlot, o1, 24, p, program2);
    scale.fill(5);
    bias.fill(7);
    program2.runSync([c.acc.data], [0], [outs[0]], [4096]);
    assert.deepEqual(Array.from(outs[0]), Array.from(ref.data as Int8Array));
  });

  it('bad arguments are LowbitErrors naming what is wrong, from JavaScript and from the addon', () => {
    const acc = new Tensor('int32', new Int32Array(12), [2, 6]), out = Tensor.zeros('uint8', [2, 6]);
    const p = { scale: 0.01, yScale: 0.1 };
    const run = (q: Partial<ops.RequantizeHardSwishParams>, o: Tensor = out, channels = 6, a: Tensor = acc) =>
      ops.requantizeHardSwishInto(a, o, channels, { ...p, ...q });
    bad(() => run({}, out, 6, Tensor.zeros('float32', [2, 6])), 'E_DTYPE', /acc must be int32/);
    bad(() => run({}, Tensor.zeros('int32', [2, 6])), 'E_DTYPE', /out must be int8 or uint8/);
    bad(() => run({}, Tensor.zeros('uint8', [11])), 'E_SHAPE', /out has 11 elements, acc has 12/);
    bad(() => run({}, out, 5), 'E_SHAPE', /not a multiple of channels/);
    bad(() => run({}, out, 0), 'E_RANGE', /channels/);
    bad(() => run({}, out, 1.5), 'E_RANGE', /channels/);
    bad(() => run({ scale: [0.1, 0.2] }), 'E_SHAPE', /scale has 2 values, expected 1 or 6/);
    bad(() => run({ scale: 0 }), 'E_RANGE', /scale\[0\]/);
    bad(() => run({ scale: NaN }), 'E_RANGE', /scale\[0\]/);
    bad(() => run({ scale: [1, 1, 1, 1, 1, Infinity] }), 'E_RANGE', /scale\[5\]/);
    bad(() => run({ scale: 1e30 }), 'E_RANGE', /scale\[0\].*2\^31/);
    bad(() => run({ scale: 'x' as never }), 'E_ARG', /scale must be/);
    bad(() => run({ bias: [1, 2, 3] }), 'E_SHAPE', /bias has 3 values/);
    bad(() => run({ bias: [2147483648] }), 'E_RANGE', /bias\[0\]/);
    bad(() => run({ bias: [0.5] }), 'E_RANGE', /bias\[0\]/);
    bad(() => run({ yScale: 0 }), 'E_RANGE', /yScale/);
    bad(() => run({ yScale: Infinity }), 'E_RANGE', /yScale/);
    bad(() => run({ yZeroPoint: -1 }), 'E_RANGE', /yZeroPoint/);
    bad(() => run({ yZeroPoint: 128 }, Tensor.zeros('int8', [2, 6])), 'E_RANGE', /yZeroPoint/);
    bad(() => run({ min: 10, max: 5 }), 'E_RANGE', /min 10 is above max 5/);
    bad(() => run({ min: -1 }), 'E_RANGE', /min/);
    bad(() => run({ max: 200 }, Tensor.zeros('int8', [2, 6])), 'E_RANGE', /max/);
    bad(() => ops.requantizeHardSwishInto(acc, out, 6, null as never), 'E_ARG', /params/);
    const shared = new Int32Array(12);
    bad(() => run({}, new Tensor('uint8', new Uint8Array(shared.buffer, 0, 12), [2, 6]), 6, new Tensor('int32', shared, [2, 6])), 'E_ARG', /shares memory/);
    const program = new ops.Program(1024);
    bad(() => ops.requantizeHardSwishInto({ dtype: 'int32', shape: [2, 6], ref: 0 }, { dtype: 'uint8', shape: [2, 6], ref: 40 }, 6, p, program), 'E_ARG', /shares memory/);
    // Past the JavaScript checks: the addon's own.
    const a = new Int32Array(12), o = new Uint8Array(12), s = Float32Array.of(0.01);
    bad(() => native.qrequantizeHardSwish(new Float32Array(12) as never, o, 2, 6, s, null, 0.1, 0, [0, 255]), 'E_DTYPE', /acc must be a Int32Array/);
    bad(() => native.qrequantizeHardSwish(a, new Float32Array(12) as never, 2, 6, s, null, 0.1, 0, [0, 255]), 'E_DTYPE', /out must be int8 or uint8/);
    bad(() => native.qrequantizeHardSwish(a, new Uint8Array(11), 2, 6, s, null, 0.1, 0, [0, 255]), 'E_SHAPE', /out has 11 elements, expected 12/);
    bad(() => native.qrequantizeHardSwish(a, o, 3, 6, s, null, 0.1, 0, [0, 255]), 'E_SHAPE', /acc has 12 elements, expected 18/);
    bad(() => native.qrequantizeHardSwish(a, o, 12, 0, s, null, 0.1, 0, [0, 255]), 'E_SHAPE', /channels/);
    bad(() => native.qrequantizeHardSwish(a, o, 2, 6, Float32Array.of(NaN), null, 0.1, 0, [0, 255]), 'E_RANGE', /scale\[0\]/);
    bad(() => native.qrequantizeHardSwish(a, o, 2, 6, Float32Array.of(1, 1), null, 0.1, 0, [0, 255]), 'E_SHAPE', /scale has 2 values/);
    bad(() => native.qrequantizeHardSwish(a, o, 2, 6, s, Int32Array.of(1, 2), 0.1, 0, [0, 255]), 'E_SHAPE', /bias has 2 values/);
    bad(() => native.qrequantizeHardSwish(a, o, 2, 6, s, Float32Array.of(1) as never, 0.1, 0, [0, 255]), 'E_DTYPE', /bias/);
    bad(() => native.qrequantizeHardSwish(a, o, 2, 6, s, null, NaN, 0, [0, 255]), 'E_RANGE', /yScale/);
    bad(() => native.qrequantizeHardSwish(a, o, 2, 6, s, null, -1, 0, [0, 255]), 'E_RANGE', /yScale/);
    bad(() => native.qrequantizeHardSwish(a, o, 2, 6, s, null, 1e39, 0, [0, 255]), 'E_RANGE', /yScale/);
    bad(() => native.qrequantizeHardSwish(a, new Int8Array(12), 2, 6, s, null, 0.1, 200, [-128, 127]), 'E_RANGE', /yZeroPoint/);
    bad(() => native.qrequantizeHardSwish(a, o, 2, 6, s, null, 0.1, 0, [0, 300]), 'E_RANGE', /outRange/);
    bad(() => native.qrequantizeHardSwish(a, o, 2, 6, s, null, 0.1, 0, [9, 3]), 'E_RANGE', /outRange/);
  });
});
