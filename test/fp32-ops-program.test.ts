// The fp32 ops recorded into a Program (slots over one arena, constants, a
// chain NCHW -> NHWC -> ops -> NCHW) give the same bytes as calling them at
// once, sync and async; every bad argument is a LowbitError with the right
// code, from JavaScript or (called directly) from the addon.
import { strict as assert } from 'node:assert';
import { LowbitError, ops, Tensor } from '../lib';
import { native } from '../lib/native';
import type { Slot } from '../lib/ops';
import { Rng } from './helpers/random';

function bad(f: () => unknown, code: string, re?: RegExp): void {
  assert.throws(f, (e: unknown) => {
    if (!(e instanceof LowbitError)) return false;
    if (e.code !== code) assert.fail(`expected ${code}, got ${e.code}: ${e.message}`);
    if (re && !re.test(e.message)) assert.fail(`message ${JSON.stringify(e.message)} does not match ${re}`);
    return true;
  });
}

/** Bump allocator over one arena, 64-byte aligned. */
class Arena {
  bytes = 0;
  slot(dtype: Slot['dtype'], shape: number[]): Slot {
    const ref = this.bytes;
    const n = shape.reduce((a, b) => a * b, 1) * (dtype === 'float32' || dtype === 'int32' ? 4 : 1);
    this.bytes += Math.ceil(n / 64) * 64 + 64;
    return { dtype, shape, ref };
  }
}

