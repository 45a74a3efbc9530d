// A Conv followed by HardSwish, quantized after the HardSwish (quantizeStatic's
// default, fuseHardSwish): the written QDQ graph has no QuantizeLinear between
// the two; lowbit runs the pair as one int8 convolution (int32 accumulators,
// then HardSwish and the quantization in float), equal to onnxruntime-node's
// float Conv -> HardSwish -> QuantizeLinear within one step, and bit-identical
// on every ISA path.
import { strict as assert } from 'node:assert';
import * as ort from 'onnxruntime-node';
import { cpu } from '../lib/cpu';
import { LowbitError, ops } from '../lib';
import { importModel } from '../lib/graph/import';
import { Graph } from '../lib/graph/ir';
import { quantizeStaticDetailed, StaticOptions } from '../lib/quant/static';
import { Session } from '../lib/runtime/session';
import { Tensor } from '../lib/tensor/tensor';
import { buildModel } from './helpers/onnx-builder';
import { Rng } from './helpers/random';

const rng = new Rng(57);
const W4 = rng.floats(20, -1, 1);
/** The most one step of h3 in every channel can move an output: the largest row sum of |w4| (a little over, for its int8 rounding). */
const W4_L1 = Math.max(...[0, 1, 2, 3].map((o) => W4.slice(5 * o, 5 * o + 5).reduce((a, v) => a + Math.abs(v), 0))) * 1.01;

/**
 * stem 3x3 stride 2 (im2col) -> HardSwish -> depthwise 3x3 -> HardSwish -> 1x1
 * (direct GEMM) -> HardSwish -> 1x1. The last Conv writes the graph output, which
 * stays float (both runtimes run it in float over the dequantized h3).
 */
function model(c: number): Uint8Array {
  return buildModel({
    nodes: [
      { op: 'Conv', inputs: ['x', 'w1', 'b1'], outputs: ['c1'], attributes: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] } },
      { op: 'HardSwish', inputs: ['c1'], outputs: ['h1'] },
      { op: 'Conv', inputs: ['h1', 'w2', 'b2'], outputs: ['c2'], attributes: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], group: c } },
      { op: 'HardSwish', inputs: ['c2'], outputs: ['h2'] },
      { op: 'Conv', inputs: ['h2', 'w3'], outputs: ['c3'], attributes: { kernel_shape: [1, 1] } },
      { op: 'HardSwish', inputs: ['c3'], outputs: ['h3'] },
      { op: 'Conv', inputs: ['h3', 'w4'], outputs: ['y'], attributes: { kernel_shape: [1, 1] } },
    ],
    inputs: [{ name: 'x', dtype: 'float32', shape: ['n', 3, 15, 17] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: ['n', 4, 8, 9] }],
    opset: 14,
    initializers: {
      w1: new Tensor('float32', rng.floats(c * 27, -0.8, 0.8), [c, 3, 3, 3]),
      b1: new Tensor('float32', rng.floats(c, -0.5, 0.5), [c]),
      w2: new Tensor('float32', rng.floats(c * 9, -0.6, 0.6), [c, 1, 3, 3]),
      b2: new Tensor('float32', rng.floats(c, -0.3, 0.3), [c]),
      w3: new Tensor('float32', rng.floats(5 * c, -0.4, 0.4), [5, c, 1, 1]),
      w4: new Tensor('float32', W4, [4, 5, 1, 1]),
    },
  });
}

const calibration = Array.from({ length: 3 }, () => ({ x: new Tensor('float32', rng.floats(4 * 3 * 15 * 17, -3, 3), [4, 3, 15, 17]) }));
const x = new Tensor('float32', rng.floats(3 * 3 * 15 * 17, -3, 3), [3, 3, 15, 17]);

/** What each HardSwish reads and what reads it: 'Conv' / 'DequantizeLinear' / 'QuantizeLinear'. */
function hardSwishNeighbours(g: Graph): { input: string; output: string }[] {
  const producers = g.producers(), consumers = g.consumers();
  return g.nodes.filter((n) => n.opType === 'HardSwish').map((n) => ({
    input: producers.get(n.inputs[0])!.opType,
    output: (consumers.get(n.outputs[0]) ?? []).map((c) => c.opType).join(','),
  }));
}

