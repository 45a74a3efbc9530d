// Programs: op bindings record steps over an arena; runSync and run give the
// same results as calling the op at once, and every bad slot is a LowbitError.
import * as assert from 'node:assert/strict';
import { LowbitError } from '../lib/errors';
import { gemmInto, OutputStage, packMatrix, Program, matmulInteger } from '../lib/ops';
import { Tensor } from '../lib/tensor/tensor';
import { Rng } from './helpers/random';

function randomInt8(rng: Rng, n: number): Int8Array {
  const a = new Int8Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.int(-128, 127);
  return a;
}

describe('Program', () => {
  const rng = new Rng(7);
  const [m, k, n] = [5, 37, 19];
  const a = new Tensor('uint8', Uint8Array.from(randomInt8(rng, m * k), (v) => v + 128), [m, k]);
  const b = new Tensor('int8', randomInt8(rng, k * n), [k, n]);
  const packed = packMatrix(b);
  const expected = matmulInteger(a, b, 3).data as Int32Array;

  it('records a GEMM and runs it synchronously and asynchronously with the same result', async () => {
    const aBytes = m * k, outOffset = 64 * Math.ceil(aBytes / 64);
    const program = new Program(outOffset + 4 * m * n);
    gemmInto(packed, { dtype: 'uint8', shape: [m, k], ref: 0 }, m, 3, { dtype: 'int32', shape: [m, n], ref: outOffset }, null, program);
    assert.equal(program.stepCount, 1);
    assert.deepEqual(program.labels(), ['gemm']);
    const out1 = new Int32Array(m * n), out2 = new Int32Array(m * n);
    program.runSync([a.data], [0], [out1], [outOffset]);
    assert.deepEqual(out1, expected);
    await program.run([a.data], [0], [out2], [outOffset]);
    assert.deepEqual(out2, expected);
  });

  it('runs large programs on a worker thread, concurrently, with identical results', async () => {
    const [M, K, N] = [64, 512, 256];
    const A = new Tensor('int8', randomInt8(rng, M * K), [M, K]);
    const B = new Tensor('int8', randomInt8(rng, K * N), [K, N]);
    const want = matmulInteger(A, B).data as Int32Array;
    const program = new Program(M * K + 4 * M * N);
    gemmInto(packMatrix(B), { dtype: 'int8', shape: [M, K], ref: 0 }, M, 0, { dtype: 'int32', shape: [M, N], ref: M * K }, null, program);
    assert.ok(program.cost > 2e5);
    const outs = Array.from({ length: 4 }, () => new Int32Array(M * N));
    await Promise.all(outs.map((o) => program.run([A.data], [0], [o], [M * K])));
    for (const o of outs) assert.deepEqual(o, want);
  });

  it('reads constants from program memory and requantizes in the step', () => {
    const program = new Program(4096);
    const aSlot = program.constant(a);
    const stage = new OutputStage({ mode: 'fp32', scale: 0.01, zeroPoint: 10, outType: 'uint8' });
    gemmInto(packed, aSlot, m, 3, { dtype: 'uint8', shape: [m, n], ref: 0 }, stage, program);
    const out = new Uint8Array(m * n);
    program.runSync([], [], [out], [0]);
    const want = new Uint8Array(m * n);
    gemmInto(packed, a, m, 3, new Tensor('uint8', want, [m, n]), stage);
    assert.deepEqual(out, want);
  });

  it('rejects slots outside the arena, unknown constants and wrong dtypes', () => {
    const program = new Program(100);
    const bad = (f: () => void, code: string, re: RegExp) =>
      assert.throws(f, (e: unknown) => e instanceof LowbitError && e.code === code && re.test(e.message));
    bad(() => gemmInto(packed, { dtype: 'uint8', shape: [m, k], ref: 0 }, m, 3, { dtype: 'int32', shape: [m, n], ref: 0 }, null, program), 'E_SHAPE', /arena/);
    bad(() => gemmInto(packed, { dtype: 'uint8', shape: [m, k], ref: -5 }, m, 3, { dtype: 'int32', shape: [1], ref: 0 }, null, program), 'E_RANGE', /constant/);
    bad(() => gemmInto(packed, { dtype: 'float32', shape: [m, k], ref: 0 }, m, 3, { dtype: 'int32', shape: [1], ref: 0 }, null, program), 'E_DTYPE', /int8 or uint8/);
    bad(() => program.runSync([new Uint8Array(200)], [0], [], []), 'E_SHAPE', /does not fit/);
    assert.equal(program.stepCount, 0);
  });
});
