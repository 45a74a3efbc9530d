// MatMulInteger and QLinearMatMul against onnxruntime-node, bit for bit, on
// every kernel path this machine has, over odd shapes and extreme values.
import { strict as assert } from 'node:assert';
import { cpu, IsaName, ops, Tensor } from '../lib';
import { buildModel } from './helpers/onnx-builder';
import { createSession, ort, runOrt } from './helpers/ort';
import { Rng } from './helpers/random';

type I8 = 'int8' | 'uint8';
const COMBOS: [I8, I8][] = [['uint8', 'int8'], ['uint8', 'uint8'], ['int8', 'int8'], ['int8', 'uint8']];

/** Shapes: M, N, K over 1..33 (sampled), plus a few in the hundreds. */
function shapes(rng: Rng): [number, number, number][] {
  const out: [number, number, number][] = [[1, 1, 1], [33, 33, 33], [1, 33, 17], [17, 1, 33]];
  for (let i = 0; i < 40; i++) out.push([rng.int(1, 33), rng.int(1, 33), rng.int(1, 33)]);
  out.push([200, 300, 257], [1, 513, 129], [129, 64, 700], [256, 256, 256]);
  return out;
}

async function sessionOrSkip(model: Uint8Array): Promise<ort.InferenceSession | string> {
  try {
    return await createSession(model);
  } catch (err) {
    return (err as Error).message.split('\n')[0];
  }
}

const isas = (): IsaName[] => cpu.available();

describe('matmulInteger vs onnxruntime-node', function () {
  const original = cpu.isa;
  after(() => cpu.setIsa(original));

  for (const [ta, tb] of COMBOS) {
    for (const perColumn of [false, true]) {
      it(`${ta} x ${tb}, ${perColumn ? 'per-column' : 'per-tensor'} b zero point, every path`, async function () {
        const model = buildModel({
          opset: 13,
          nodes: [{ op: 'MatMulInteger', inputs: ['a', 'b', 'az', 'bz'], outputs: ['y'] }],
          inputs: [
            { name: 'a', dtype: ta, shape: ['M', 'K'] },
            { name: 'b', dtype: tb, shape: ['K', 'N'] },
            { name: 'az', dtype: ta, shape: [] },
            { name: 'bz', dtype: tb, shape: perColumn ? ['N'] : [] },
          ],
          outputs: [{ name: 'y', dtype: 'int32', shape: ['M', 'N'] }],
        });
        const session = await sessionOrSkip(model);
        if (typeof session === 'string') {
          console.log(`      (onnxruntime cannot run MatMulInteger ${ta} x ${tb}: ${session})`);
          this.skip();
        }
        const rng = new Rng(ta.length * 7 + tb.length * 13 + (perColumn ? 1 : 0));
        for (const [m, n, k] of shapes(rng)) {
          const mode = rng.pick(['random', 'extreme', 'mixed'] as const);
          const a = new Tensor(ta, rng.bytes(m * k, ta === 'int8', mode), [m, k]);
          const b = new Tensor(tb, rng.bytes(k * n, tb === 'int8', mode), [k, n]);
          const az = new Tensor(ta, rng.bytes(1, ta === 'int8', 'mixed'), []);
          const bz = new Tensor(tb, rng.bytes(perColumn ? n : 1, tb === 'int8', 'mixed'), perColumn ? [n] : []);
          const want = (await runOrt(session, { a, b, az, bz })).y.data as Int32Array;
          for (const isa of isas()) {
            cpu.setIsa(isa);
            const got = ops.matmulInteger(a, b, az, bz);
            assert.deepEqual([...got.shape], [m, n]);
            const packed = ops.matmulInteger(a, ops.packMatrix(b, bz), az);
            for (const [how, y] of [['plain', got], ['packed', packed]] as const) {
              const d = y.data as Int32Array;
              for (let i = 0; i < d.length; i++) {
                if (d[i] !== want[i]) assert.fail(`${isa} ${how} M=${m} N=${n} K=${k} ${mode}: y[${i}] = ${d[i]}, onnxruntime ${want[i]}`);
              }
            }
          }
        }
      });
    }
  }

  it('batched A [2,3,M,K] x B [K,N] and batched B [2,1,K,N] broadcast like onnxruntime', async function () {
    const model = buildModel({
      opset: 13,
      nodes: [{ op: 'MatMulInteger', inputs: ['a', 'b', 'az', 'bz'], outputs: ['y'] }],
      inputs: [
        { name: 'a', dtype: 'uint8', shape: [2, 3, 5, 7] },
        { name: 'b', dtype: 'int8', shape: [2, 1, 7, 4] },
        { name: 'az', dtype: 'uint8', shape: [] },
        { name: 'bz', dtype: 'int8', shape: [] },
      ],
      outputs: [{ name: 'y', dtype: 'int32', shape: [2, 3, 5, 4] }],
    });
    const session = await createSession(model);
    const rng = new Rng(5);
    const a = new Tensor('uint8', rng.bytes(2 * 3 * 5 * 7, false), [2, 3, 5, 7]);
    const b = new Tensor('int8', rng.bytes(2 * 7 * 4, true), [2, 1, 7, 4]);
    const az = new Tensor('uint8', [3], []), bz = new Tensor('int8', [-2], []);
    const want = (await runOrt(session, { a, b, az, bz })).y;
    const got = ops.matmulInteger(a, b, az, bz);
    assert.deepEqual([...got.shape], [...want.dims]);
    assert.deepEqual(Array.from(got.data as Int32Array), Array.from(want.data as Int32Array));
  });
});