describe('fp32 ops in a Program', function () {
  const rng = new Rng(5);
  const x = new Tensor('float32', rng.floats(2 * 6 * 9 * 10, -3, 3), [2, 6, 9, 10]);
  const bias = new Tensor('float32', rng.floats(6, -1, 1), [6]);
  const idx = new Tensor('int32', [3, 0, -1], [3]);

  /** The chain at once, as friendly calls. */
  function immediate(): Tensor[] {
    const xn = ops.transpose(x, [0, 2, 3, 1]);                       // [2, 9, 10, 6]
    const added = ops.add(xn, bias, { clip: { min: 0 } });             // per channel, fused relu
    const act = ops.hardSwish(added);
    const pooled = ops.maxPool(act, { kernelShape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], layout: 'nhwc' }); // [2, 5, 5, 6]
    const up = ops.resize(pooled, { scales: [1, 1, 2, 2], mode: 'linear', layout: 'nhwc' });   // [2, 10, 10, 6]
    const cat = ops.concat([up, up], 3);                                // [2, 10, 10, 12]
    const sl = ops.slice(cat, { starts: [0, 9], ends: [10, 0], axes: [1, 2], steps: [3, -2] }); // [2, 4, 5, 12]
    const sm = ops.softmax(sl, { axis: -1 });
    const back = ops.transpose(sm, [0, 3, 1, 2]);                       // [2, 12, 4, 5]
    const g = ops.gather(back, idx, 1);                                 // [2, 3, 4, 5]
    const mean = ops.reduceMean(g, { axes: [2, 3], keepdims: true });   // [2, 3, 1, 1]
    const gap = ops.globalAveragePool(g);
    const pd = ops.pad(g, { pads: [0, 0, 1, 1, 0, 0, 1, 2], mode: 'reflect' });
    const c8 = ops.cast(ops.mul(g, new Tensor('float32', [40], [])), 'int8');
    return [mean, gap, pd, c8];
  }

  it('records a chain of ops over slots and constants; runSync and run equal the immediate calls', async function () {
    const want = immediate();
    const a = new Arena();
    const sx = a.slot('float32', [2, 6, 9, 10]);
    const sxn = a.slot('float32', [2, 9, 10, 6]), sadd = a.slot('float32', [2, 9, 10, 6]), sact = a.slot('float32', [2, 9, 10, 6]);
    const spool = a.slot('float32', [2, 5, 5, 6]), sup = a.slot('float32', [2, 10, 10, 6]), scat = a.slot('float32', [2, 10, 10, 12]);
    const ssl = a.slot('float32', [2, 4, 5, 12]), ssm = a.slot('float32', [2, 4, 5, 12]), sback = a.slot('float32', [2, 12, 4, 5]);
    const sidx = a.slot('int32', [3]), sg = a.slot('float32', [2, 3, 4, 5]);
    const smean = a.slot('float32', [2, 3, 1, 1]), sgap = a.slot('float32', [2, 3, 1, 1]), spd = a.slot('float32', [2, 3, 6, 8]);
    const smul = a.slot('float32', [2, 3, 4, 5]), sc8 = a.slot('int8', [2, 3, 4, 5]);
    const program = new ops.Program(a.bytes);
    const sbias = program.constant(bias), sforty = program.constant(new Tensor('float32', [40], []));
    ops.transposeInto(sx, sxn, [2, 6, 9, 10], [0, 2, 3, 1], program);
    ops.binaryOpInto('add', sxn, sbias, sadd, { clip: { min: 0 } }, program);
    ops.unaryOpInto('hardSwish', sadd, sact, {}, program);
    ops.maxPoolInto(sact, spool, { kernelShape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], layout: 'nhwc' }, program);
    ops.resizeInto(spool, sup, { scales: [1, 1, 2, 2], mode: 'linear', layout: 'nhwc' }, program);
    ops.concatInto([sup, sup], scat, 3, program);
    ops.sliceInto(scat, ssl, { starts: [0, 9], ends: [10, 0], axes: [1, 2], steps: [3, -2] }, program);
    ops.softmaxInto(ssl, ssm, { axis: -1 }, program);
    ops.transposeInto(ssm, sback, undefined, [0, 3, 1, 2], program);
    ops.gatherInto(sback, sidx, sg, 1, program);
    ops.reduceInto('mean', sg, smean, { axes: [2, 3] }, program);
    ops.globalAveragePoolInto(sg, sgap, {}, program);
    ops.padInto(sg, spd, { pads: [0, 0, 1, 1, 0, 0, 1, 2], mode: 'reflect' }, program);
    ops.binaryOpInto('mul', sg, sforty, smul, {}, program);
    ops.castInto(smul, sc8, program);
    assert.deepEqual(program.labels(), [
      'transpose', 'add', 'hardSwish', 'max_pool', 'resize', 'copy', 'copy', 'gather_axes', 'softmax', 'transpose', 'gather',
      'reduce_mean', 'global_average_pool', 'gather_axes', 'mul', 'cast',
    ]);
    const outs = (): [Float32Array, Float32Array, Float32Array, Int8Array] => [new Float32Array(6), new Float32Array(6), new Float32Array(2 * 3 * 6 * 8), new Int8Array(120)];
    const offsets = [smean.ref, sgap.ref, spd.ref, sc8.ref];
    const check = (got: ArrayBufferView[]) => got.forEach((g, i) => assert.deepEqual(Array.from(g as Float32Array), Array.from(want[i].data as Float32Array), `output ${i}`));
    const o1 = outs();
    program.runSync([x.data, idx.data], [sx.ref, sidx.ref], o1, offsets);
    check(o1);
    const runs = [outs(), outs(), outs()];
    await Promise.all(runs.map((o) => program.run([x.data, idx.data], [sx.ref, sidx.ref], o, offsets)));
    runs.forEach(check);
  });

  it('lut8 and int32 clip record their tables and constants', function () {
    const table = ops.quantizedUnaryTable('sigmoid', { dtype: 'uint8', scale: 0.05, zeroPoint: 128 }, { dtype: 'uint8', scale: 1 / 256 });
    const q = new Tensor('uint8', rng.bytes(100, false), [100]);
    const i32 = new Tensor('int32', Array.from({ length: 50 }, () => rng.int(-1000, 1000)), [50]);
    const a = new Arena();
    const sq = a.slot('uint8', [100]), sy = a.slot('uint8', [100]), si = a.slot('int32', [50]), sc = a.slot('int32', [50]);
    const program = new ops.Program(a.bytes);
    ops.lut8Into(sq, table, sy, program);
    ops.unaryOpInto('clip', si, sc, { min: -10, max: 300 }, program);
    const y = new Uint8Array(100), c = new Int32Array(50);
    program.runSync([q.data, i32.data], [sq.ref, si.ref], [y, c], [sy.ref, sc.ref]);
    assert.deepEqual(Array.from(y), Array.from(ops.lut8(q, table).data as Uint8Array));
    assert.deepEqual(Array.from(c), Array.from(i32.data as Int32Array, (v) => Math.min(300, Math.max(-10, v))));
  });

  it('a gather step with an index outside the axis writes zeros instead of failing the run', function () {
    const data = new Tensor('float32', [1, 2, 3, 4, 5, 6], [3, 2]);
    const program = new ops.Program(256);
    const sd = program.constant(data);
    ops.gatherInto(sd, { dtype: 'int32', shape: [2], ref: 0 }, { dtype: 'float32', shape: [2, 2], ref: 64 }, 0, program);
    const out = new Float32Array(4);
    program.runSync([Int32Array.of(2, 7)], [0], [out], [64]);
    assert.deepEqual(Array.from(out), [5, 6, 0, 0]);
  });
});