async function outputs(bytes: Uint8Array): Promise<{ lowbit: Float32Array; ort: Float32Array }> {
  const s = await Session.create(bytes);
  const o = await ort.InferenceSession.create(bytes);
  const l = (await s.run({ x }))[s.outputNames[0]].data as Float32Array;
  const r = (await o.run({ x: new ort.Tensor('float32', x.data as Float32Array, x.shape) }))[o.outputNames[0]].data as Float32Array;
  return { lowbit: l, ort: r };
}

/**
 * lowbit vs onnxruntime-node on the graph output. ORT sums the dequantized
 * products in float, lowbit's int32 sums are exact: either may round a value
 * one step the other way where it lies within a float rounding of a .5 tie.
 * So each output may differ by what one step of h3 in every channel gives, and
 * the bulk must agree to float rounding.
 */
function assertCloseToOrt(lowbit: Float32Array, r: Float32Array, h3Step: number): void {
  let close = 0;
  for (let i = 0; i < lowbit.length; i++) {
    const d = Math.abs(lowbit[i] - r[i]);
    assert.ok(d <= h3Step * W4_L1 + 1e-5, `output ${i}: ${lowbit[i]} vs onnxruntime ${r[i]}`);
    if (d <= 1e-5 * Math.max(1, Math.abs(r[i]))) close++;
  }
  assert.ok(close >= 0.95 * lowbit.length, `only ${close} of ${lowbit.length} outputs equal onnxruntime-node's to float rounding`);
}

/** The name of the dequantized h3 (the 8-bit output of the last fused Conv) in a written model. */
function h3Name(g: Graph): string {
  const consumers = g.consumers();
  const hardSwishes = g.nodes.filter((n) => n.opType === 'HardSwish');
  const q = consumers.get(hardSwishes[hardSwishes.length - 1].outputs[0])![0];
  return consumers.get(q.outputs[0])![0].outputs[0];
}

