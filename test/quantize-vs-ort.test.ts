// QuantizeLinear / DequantizeLinear against onnxruntime-node, per tensor and per axis.
import { strict as assert } from 'node:assert';
import { ops, Tensor } from '../lib';
import { buildModel } from './helpers/onnx-builder';
import { createSession, runOrt } from './helpers/ort';
import { Rng } from './helpers/random';

describe('quantizeLinear / dequantizeLinear vs onnxruntime-node', function () {
  for (const dtype of ['uint8', 'int8'] as const) {
    for (const perAxis of [false, true]) {
      it(`${dtype}, ${perAxis ? 'per axis 1' : 'per tensor'}: round trip equals onnxruntime`, async function () {
        const shape = [3, 5, 7, 2];
        const c = shape[1];
        const pshape = perAxis ? [c] : [];
        const model = buildModel({
          opset: 13,
          nodes: [
            { op: 'QuantizeLinear', inputs: ['x', 's', 'z'], outputs: ['q'], attributes: { axis: 1 } },
            { op: 'DequantizeLinear', inputs: ['q', 's', 'z'], outputs: ['y'], attributes: { axis: 1 } },
          ],
          inputs: [
            { name: 'x', dtype: 'float32', shape },
            { name: 's', dtype: 'float32', shape: pshape },
            { name: 'z', dtype, shape: pshape },
          ],
          outputs: [{ name: 'q', dtype, shape }, { name: 'y', dtype: 'float32', shape }],
        });
        const session = await createSession(model);
        const rng = new Rng(dtype.length + (perAxis ? 100 : 0));
        for (let trial = 0; trial < 20; trial++) {
          const count = pshape.length ? c : 1;
          const s = new Tensor('float32', rng.floats(count, 0.001, 0.2), pshape);
          const z = new Tensor(dtype, rng.bytes(count, dtype === 'int8', 'mixed'), pshape);
          const n = shape.reduce((a, b) => a * b, 1);
          // Values include exact ties (k + 0.5) * scale and far out-of-range values.
          const xs = new Float32Array(n);
          for (let i = 0; i < n; i++) {
            const ch = perAxis ? Math.floor(i / 14) % c : 0;
            const r = rng.next();
            xs[i] = r < 0.3 ? (rng.int(-300, 300) + 0.5) * s.data[ch] : r < 0.4 ? (rng.next() - 0.5) * 1e6 : (rng.next() - 0.5) * 300 * s.data[ch];
          }
          const x = new Tensor('float32', xs, shape);
          const want = await runOrt(session, { x, s, z });
          const q = ops.quantizeLinear(x, s, z, { axis: 1 });
          assert.deepEqual(Array.from(q.data as ArrayLike<number>), Array.from(want.q.data as ArrayLike<number>), `trial ${trial}: quantize`);
          const y = ops.dequantizeLinear(q, s, z, { axis: 1 });
          assert.deepEqual(Array.from(y.data as Float32Array), Array.from(want.y.data as Float32Array), `trial ${trial}: dequantize`);
          // The tensor remembers its parameters.
          assert.deepEqual(Array.from(ops.dequantizeLinear(q).data as Float32Array), Array.from(y.data as Float32Array));
        }
      });
    }
  }

  it('dequantizes int32 (bias-like) tensors', async function () {
    const model = buildModel({
      opset: 13,
      nodes: [{ op: 'DequantizeLinear', inputs: ['q', 's'], outputs: ['y'] }],
      inputs: [{ name: 'q', dtype: 'int32', shape: [6] }, { name: 's', dtype: 'float32', shape: [] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [6] }],
    });
    const session = await createSession(model);
    const q = new Tensor('int32', [-2147483648, -1, 0, 1, 16777217, 2147483647]);
    const s = new Tensor('float32', [0.0123], []);
    const want = await runOrt(session, { q, s });
    assert.deepEqual(Array.from(ops.dequantizeLinear(q, s).data as Float32Array), Array.from(want.y.data as Float32Array));
  });
});
