// lowbit: quantized neural-network inference and quantization for Node.js.
export { LowbitError } from './errors';
export type { ErrorCode } from './errors';
export { Tensor } from './tensor/tensor';
export type { QuantParams, Quantization, Shape } from './tensor/tensor';
export type { DType } from './tensor/dtype';
export { cpu } from './cpu';
export type { CpuFeatures, IsaInfo, IsaName } from './cpu';
export * as ops from './ops';
export { PackedMatrix } from './ops/matmul';
