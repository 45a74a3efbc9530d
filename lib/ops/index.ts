// lib/ops: one typed function per operator. Validates, then calls native.
export { matmulInteger, qlinearMatmul, packMatrix, PackedMatrix } from './matmul';
export { requantize, quantizeMultiplier } from './requantize';
export type { RequantizeOptions, RequantMode } from './requantize';
export { quantizeLinear, dequantizeLinear } from './quantize';
export type { QuantizeOptions } from './quantize';
export type { ParamValue } from './params';
export { Program, isSlot } from './program';
export type { Slot, Operand } from './program';
export { gemmInto, OutputStage } from './gemm';