describe('qlinearMatmul vs onnxruntime-node', function () {
  const original = cpu.isa;
  after(() => cpu.setIsa(original));

  for (const [ta, tb] of COMBOS) {
    for (const perColumn of [false, true]) {
      it(`${ta} x ${tb}, ${perColumn ? 'per-column' : 'per-tensor'} b scale, every path`, async function () {
        const model = buildModel({
          opset: 13,
          nodes: [{ op: 'QLinearMatMul', inputs: ['a', 'as', 'az', 'b', 'bs', 'bz', 'ys', 'yz'], outputs: ['y'] }],
          inputs: [
            { name: 'a', dtype: ta, shape: ['M', 'K'] },
            { name: 'as', dtype: 'float32', shape: [] },
            { name: 'az', dtype: ta, shape: [] },
            { name: 'b', dtype: tb, shape: ['K', 'N'] },
            { name: 'bs', dtype: 'float32', shape: perColumn ? ['N'] : [] },
            { name: 'bz', dtype: tb, shape: perColumn ? ['N'] : [] },
            { name: 'ys', dtype: 'float32', shape: [] },
            { name: 'yz', dtype: ta, shape: [] },
          ],
          outputs: [{ name: 'y', dtype: ta, shape: ['M', 'N'] }],
        });
        const session = await sessionOrSkip(model);
        if (typeof session === 'string') {
          console.log(`      (onnxruntime cannot run QLinearMatMul ${ta} x ${tb}: ${session})`);
          this.skip();
        }
        const rng = new Rng(101 + ta.length * 7 + tb.length * 13 + (perColumn ? 1 : 0));
        for (const [m, n, k] of shapes(rng)) {
          const mode = rng.pick(['random', 'extreme', 'mixed'] as const);
          const a = new Tensor(ta, rng.bytes(m * k, ta === 'int8', mode), [m, k]);
          const b = new Tensor(tb, rng.bytes(k * n, tb === 'int8', mode), [k, n]);
          const as = new Tensor('float32', rng.floats(1, 0.005, 0.05), []);
          const bs = new Tensor('float32', rng.floats(perColumn ? n : 1, 0.001, 0.02), perColumn ? [n] : []);
          // A y scale that puts typical outputs inside the 8-bit range, some saturating.
          const ys = new Tensor('float32', [as.data[0] * 0.01 * Math.sqrt(k) * 128 * (0.2 + rng.next())], []);
          const az = new Tensor(ta, rng.bytes(1, ta === 'int8', 'mixed'), []);
          const bz = new Tensor(tb, rng.bytes(perColumn ? n : 1, tb === 'int8', 'mixed'), perColumn ? [n] : []);
          const yz = new Tensor(ta, rng.bytes(1, ta === 'int8'), []);
          const want = (await runOrt(session, { a, as, az, b, bs, bz, ys, yz })).y.data as Int8Array | Uint8Array;
          for (const isa of isas()) {
            cpu.setIsa(isa);
            const got = ops.qlinearMatmul(a, as, az, b, bs, bz, ys, yz);
            const packed = ops.qlinearMatmul(a, as, az, ops.packMatrix(b, bz), bs, undefined, ys, yz);
            assert.equal(got.dtype, ta);
            for (const [how, y] of [['plain', got], ['packed', packed]] as const) {
              const d = y.data as Int8Array | Uint8Array;
              for (let i = 0; i < d.length; i++) {
                if (d[i] !== want[i]) assert.fail(`${isa} ${how} M=${m} N=${n} K=${k} ${mode}: y[${i}] = ${d[i]}, onnxruntime ${want[i]}`);
              }
            }
          }
        }
      });
    }
  }
});
