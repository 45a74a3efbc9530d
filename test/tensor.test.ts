import { strict as assert } from 'node:assert';
import { LowbitError, Tensor } from '../lib';

const code = (c: string) => (e: unknown) => e instanceof LowbitError && e.code === c;

describe('Tensor', function () {
  it('holds typed data with a shape, like onnxruntime', function () {
    const t = new Tensor('float32', new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
    assert.equal(t.dtype, 'float32');
    assert.equal(t.type, 'float32');
    assert.deepEqual([...t.dims], [2, 3]);
    assert.equal(t.size, 6);
    assert.deepEqual(t.toArray(), [[1, 2, 3], [4, 5, 6]]);
    assert.deepEqual(new Tensor('int8', [1, -2, 3]).toArray(), [1, -2, 3]);
    assert.equal(new Tensor('int32', [7], []).toArray(), 7);
  });

  it('validates dtype, data and shape', function () {
    assert.throws(() => new Tensor('float16' as never, [1]), code('E_DTYPE'));
    assert.throws(() => new Tensor('float32', new Int8Array(2), [2]), code('E_DTYPE'));
    assert.throws(() => new Tensor('uint8', new Uint8ClampedArray(2) as never, [2]), code('E_DTYPE'));
    assert.throws(() => new Tensor('float32', [1, 2, 3], [2, 2]), code('E_SHAPE'));
    assert.throws(() => new Tensor('float32', [1, 2], [-1, -2]), code('E_SHAPE'));
    assert.throws(() => new Tensor('float32', [1, 2], [1.5, 2]), code('E_SHAPE'));
    assert.throws(() => new Tensor('float32', 'abc' as never), code('E_ARG'));
    assert.throws(() => new Tensor('int8', [1, 'x'] as never), code('E_ARG'));
    assert.throws(() => new Tensor('float32', [], [2 ** 30, 2 ** 30]), code('E_SHAPE'));
  });

  it("packs 'bit' tensors along the last axis into 64-bit words", function () {
    // 2 rows of 70 bits -> 2 words (16 bytes) per row.
    const t = Tensor.zeros('bit', [2, 70]);
    assert.equal(t.data.length, 32);
    t.data[0] = 0b101; // row 0: bits 0 and 2 are -1
    t.data[16 + 8] = 0b1; // row 1: bit 64 is -1
    const rows = t.toArray() as number[][];
    assert.deepEqual(rows[0].slice(0, 4), [-1, 1, -1, 1]);
    assert.equal(rows[1][64], -1);
    assert.equal(rows[1].filter((v) => v === -1).length, 1);
    assert.throws(() => new Tensor('bit', new Uint8Array(8), [2, 70]), code('E_SHAPE'));
    assert.throws(() => new Tensor('bit', [1, 0] as never, [1, 2]), code('E_DTYPE'));
  });

  it('reshapes, with one inferred dimension', function () {
    const t = new Tensor('int32', [1, 2, 3, 4, 5, 6], [2, 3]);
    assert.deepEqual([...t.reshape([3, -1]).shape], [3, 2]);
    assert.equal(t.reshape([6]).data, t.data);
    assert.throws(() => t.reshape([4, -1]), code('E_SHAPE'));
    assert.throws(() => t.reshape([-1, -1]), code('E_SHAPE'));
    assert.throws(() => t.reshape([7]), code('E_SHAPE'));
  });

  it('zeros and quantization parameters', function () {
    const z = Tensor.zeros('uint8', [2, 2]);
    assert.deepEqual(z.toArray(), [[0, 0], [0, 0]]);
    const q = new Tensor('int8', [1, 2, 3, 4], [2, 2], { scale: [0.1, 0.2], zeroPoint: [0, 0], axis: 0 });
    assert.equal(q.quantization!.axis, 0);
    assert.ok(Math.abs(q.quantization!.scale[1] - 0.2) < 1e-7);
    const pt = new Tensor('uint8', [1, 2], [2], { scale: 0.5, zeroPoint: 128 });
    assert.equal(pt.quantization!.axis, undefined);
    assert.throws(() => new Tensor('int8', [1, 2], [2], { scale: 0 }), code('E_RANGE'));
    assert.throws(() => new Tensor('int8', [1, 2], [2], { scale: 1, zeroPoint: 200 }), code('E_RANGE'));
    assert.throws(() => new Tensor('int8', [1, 2, 3, 4], [2, 2], { scale: [1, 2, 3], zeroPoint: [0, 0, 0], axis: 0 }), code('E_SHAPE'));
    assert.throws(() => new Tensor('int8', [1, 2, 3, 4], [2, 2], { scale: [1, 2], axis: 5 }), code('E_RANGE'));
  });
});
