// matmulInteger / qlinearMatmul writing into a caller's output tensor (the
// `out` option): the same values as a fresh output, the same tensor returned,
// stale contents overwritten, and every misuse a LowbitError.
import { strict as assert } from 'node:assert';
import { LowbitError, ops, Tensor } from '../lib';
import { Rng } from './helpers/random';

function code(c: string) {
  return (e: unknown) => e instanceof LowbitError && e.code === c;
}

describe('matmul ops with an output tensor (options.out)', function () {
  const rng = new Rng(23);
  const [m, k, n] = [37, 70, 45];
  const a = new Tensor('uint8', rng.bytes(m * k, false, 'mixed'), [m, k]);
  const b = new Tensor('int8', rng.bytes(k * n, true, 'mixed'), [k, n]);
  const packed = ops.packMatrix(b, 3);

  it('matmulInteger(a, packed, { out }) fills and returns out, over stale contents, call after call', function () {
    const want = ops.matmulInteger(a, packed, 0);
    const out = new Tensor('int32', new Int32Array(m * n).fill(-12345), [m, n]);
    for (let i = 0; i < 3; i++) {
      const got = ops.matmulInteger(a, packed, { out });
      assert.equal(got, out);
      assert.deepEqual(got.data, want.data);
      out.data.fill(i + 1);
    }
  });

  it('matmulInteger(a, b, aZp, bZp, { out }) equals the allocating call (Tensor b, packed b, batched a)', function () {
    const want = ops.matmulInteger(a, b, 17, 3);
    const out = Tensor.zeros('int32', [m, n]);
    assert.deepEqual(ops.matmulInteger(a, b, 17, 3, { out }).data, want.data);
    out.data.fill(7);
    assert.deepEqual(ops.matmulInteger(a, packed, 17, 3, { out }).data, want.data);

    const a3 = new Tensor('uint8', rng.bytes(2 * m * k, false), [2, m, k]);
    const out3 = new Tensor('int32', new Int32Array(2 * m * n).fill(99), [2, m, n]);
    const want3 = ops.matmulInteger(a3, packed, 5);
    assert.equal(ops.matmulInteger(a3, packed, 5, undefined, { out: out3 }), out3);
    assert.deepEqual(out3.data, want3.data);
  });

  it('zero-fills out when K is 0', function () {
    const a0 = new Tensor('uint8', new Uint8Array(0), [4, 0]);
    const b0 = new Tensor('int8', new Int8Array(0), [0, 5]);
    const out = new Tensor('int32', new Int32Array(20).fill(42), [4, 5]);
    ops.matmulInteger(a0, b0, { out });
    assert.deepEqual(Array.from(out.data), new Array(20).fill(0));
  });

  it('qlinearMatmul(..., { out }) equals the allocating call, for uint8 and int8 outputs', function () {
    const want = ops.qlinearMatmul(a, 0.02, 128, packed, 0.01, 3, 0.3, 100);
    const out = new Tensor('uint8', new Uint8Array(m * n).fill(1), [m, n]);
    assert.equal(ops.qlinearMatmul(a, 0.02, 128, packed, 0.01, 3, 0.3, 100, { out }), out);
    assert.deepEqual(out.data, want.data);

    const yZp = new Tensor('int8', [-4]);
    const want8 = ops.qlinearMatmul(a, 0.02, 128, packed, 0.01, 3, 0.3, yZp);
    const out8 = new Tensor('int8', new Int8Array(m * n).fill(-1), [m, n]);
    ops.qlinearMatmul(a, 0.02, 128, packed, 0.01, 3, 0.3, yZp, { out: out8 });
    assert.deepEqual(out8.data, want8.data);
  });

  it('rejects an out of the wrong dtype, shape or kind, or sharing memory with an input', function () {
    assert.throws(() => ops.matmulInteger(a, packed, { out: Tensor.zeros('float32', [m, n]) as never }), code('E_DTYPE'));
    assert.throws(() => ops.matmulInteger(a, packed, { out: Tensor.zeros('int32', [n, m]) }), code('E_SHAPE'));
    assert.throws(() => ops.matmulInteger(a, packed, { out: Tensor.zeros('int32', [m * n]) }), code('E_SHAPE'));
    assert.throws(() => ops.matmulInteger(a, packed, { out: new Int32Array(m * n) as never }), code('E_ARG'));
    assert.throws(() => ops.matmulInteger(a, packed, 0, undefined, 'out' as never), code('E_ARG'));
    assert.throws(() => ops.matmulInteger(a, packed, { out: Tensor.zeros('int32', [m, n]) } as never, 0), code('E_ARG'));
    assert.throws(() => ops.qlinearMatmul(a, 0.02, 128, packed, 0.01, 3, 0.3, 100, { out: Tensor.zeros('int8', [m, n]) as never }), code('E_DTYPE'));

    // An int32 output whose bytes overlap a's.
    const shared = new ArrayBuffer(4 * m * n + m * k);
    const aShared = new Tensor('uint8', new Uint8Array(shared, 4 * m * n - 8, m * k), [m, k]);
    aShared.data.set(a.data);
    const outShared = new Tensor('int32', new Int32Array(shared, 0, m * n), [m, n]);
    assert.throws(() => ops.matmulInteger(aShared, packed, { out: outShared }), code('E_ARG'));
    // Adjacent but not overlapping is fine.
    const aNext = new Tensor('uint8', new Uint8Array(shared, 4 * m * n, m * k), [m, k]);
    aNext.data.set(a.data);
    assert.deepEqual(ops.matmulInteger(aNext, packed, 0, undefined, { out: outShared }).data,
                     ops.matmulInteger(a, packed, 0).data);
  });
});
