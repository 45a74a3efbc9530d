// Dynamic quantization: activations take their uint8 scale and zero point from
// their own range at run time (ONNX DynamicQuantizeLinear), and the fused
// dynamic int8 GEMM behind quantizeDynamic models (float32 in, float32 out).
import { fail } from '../errors';
import { native } from '../native';
import { Tensor } from '../tensor/tensor';
import { PackedMatrix } from './matmul';
import { expectTensor } from './params';
import { nativeOperand, Operand, Program } from './program';

/** y (uint8), yScale ([1] float32) and yZeroPoint ([1] uint8) of x over n values. */
export function dynamicQuantizeLinearInto(x: Operand, n: number, y: Operand, yScale: Operand, yZeroPoint: Operand, program?: Program): void {
  if (program === undefined) native.dynamicQuantizeLinear(nativeOperand(x) as Float32Array, n, nativeOperand(y) as Uint8Array, nativeOperand(yScale) as Float32Array, nativeOperand(yZeroPoint) as Uint8Array);
  else native.dynamicQuantizeLinear(nativeOperand(x) as never, n, nativeOperand(y) as never, nativeOperand(yScale) as never, nativeOperand(yZeroPoint) as never, program.recorder);
}

/** ONNX DynamicQuantizeLinear: [y uint8, y_scale (scalar float32), y_zero_point (scalar uint8)]. */
export function dynamicQuantizeLinear(x: Tensor): [Tensor<'uint8'>, Tensor<'float32'>, Tensor<'uint8'>] {
  expectTensor(x, 'dynamicQuantizeLinear', 'x', ['float32']);
  const y = new Tensor('uint8', new Uint8Array(x.size), x.shape);
  const s = new Tensor('float32', new Float32Array(1), []), z = new Tensor('uint8', new Uint8Array(1), []);
  dynamicQuantizeLinearInto(x, x.size, y, s, z);
  return [y, s, z];
}

/**
 * out [m, n] float32 = (x [m, k] quantized per tensor at run time) x (int8 w packed
 * [k, n]) x (x scale * wScale[n]) + bias[n]. wScale holds 1 or n values.
 */
export function dynamicGemmInto(w: PackedMatrix, x: Operand, m: number, wScale: Float32Array, bias: Float32Array | null,
                                out: Operand, program?: Program): void {
  if (!(w instanceof PackedMatrix)) fail('E_ARG', 'dynamicGemm: w must be a PackedMatrix (ops.packMatrix of int8 weights)');
  if (program === undefined) native.dynamicGemm(w.handle, nativeOperand(x) as Float32Array, m, wScale, bias, nativeOperand(out) as Float32Array);
  else native.dynamicGemm(w.handle, nativeOperand(x) as never, m, wScale, bias, nativeOperand(out) as never, program.recorder);
}

/** x [..., K] float32 times int8 weights (packed [K, N]) with per-column scales: [..., N] float32. */
export function dynamicMatmul(x: Tensor, w: PackedMatrix, wScale: Float32Array | number, bias?: Float32Array): Tensor<'float32'> {
  expectTensor(x, 'dynamicMatmul', 'x', ['float32']);
  if (!(w instanceof PackedMatrix)) fail('E_ARG', 'dynamicMatmul: w must be a PackedMatrix (ops.packMatrix of int8 weights)');
  if (x.rank < 1 || x.shape[x.rank - 1] !== w.k) fail('E_SHAPE', `dynamicMatmul: x is [${x.shape.join(', ')}], its last dimension must be ${w.k}`);
  const scale = typeof wScale === 'number' ? Float32Array.of(wScale) : wScale;
  const m = x.size / w.k;
  const out = new Tensor('float32', new Float32Array(m * w.n), [...x.shape.slice(0, -1), w.n]);
  dynamicGemmInto(w, x, m, scale, bias ?? null, out);
  return out;
}
