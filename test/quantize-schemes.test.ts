// quantizeStatic's schemes on a small conv net: uint8 or int8 activations,
// symmetric or not, per-channel or per-tensor weights, 7-bit weights, nodes left
// in fp32 by name or op type, progress. Each written model is checked where it
// matters: in the QDQ nodes' parameters, and run by lowbit and onnxruntime-node
// (equal within one quantization step of the output).
import { strict as assert } from 'node:assert';
import * as ort from 'onnxruntime-node';
import { LowbitError } from '../lib/errors';
import { importModel } from '../lib/graph/import';
import { Graph } from '../lib/graph/ir';
import { quantizeStaticDetailed, StaticOptions } from '../lib/quant/static';
import { Session } from '../lib/runtime/session';
import { Tensor } from '../lib/tensor/tensor';
import { buildModel } from './helpers/onnx-builder';
import { Rng } from './helpers/random';

const rng = new Rng(21);
const fp32 = buildModel({
  nodes: [
    { op: 'Conv', inputs: ['x', 'w1', 'b1'], outputs: ['c1'], attributes: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
    { op: 'Relu', inputs: ['c1'], outputs: ['r1'] },
    { op: 'Conv', inputs: ['r1', 'w2', 'b2'], outputs: ['c2'], attributes: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, },
    { op: 'Flatten', inputs: ['c2'], outputs: ['f'] },
    { op: 'Gemm', inputs: ['f', 'w3', 'b3'], outputs: ['y'], attributes: { transB: 1 } },
  ],
  inputs: [{ name: 'x', dtype: 'float32', shape: ['n', 3, 8, 8] }],
  outputs: [{ name: 'y', dtype: 'float32', shape: ['n', 10] }],
  initializers: {
    w1: new Tensor('float32', rng.floats(16 * 3 * 9, -0.4, 0.4), [16, 3, 3, 3]),
    b1: new Tensor('float32', rng.floats(16, -0.1, 0.1), [16]),
    w2: new Tensor('float32', rng.floats(8 * 16 * 9, -0.2, 0.2), [8, 16, 3, 3]),
    b2: new Tensor('float32', rng.floats(8, -0.1, 0.1), [8]),
    w3: new Tensor('float32', rng.floats(10 * 8 * 64, -0.05, 0.05), [10, 512]),
    b3: new Tensor('float32', rng.floats(10, -0.1, 0.1), [10]),
  },
});
const calibration = Array.from({ length: 4 }, () => ({ x: new Tensor('float32', rng.floats(4 * 3 * 64, -1, 1), [4, 3, 8, 8]) }));
const x = new Tensor('float32', rng.floats(2 * 3 * 64, -1, 1), [2, 3, 8, 8]);

/** The DequantizeLinear nodes of weights (constant int8 input), by the node reading them. */
function weightDqs(g: Graph): Map<string, { data: Int8Array; scales: Float32Array }> {
  const out = new Map<string, { data: Int8Array; scales: Float32Array }>();
  const consumers = g.consumers();
  for (const n of g.nodes) {
    if (n.opType !== 'DequantizeLinear' || !g.constants.has(n.inputs[0]) || g.constants.get(n.inputs[0])!.dtype !== 'int8') continue;
    for (const reader of consumers.get(n.outputs[0]) ?? []) {
      out.set(reader.name, { data: g.constants.get(n.inputs[0])!.data as Int8Array, scales: g.constants.get(n.inputs[1])!.data as Float32Array });
    }
  }
  return out;
}

/** Zero points of the activation QuantizeLinear nodes, with their dtype. */
function activationZeroPoints(g: Graph): { dtype: string; value: number }[] {
  return g.nodes.filter((n) => n.opType === 'QuantizeLinear').map((n) => {
    const z = g.constants.get(n.inputs[2])!;
    return { dtype: z.dtype, value: z.data[0] };
  });
}

async function runBoth(model: Uint8Array): Promise<[Float32Array, Float32Array]> {
  const l = Session.createSync(model).runSync({ x }).y.data as Float32Array;
  const o = await ort.InferenceSession.create(model);
  const r = (await o.run({ x: new ort.Tensor('float32', x.data as Float32Array, x.shape) })).y.data as Float32Array;
  return [l, r];
}

async function quantize(o: Partial<StaticOptions>) {
  const q = await quantizeStaticDetailed(fp32, { calibration, method: 'minmax', ...o });
  return { q, g: importModel(q.model) };
}

describe('quantizeStatic schemes', function () {
  this.timeout(120000);
  const reference = Session.createSync(fp32).runSync({ x }).y.data as Float32Array;
  const step = (y: Float32Array) => (Math.max(...y) - Math.min(...y)) / 255;

  const schemes: [string, Partial<StaticOptions>, (zs: { dtype: string; value: number }[]) => boolean][] = [
    ['uint8 asymmetric (default)', {}, (zs) => zs.every((z) => z.dtype === 'uint8') && zs.some((z) => z.value !== 128)],
    ['uint8 symmetric: zero point 128', { symmetricActivations: true }, (zs) => zs.every((z) => z.dtype === 'uint8' && z.value === 128)],
    ['int8: symmetric, zero point 0', { activationType: 'int8' }, (zs) => zs.every((z) => z.dtype === 'int8' && z.value === 0)],
  ];
  for (const [name, options, zeroPoints] of schemes) {
    it(`${name}: the zero points say so; lowbit and onnxruntime-node agree within one step`, async () => {
      const { q, g } = await quantize(options);
      assert.ok(zeroPoints(activationZeroPoints(g)), JSON.stringify(activationZeroPoints(g)));
      const [l, o] = await runBoth(q.model);
      const s = step(o);
      l.forEach((v, i) => assert.ok(Math.abs(v - o[i]) <= s + 1e-6, `y[${i}] lowbit ${v} onnxruntime-node ${o[i]}`));
      // And close to fp32 (a small net: a few steps).
      l.forEach((v, i) => assert.ok(Math.abs(v - reference[i]) <= 8 * step(reference), `y[${i}] int8 ${v} fp32 ${reference[i]}`));
    });
  }

  it('weights: per channel by default, one scale with perChannel false, 7 bits with reduceRange', async () => {
    const perChannel = weightDqs((await quantize({})).g);
    assert.deepEqual([...perChannel.values()].map((w) => w.scales.length).sort((a, b) => a - b), [8, 10, 16]);
    for (const w of perChannel.values()) assert.equal(Math.max(...Array.from(w.data, Math.abs)), 127);
    const perTensor = weightDqs((await quantize({ perChannel: false })).g);
    for (const w of perTensor.values()) assert.equal(w.scales.length, 1);
    const { q, g } = await quantize({ reduceRange: true });
    for (const w of weightDqs(g).values()) assert.equal(Math.max(...Array.from(w.data, Math.abs)), 63);
    const [l, o] = await runBoth(q.model);
    l.forEach((v, i) => assert.ok(Math.abs(v - o[i]) <= step(o) + 1e-6, `reduceRange y[${i}] lowbit ${v} onnxruntime-node ${o[i]}`));
  });

  it('leaves nodes excluded by name or by op type in fp32', async () => {
    const all = weightDqs((await quantize({})).g);
    assert.deepEqual([...all.keys()].length, 3);
    const byType = await quantize({ exclude: { opTypes: ['Gemm'] } });
    const typed = weightDqs(byType.g);
    assert.equal(typed.size, 2);
    assert.ok(byType.g.nodes.some((n) => n.opType === 'Gemm' && byType.g.constants.get(n.inputs[1])?.dtype === 'float32'), 'the Gemm keeps fp32 weights');
    const conv2 = importModel(fp32).nodes.find((n) => n.opType === 'Conv' && n.inputs[1] === 'w2')!.name;
    const byName = await quantize({ exclude: { names: [conv2] } });
    assert.equal(weightDqs(byName.g).size, 2);
    assert.ok(!weightDqs(byName.g).has(conv2));
    const [l, o] = await runBoth(byName.q.model);
    l.forEach((v, i) => assert.ok(Math.abs(v - o[i]) <= step(o) + 1e-6, `y[${i}] lowbit ${v} onnxruntime-node ${o[i]}`));
  });

  it('reports progress batch by batch, and refuses bad options with a coded error', async () => {
    const seen: number[] = [];
    const { q } = await quantize({ onProgress: (n) => seen.push(n) });
    assert.deepEqual(seen, [1, 2, 3, 4]);
    assert.equal(q.calibrationBatches, 4);
    const isErr = (code: string, text: RegExp) => (e: unknown) => e instanceof LowbitError && e.code === code && text.test(e.message);
    await assert.rejects(quantize({ activationType: 'int16' as 'int8' }), isErr('E_ARG', /activationType must be 'uint8' or 'int8'/));
    await assert.rejects(quantize({ weightType: 'int4' as 'int8' }), isErr('E_ARG', /weightType must be 'int8'/));
    await assert.rejects(quantizeStaticDetailed(fp32, { calibration: [], method: 'minmax' }), isErr('E_ARG', /calibration data is empty/));
  });
});
