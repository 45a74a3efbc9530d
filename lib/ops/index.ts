// lib/ops: one typed function per operator. Validates, then calls native.
export { matmulInteger, qlinearMatmul, packMatrix, PackedMatrix } from './matmul';
export { requantize, quantizeMultiplier } from './requantize';
export type { RequantizeOptions, RequantMode } from './requantize';
export { quantizeLinear, dequantizeLinear, quantizeLinearInto, dequantizeLinearInto } from './quantize';
export type { QuantizeOptions } from './quantize';
export { dynamicQuantizeLinear, dynamicQuantizeLinearInto, dynamicGemmInto, dynamicMatmul } from './dynamic';
export type { ParamValue } from './params';
export { Program, isSlot } from './program';
export type { Slot, Operand } from './program';
export { gemmInto, OutputStage } from './gemm';
export {
  bitpack, bitunpack, binaryConv2d, packBinaryConv2d, BinaryConv2d, binaryGemm, packBinaryGemm, BinaryGemm,
  binaryWeightGemm, packBinaryWeightGemm, BinaryWeightGemm, binaryKernelPath,
  bitpackInto, bitunpackInto, binaryConv2dInto, binaryGemmInto, binaryWeightGemmInto,
} from './binary';
export type { BinaryConv2dOptions, BinaryOutputOptions, BinaryOutputKind, BinaryWeightRunOptions, RunOptions } from './binary';
export {
  packConvInt8, PackedConvInt8, convInt8Into, convInt8OutputShape, convInteger, qlinearConv, qlinearConvNchw, convIntegerNchw,
} from './qconv';
export type { PackConvInt8Options, ConvGeometry, ConvInt8IntoOptions, ConvIntegerOptions, QLinearConvOptions, OnnxConvAttributes } from './qconv';
export {
  conv2d, conv2dInto, conv2dShape, conv2dNchw, convAutoPads, packConv2d, PackedConv2d,
  convTranspose, convTransposeInto, convTransposeShape, convTransposeNchw, convTransposePads, packConvTranspose, PackedConvTranspose,
  gemmF32, gemmF32Into, gemmF32Onnx, matmulF32, packGemmF32, PackedMatrixF32,
} from './conv';
export type {
  Activation, AutoPad, Conv2dOptions, ConvTransposeOptions, ConvNchwAttributes, ConvTransposeNchwAttributes, GemmF32Options,
  GemmOnnxAttributes, PackGemmF32Options,
} from './conv';
// fp32 ops and data movement (docs/fp32-ops.md).
export {
  binaryOp, binaryOpInto, broadcastShape, broadcastPlan, add, sub, mul, div, pow, max, min, sum, prelu,
  unaryOp, unaryOpInto, relu, leakyRelu, clip, sigmoid, hardSigmoid, hardSwish, neg, abs, sqrt, reciprocal, floor, ceil,
  round, exp, log, tanh, erf, gelu, softplus, elu, lut8, lut8Into, quantizedUnaryTable,
  batchNormalization, batchNormalizationInto, batchNormCoefficients, channelAffineInto,
} from './elementwise';
export type { BinaryOpName, UnaryOpName, BinaryOptions, ClipOptions, UnaryParams, Table8, Quant8, BatchNormOptions, ParamArray, BroadcastPlan } from './elementwise';
export {
  softmax, softmaxInto, logSoftmax, logSoftmaxInto, softmaxLayout, reduce, reduceInto, reduceShape, reduceAxes,
  reduceMean, reduceSum, reduceMax, reduceMin, layerNormalization, layerNormalizationInto, layerNormLayout,
} from './reduce';
export type { SoftmaxOptions, ReduceOpName, ReduceOptions, LayerNormOptions } from './reduce';
export { cast, castInto, copyInto, identity } from './cast';
export {
  maxPool, maxPoolInto, averagePool, averagePoolInto, poolShape, globalAveragePool, globalAveragePoolInto,
  globalMaxPool, globalMaxPoolInto, globalPoolShape,
} from './pool';
export type { PoolOptions, PoolGeometry, PoolLayout } from './pool';
export {
  qlinearBinaryInto, qlinearAdd, qlinearAddInto, qlinearMul, qlinearMulInto, qlinearGlobalAveragePool, qlinearGlobalAveragePoolInto,
} from './qelementwise';
export type { QLinearBinaryParams, QLinearPoolParams } from './qelementwise';
export {
  transpose, transposeInto, transposeShape, nchwToNhwc, nhwcToNchw, concat, concatInto, concatShape, split, splitInto,
  splitShapes, slice, sliceInto, slicePlan, sliceShape, pad, padInto, padPlan, padShape, expand, expandInto, expandShape,
  tile, tileInto, tileShape, gather, gatherInto,
  gatherShape, resize, resizeInto, resizeShape, resizePlan,
} from './layout';
export type { SliceOptions, PadOptions, PadMode, ResizeOptions, ResizeMode, CoordinateTransformationMode, NearestMode } from './layout';
export { packInt4Weights, PackedInt4, int4GemmInto, int4Gemm, int4KernelPath, quantizeInt4 } from './int4';
export type { Int4Layout, Int4BlockSize, OnnxInt4Bytes, PackInt4Options, Int4Activation, Int4GemmOptions, QuantizeInt4Options, Int4Quantized } from './int4';
export { minMax, minMaxInto, absHistogramState, absHistogramAdd, absHistogramAddInto, AbsHistogramBuffer, ABS_HISTOGRAM_HEADER, ABS_HISTOGRAM_MAX_BINS, ABS_HISTOGRAM_MAX_SAMPLE, ABS_HISTOGRAM_SAMPLE_FROM } from './stats';