describe('Conv + HardSwish quantized after the HardSwish', function () {
  this.timeout(60000);

  for (const [c, o] of [[8, {}], [24, { activationType: 'int8' }], [16, { perChannel: false }]] as [number, Partial<StaticOptions>][]) {
    const what = `${c} channels, ${JSON.stringify(o)}`;
    it(`${what}: no QuantizeLinear between Conv and HardSwish; lowbit fuses all three and equals onnxruntime-node within one step`, async () => {
      const q = await quantizeStaticDetailed(model(c), { calibration, method: 'minmax', ...o });
      for (const h of hardSwishNeighbours(importModel(q.model))) assert.deepEqual(h, { input: 'Conv', output: 'QuantizeLinear' });
      const s = await Session.create(q.model);
      assert.equal(s.passes!.qdqFused, 3, JSON.stringify(s.passes));
      const { lowbit, ort: r } = await outputs(q.model);
      assertCloseToOrt(lowbit, r, q.activations.find((a) => a.name === 'h3')!.scale);
    });
  }

  it('fuseHardSwish: false writes the QuantizeLinear between them, as onnxruntime quantizes', async () => {
    const q = await quantizeStaticDetailed(model(8), { calibration, method: 'minmax', fuseHardSwish: false });
    for (const h of hardSwishNeighbours(importModel(q.model))) assert.deepEqual(h, { input: 'DequantizeLinear', output: 'QuantizeLinear' });
    assert.ok(q.activations.some((a) => a.name === 'c1'));
    const { lowbit, ort: r } = await outputs(q.model);
    assertCloseToOrt(lowbit, r, q.activations.find((a) => a.name === 'h3')!.scale);
  });

  it('a HardSwish excluded by name, or by op type, stays behind a quantized Conv output', async () => {
    const byName = await quantizeStaticDetailed(model(8), { calibration, exclude: { names: ['HardSwish_1'] } });
    const g = importModel(byName.model);
    const excluded = g.nodes.filter((n) => n.opType === 'HardSwish' && g.producers().get(n.inputs[0])!.opType === 'DequantizeLinear');
    assert.ok(excluded.length >= 1, 'the excluded HardSwish reads a DequantizeLinear');
    const byType = await quantizeStaticDetailed(model(8), { calibration, exclude: { opTypes: ['HardSwish'] } });
    for (const h of hardSwishNeighbours(importModel(byType.model))) assert.equal(h.input, 'DequantizeLinear');
  });

  it('lowbit.QLinearConv with HardSwish equals ConvInteger then requantize with hardSwish, bit for bit', async () => {
    // The fused node as a model file may hold it: x uint8 [1, 6, 9, 11], 3x3, 10 output channels.
    const r = new Rng(5);
    const xq = new Tensor('uint8', r.bytes(6 * 99, false, 'mixed'), [1, 6, 9, 11]);
    const wq = new Tensor('int8', r.bytes(10 * 6 * 9, true, 'mixed'), [10, 6, 3, 3]);
    const [sx, sy, zx, zy] = [0.02, 0.05, 117, 30];
    const sw = Float32Array.from({ length: 10 }, () => 0.002 + 0.01 * r.next());
    const bias = Int32Array.from({ length: 10 }, () => r.int(-20000, 20000));
    const scalar = (dtype: 'float32' | 'uint8', v: number) => new Tensor(dtype, [v], []);
    const fused = (activation: string) => buildModel({
      nodes: [{ op: 'QLinearConv', domain: 'lowbit', inputs: ['x', 'sx', 'zx', 'w', 'sw', '', 'sy', 'zy', 'b'], outputs: ['y'],
        attributes: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], 'lowbit.activation': activation } }],
      inputs: [{ name: 'x', dtype: 'uint8', shape: [1, 6, 9, 11] }],
      outputs: [{ name: 'y', dtype: 'uint8', shape: [1, 10, 9, 11] }],
      initializers: { sx: scalar('float32', sx), zx: scalar('uint8', zx), w: wq, sw: new Tensor('float32', sw, [10]), sy: scalar('float32', sy), zy: scalar('uint8', zy), b: new Tensor('int32', bias, [10]) },
    });
    const s = await Session.create(fused('hardswish'));
    const got = (await s.run({ x: xq }))[s.outputNames[0]];
    const integer = buildModel({
      nodes: [{ op: 'ConvInteger', inputs: ['x', 'w', 'zx'], outputs: ['acc'], attributes: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } }],
      inputs: [{ name: 'x', dtype: 'uint8', shape: [1, 6, 9, 11] }],
      outputs: [{ name: 'acc', dtype: 'int32', shape: [1, 10, 9, 11] }],
      initializers: { w: wq, zx: scalar('uint8', zx) },
    });
    const si = await Session.create(integer);
    const acc = (await si.run({ x: xq }))[si.outputNames[0]];
    const scale = Float32Array.from(sw, (w) => Math.fround(Math.fround(sx * w) / sy));
    const want = ops.requantize(acc, { scale, bias, zeroPoint: zy, hardSwish: { yScale: sy }, axis: 1 });
    assert.deepEqual(Array.from(got.data), Array.from(want.data));
    const plain = ops.requantize(acc, { scale, bias, zeroPoint: zy, axis: 1 });
    assert.ok(Array.from(got.data).filter((v, i) => v !== plain.data[i]).length > got.size / 10, 'HardSwish changed too few outputs');
    // Planned at the first run (or at load, for fixed shapes): refused either way, with the node named.
    await assert.rejects(async () => (await Session.create(fused('relu6'))).run({ x: xq }),
      (e: unknown) => e instanceof LowbitError && e.code === 'E_UNSUPPORTED_OP' && /lowbit.activation must be 'hardswish', got relu6/.test(e.message));
  });

  it('gives identical results on every ISA path', async () => {
    // Compared on h3, the last 8-bit value (the float Conv after it sums in each path's own order).
    const q = await quantizeStaticDetailed(model(24), { calibration });
    const h3 = h3Name(importModel(q.model));
    const original = cpu.isa;
    const outs: [string, Float32Array][] = [];
    try {
      for (const isa of cpu.available()) {
        cpu.setIsa(isa);
        const s = await Session.create(q.model, { outputs: [h3] });
        outs.push([isa, (await s.run({ x }))[h3].data as Float32Array]);
      }
    } finally {
      cpu.setIsa(original);
    }
    assert.ok(outs.length >= 2);
    for (const [isa, y] of outs) assert.deepEqual(y, outs[0][1], `${isa} differs from ${outs[0][0]}`);
  });
});
