// requantize / quantizeLinear / dequantizeLinear / quantizeMultiplier.
#include <cmath>

#include <vector>

#include "args.h"
#include "op_call.h"
#include "bindings.h"
#include "lowbit/dynamic_quant.h"
#include "lowbit/fixedpoint.h"
#include "lowbit/gemm.h"
#include "lowbit/quantize.h"
#include "lowbit/thread_pool.h"
#include "state.h"
#include "wrapped.h"

namespace lowbit_addon {
namespace {

struct Block {
  size_t outer, channels, inner, count;
};

Block block(const Args& args, size_t i) {
  Block b;
  b.outer = args.size(i, "outer");
  b.channels = args.size(i + 1, "channels");
  b.inner = args.size(i + 2, "inner");
  b.count = checked_mul(args, checked_mul(args, b.outer, b.channels, "x"), b.inner, "x");
  return b;
}

// requantize(rq, acc: Int32Array, outer, channels, inner, out)
Napi::Value Requantize(const Napi::CallbackInfo& info) {
  Args args(info, "requantize", 6);
  const lowbit::Requantization& rq = RequantizationHandle::From(args, 0, "requantization").rq();
  const Block blk = block(args, 2);
  if (rq.channels() != 1 && rq.channels() != blk.channels) {
    args.fail(kShape, "the parameters have " + std::to_string(rq.channels()) + " channels, the axis has " +
                          std::to_string(blk.channels));
  }
  const int32_t* acc = args.typed<int32_t>(1, "acc", napi_int32_array, blk.count);
  void* out = rq.out_signed ? static_cast<void*>(args.typed<int8_t>(5, "out", napi_int8_array, blk.count))
                            : static_cast<void*>(args.typed<uint8_t>(5, "out", napi_uint8_array, blk.count));
  lowbit::ref::requantize(rq, acc, blk.outer, blk.channels, blk.inner, out);
  return info.Env().Undefined();
}

void check_scales(const Args& args, const float* scale, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    if (!(scale[i] > 0.0f) || !std::isfinite(scale[i])) {
      args.fail(kRange, "scale[" + std::to_string(i) + "] must be a positive finite number, got " + std::to_string(scale[i]));
    }
  }
}

// quantizeLinear(x: Float32Array, outer, channels, inner, scale, zeroPoint: Int32Array, out[, program])
Napi::Value QuantizeLinear(const Napi::CallbackInfo& info) {
  OpCall call(info, "quantizeLinear", 7);
  const Args& args = call.args();
  const Block blk = block(args, 1);
  const lowbit::BufferRef x = call.tensor<float>(0, "x", napi_float32_array, blk.count);
  size_t scale_count = 0, zp_count = 0;
  const float* scale = args.params<float>(4, "scale", napi_float32_array, blk.channels, &scale_count);
  check_scales(args, scale, scale_count);
  const int32_t* zp = args.params<int32_t>(5, "zeroPoint", napi_int32_array, blk.channels, &zp_count);
  bool out_signed = false;
  const lowbit::BufferRef out = call.bytes(6, "out", blk.count, &out_signed);
  for (size_t i = 0; i < zp_count; ++i) {
    if (zp[i] < (out_signed ? -128 : 0) || zp[i] > (out_signed ? 127 : 255)) {
      args.fail(kRange, "zeroPoint[" + std::to_string(i) + "] = " + std::to_string(zp[i]) + " is outside the " +
                            (out_signed ? "int8" : "uint8") + " range");
    }
  }
  std::vector<float> scales(scale, scale + scale_count);
  std::vector<int32_t> zps(zp, zp + zp_count);
  const lowbit::QuantizePath* path = &lowbit::quantize_path(active_isa());
  return call.finish("quantizeLinear", [=](uint8_t* arena) {
    lowbit::quantize_linear(*path, x.get<const float>(arena), blk.outer, blk.channels, blk.inner, scales.data(),
                                 scales.size(), zps.data(), zps.size(), out_signed, out.get<void>(arena));
  }, static_cast<double>(blk.count));
}

// dequantizeLinear(x: Int8Array|Uint8Array|Int32Array, outer, channels, inner, scale, zeroPoint, out: Float32Array[, program])
Napi::Value DequantizeLinear(const Napi::CallbackInfo& info) {
  OpCall call(info, "dequantizeLinear", 7);
  const Args& args = call.args();
  const Block blk = block(args, 1);
  const auto type = call.type_of(0, "x");
  lowbit::ElementType x_type;
  switch (type) {
    case napi_int8_array: x_type = lowbit::ElementType::kInt8; break;
    case napi_uint8_array: x_type = lowbit::ElementType::kUint8; break;
    case napi_int32_array: x_type = lowbit::ElementType::kInt32; break;
    default: args.fail(kDtype, std::string("x must be an Int8Array, Uint8Array or Int32Array, got ") + typed_array_name(type));
  }
  const lowbit::BufferRef x = type == napi_int32_array ? call.tensor<int32_t>(0, "x", type, blk.count)
                                                       : call.tensor<uint8_t>(0, "x", type, blk.count);
  size_t scale_count = 0, zp_count = 0;
  const float* scale = args.params<float>(4, "scale", napi_float32_array, blk.channels, &scale_count);
  for (size_t i = 0; i < scale_count; ++i) {
    if (!std::isfinite(scale[i])) args.fail(kRange, "scale[" + std::to_string(i) + "] must be finite");
  }
  const int32_t* zp = args.params<int32_t>(5, "zeroPoint", napi_int32_array, blk.channels, &zp_count);
  const lowbit::BufferRef out = call.tensor<float>(6, "out", napi_float32_array, blk.count);
  std::vector<float> scales(scale, scale + scale_count);
  std::vector<int32_t> zps(zp, zp + zp_count);
  const lowbit::QuantizePath* path = &lowbit::quantize_path(active_isa());
  return call.finish("dequantizeLinear", [=](uint8_t* arena) {
    lowbit::dequantize_linear(*path, x.get<const void>(arena), x_type, blk.outer, blk.channels, blk.inner, scales.data(),
                                   scales.size(), zps.data(), zps.size(), out.get<float>(arena));
  }, static_cast<double>(blk.count));
}

// quantizeMultiplier(scale: number) -> [multiplier, shift]
Napi::Value QuantizeMultiplier(const Napi::CallbackInfo& info) {
  Args args(info, "quantizeMultiplier", 1);
  if (!args[0].IsNumber()) args.fail(kArg, "scale must be a number");
  const double s = args[0].As<Napi::Number>().DoubleValue();
  int32_t multiplier = 0;
  int shift = 0;
  if (!lowbit::fixedpoint::quantize_multiplier(s, &multiplier, &shift)) {
    args.fail(kRange, "scale must be a non-negative finite number, got " + std::to_string(s));
  }
  Napi::Array out = Napi::Array::New(info.Env(), 2);
  out.Set(0u, Napi::Number::New(info.Env(), multiplier));
  out.Set(1u, Napi::Number::New(info.Env(), shift));
  return out;
}

// dynamicQuantizeLinear(x: Float32Array, n, y: Uint8Array, yScale: Float32Array(1), yZeroPoint: Uint8Array(1)[, program])
Napi::Value DynamicQuantizeLinear(const Napi::CallbackInfo& info) {
  OpCall call(info, "dynamicQuantizeLinear", 5);
  const Args& args = call.args();
  const size_t n = args.size(1, "n");
  const lowbit::BufferRef x = call.tensor<float>(0, "x", napi_float32_array, n);
  const lowbit::BufferRef y = call.tensor<uint8_t>(2, "y", napi_uint8_array, n);
  const lowbit::BufferRef scale = call.tensor<float>(3, "yScale", napi_float32_array, 1);
  const lowbit::BufferRef zp = call.tensor<uint8_t>(4, "yZeroPoint", napi_uint8_array, 1);
  const lowbit::QuantizePath* path = &lowbit::quantize_path(active_isa());
  const lowbit::StatsPath* stats = &lowbit::stats_path(active_isa());
  return call.finish("dynamicQuantizeLinear", [=](uint8_t* arena) {
    lowbit::DynamicParams p;
    lowbit::dynamic_quantize_linear(*path, *stats, x.get<const float>(arena), n, y.get<uint8_t>(arena), &p,
                                    &lowbit::default_thread_pool());
    *scale.get<float>(arena) = p.scale;
    *zp.get<uint8_t>(arena) = static_cast<uint8_t>(p.zero_point);
  }, 2.0 * static_cast<double>(n));
}

// dynamicGemm(w: PackedMatrix (int8), x: Float32Array, m, wScale: Float32Array(1|n), bias: Float32Array(n)|null,
//             out: Float32Array[, program]): x quantized per tensor at run time, int8 GEMM, float32 out.
Napi::Value DynamicGemm(const Napi::CallbackInfo& info) {
  OpCall call(info, "dynamicGemm", 6);
  const Args& args = call.args();
  const PackedMatrixHandle& handle = PackedMatrixHandle::From(args, 0, "w");
  const lowbit::PackedMatrix* w = &handle.packed();
  if (w->isa != active_isa()) {
    args.fail(kIsa, std::string("w was packed for the ") + lowbit::isa_name(w->isa) +
                        " path but the active path is " + lowbit::isa_name(active_isa()) + "; pack it again");
  }
  if (!w->b_signed) args.fail(kDtype, "w must be int8 (packed from an Int8Array)");
  const size_t m = args.size(2, "m");
  const lowbit::BufferRef x = call.tensor<float>(1, "x", napi_float32_array, checked_mul(args, m, w->k, "x"));
  size_t scale_count = 0;
  const float* ws = args.params<float>(3, "wScale", napi_float32_array, w->n, &scale_count);
  for (size_t i = 0; i < scale_count; ++i) {
    if (!std::isfinite(ws[i])) args.fail(kRange, "wScale[" + std::to_string(i) + "] must be finite");
  }
  std::vector<float> scales(ws, ws + scale_count);
  std::vector<float> bias;
  if (!args.is_null(4)) {
    const float* b = args.typed<float>(4, "bias", napi_float32_array, w->n);
    bias.assign(b, b + w->n);
  }
  const lowbit::BufferRef out = call.tensor<float>(5, "out", napi_float32_array, checked_mul(args, m, w->n, "out"));
  call.keep(args[0].As<Napi::Object>());
  const lowbit::GemmPath* gemm_path = &active_gemm_path();
  const lowbit::QuantizePath* quantize_path = &lowbit::quantize_path(active_isa());
  const lowbit::StatsPath* stats = &lowbit::stats_path(active_isa());
  return call.finish("dynamicGemm", [=](uint8_t* arena) {
    lowbit::DynamicGemmArgs d;
    d.m = m;
    d.x = x.get<const float>(arena);
    d.w = w;
    d.w_scale = scales.data();
    d.w_scale_count = scales.size();
    d.bias = bias.empty() ? nullptr : bias.data();
    d.out = out.get<float>(arena);
    lowbit::dynamic_gemm(*gemm_path, *quantize_path, *stats, d, lowbit::default_thread_pool());
  }, 2.0 * static_cast<double>(m) * static_cast<double>(w->n) * static_cast<double>(w->k));
}

}  // namespace

void register_quantize(Napi::Env env, Napi::Object exports) {
  exports.Set("requantize", Napi::Function::New(env, Requantize, "requantize"));
  exports.Set("quantizeLinear", Napi::Function::New(env, QuantizeLinear, "quantizeLinear"));
  exports.Set("dequantizeLinear", Napi::Function::New(env, DequantizeLinear, "dequantizeLinear"));
  exports.Set("dynamicQuantizeLinear", Napi::Function::New(env, DynamicQuantizeLinear, "dynamicQuantizeLinear"));
  exports.Set("dynamicGemm", Napi::Function::New(env, DynamicGemm, "dynamicGemm"));
  exports.Set("quantizeMultiplier", Napi::Function::New(env, QuantizeMultiplier, "quantizeMultiplier"));
}

}  // namespace lowbit_addon