describe('fp32 ops: errors', function () {
  const f = (shape: number[]) => Tensor.zeros('float32', shape);

  it('names the parameter and uses stable codes in JavaScript checks', function () {
    bad(() => ops.add(f([2, 3]), f([4])), 'E_SHAPE', /do not broadcast/);
    bad(() => ops.add(f([2]), Tensor.zeros('int32', [2])), 'E_DTYPE', /a is float32 but b is int32/);
    bad(() => ops.prelu(Tensor.zeros('int8', [2]), Tensor.zeros('int8', [2])), 'E_DTYPE', /a must be float32/);
    bad(() => ops.add(Tensor.zeros('bit', [2, 8]), Tensor.zeros('bit', [2, 8])), 'E_DTYPE', /'bit'/);
    bad(() => ops.binaryOp('mod' as ops.BinaryOpName, f([1]), f([1])), 'E_ARG', /op must be one of/);
    bad(() => ops.binaryOpInto('add', f([2]), f([2]), f([3])), 'E_SHAPE', /out must have shape \[2\]/);
    bad(() => ops.binaryOpInto('add', f([2]), f([2]), Tensor.zeros('int32', [2])), 'E_DTYPE', /out must be float32/);
    bad(() => ops.add(Tensor.zeros('int32', [2]), Tensor.zeros('int32', [2]), { clip: { min: 0 } }), 'E_DTYPE', /fused clip/);
    bad(() => ops.prelu(f([3]), f([2, 3])), 'E_SHAPE', /slope/);
    bad(() => ops.sigmoid(Tensor.zeros('int8', [2])), 'E_DTYPE', /x must be float32/);
    bad(() => ops.unaryOp('swish' as ops.UnaryOpName, f([1])), 'E_ARG', /op must be one of/);
    bad(() => ops.leakyRelu(f([1]), NaN), 'E_ARG', /alpha/);
    bad(() => ops.lut8(Tensor.zeros('uint8', [2]), new Uint8Array(255)), 'E_ARG', /256 entries/);
    bad(() => ops.lut8(f([2]), new Uint8Array(256)), 'E_DTYPE', /int8 or uint8/);
    bad(() => ops.softmax(f([2, 3]), { axis: 2 }), 'E_RANGE', /axis/);
    bad(() => ops.reduceMean(f([2, 3]), { axes: [0, -2] }), 'E_ARG', /twice/);
    bad(() => ops.batchNormalization(f([2, 3, 4]), [1, 1], [0, 0, 0], [0, 0, 0], [1, 1, 1]), 'E_SHAPE', /scale has 2 values/);
    bad(() => ops.cast(f([2]), 'bit'), 'E_DTYPE', /target type/);
    bad(() => ops.maxPool(f([1, 2, 5, 5]), { kernelShape: [3] }), 'E_SHAPE', /kernelShape has 1 values/);
    bad(() => ops.maxPool(f([1, 2, 2, 2]), { kernelShape: [5, 5] }), 'E_SHAPE', /does not fit/);
    bad(() => ops.averagePool(f([1, 2, 5, 5]), { kernelShape: [2, 2], strides: [0, 1] }), 'E_RANGE', /strides\[0\]/);
    bad(() => ops.averagePool(Tensor.zeros('uint8', [1, 2, 5, 5]), { kernelShape: [2, 2] }), 'E_DTYPE', /float32/);
    bad(() => ops.maxPool(f([1, 1, 4, 4, 4]), { kernelShape: [2, 2, 2] }), 'E_UNSUPPORTED', /1-D or 2-D/);
    bad(() => ops.transpose(f([2, 3]), [0, 0]), 'E_RANGE', /permutation/);
    bad(() => ops.concat([f([2, 3]), f([3, 3])], 1), 'E_SHAPE', /does not match/);
    bad(() => ops.concat([f([2, 3]), Tensor.zeros('int32', [2, 3])], 1), 'E_DTYPE', /inputs\[1\]/);
    bad(() => ops.split(f([2, 6]), 1, [2, 3]), 'E_SHAPE', /sum to 6/);
    bad(() => ops.slice(f([4]), { starts: [0], ends: [2], steps: [0] }), 'E_RANGE', /steps\[0\]/);
    bad(() => ops.pad(f([2, 2]), { pads: [1, 1] }), 'E_SHAPE', /pads has 2 values, expected 4/);
    bad(() => ops.pad(Tensor.zeros('uint8', [2]), { pads: [1, 1], value: 300 }), 'E_RANGE', /uint8/);
    bad(() => ops.pad(f([2]), { pads: [-3, 0] }), 'E_SHAPE', /negative/);
    bad(() => ops.gather(f([3, 2]), [3], 0), 'E_RANGE', /outside \[-3, 2\]/);
    bad(() => ops.resize(f([1, 1, 2, 2]), {}), 'E_ARG', /scales and sizes/);
    bad(() => ops.resize(Tensor.zeros('uint8', [1, 1, 2, 2]), { scales: [1, 1, 2, 2], mode: 'linear' }), 'E_DTYPE', /float32/);
    bad(() => ops.resize(f([1, 2, 2, 2]), { scales: [1, 2, 2, 2], mode: 'linear' }), 'E_UNSUPPORTED', /axis 1/);
    bad(() => ops.resize(f([1, 1, 2, 2]), { scales: [1, 1, -2, 2] }), 'E_RANGE', /scales\[2\]/);
    bad(() => ops.transposeInto(f([2, 3]), f([3, 2]), [2, 4], [1, 0]), 'E_SHAPE', /8 elements, x has 6/);
    bad(() => ops.add({ dtype: 'float32', shape: [2], ref: 0 } as unknown as Tensor, f([2])), 'E_ARG', /Slot was given without a Program/);
  });

  it('the addon checks again: plans past a buffer, bad maps, slots outside the arena', function () {
    const n = native as unknown as Record<string, (...a: unknown[]) => void>;
    bad(() => n.binary('add', new Float32Array(4), new Float32Array(4), new Float32Array(8), [8], [1], [1], 4, 4, -Infinity, Infinity), 'E_SHAPE', /reads element 7 of 4/);
    bad(() => n.binary('add', new Float32Array(4), new Int32Array(4), new Float32Array(4), [4], [1], [1], 4, 4, -Infinity, Infinity), 'E_DTYPE');
    bad(() => n.binary('add', new Float32Array(4), new Float32Array(4), new Float32Array(4), [4, 1, 1, 1, 1, 1, 1], [1, 0, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0], 4, 4, 0, 1), 'E_SHAPE', /at most 6/);
    bad(() => n.unary('relu', new Float32Array(4), new Float32Array(3), 4, 0, 0), 'E_SHAPE', /out has 3 elements/);
    bad(() => n.gatherAxes(new Float32Array(4), new Float32Array(2), [4], [2], Int32Array.of(0, 4), 0), 'E_RANGE', /outside \[-1, 4\)/);
    bad(() => n.copyRows(new Float32Array(4), 4, 2, 2, new Float32Array(4), 4, 0, 2, 2, 2), 'E_SHAPE', /src/);
    bad(() => n.transpose(new Float32Array(6), new Float32Array(6), [2, 3], [1, 1]), 'E_RANGE', /permutation/);
    bad(() => n.pool2d('max', 'nchw', new Float32Array(4), new Float32Array(1), [1, 1, 2, 2, 1, 1], [0, 2, 1, 1, 1, 1, 0, 0, 0, 0], false), 'E_RANGE', /kernel height/);
    bad(() => n.pool2d('max', 'nchw', new Float32Array(4), new Float32Array(1), [1, 1, 2, 2, 1, 1], [300, 300, 1, 1, 1, 1, 0, 0, 0, 0], false), 'E_RANGE', /taps/);
    bad(() => n.resize2d('nchw', new Float32Array(4), new Float32Array(4), [1, 1, 2, 2], { taps: 1, index: Int32Array.of(0, 2), weight: new Float32Array(2) }, { taps: 1, index: Int32Array.of(0, 1), weight: new Float32Array(2) }, 0), 'E_RANGE', /ry.index\[1\] = 2/);
    bad(() => n.cast(new Float32Array(2), new Float64Array(2), 2), 'E_DTYPE');
    const program = new ops.Program(64);
    bad(() => ops.unaryOpInto('relu', { dtype: 'float32', shape: [32], ref: 0 }, { dtype: 'float32', shape: [32], ref: 0 }, {}, program), 'E_SHAPE', /arena/);
    bad(() => ops.binaryOpInto('add', { dtype: 'float32', shape: [4], ref: 0 }, new Tensor('float32', [1], [1]), { dtype: 'float32', shape: [4], ref: 16 }, {}, program), 'E_ARG', /Tensor was given while recording/);
    assert.equal(program.stepCount, 0);
  });
});
