// Elementwise and reduction ops on the active kernel path: binary (broadcast
// plan from JavaScript), unary, lut8, channelAffine (BatchNormalization),
// cast, softmax, reduce. Each takes an optional Program last (op_call.h).
#include <array>
#include <cmath>
#include <memory>
#include <string>

#include "bindings.h"
#include "list_args.h"
#include "lowbit/elementwise.h"
#include "lowbit/reduce.h"
#include "lowbit/thread_pool.h"
#include "op_call.h"
#include "state.h"

namespace lowbit_addon {
namespace {

using lowbit::BufferRef;

constexpr int64_t kMaxDim = int64_t{1} << 53;

const std::vector<const char*> kBinaryNames = {"add", "sub", "mul", "div", "pow", "max", "min", "prelu"};
const std::vector<const char*> kUnaryNames = {
    "relu", "leakyRelu", "clip", "sigmoid", "hardSigmoid", "hardSwish", "neg", "abs", "sqrt", "reciprocal", "floor",
    "ceil", "round", "exp", "log", "tanh", "erf", "gelu", "geluTanh", "softplus", "elu"};
const std::vector<const char*> kReduceNames = {"sum", "mean", "max", "min", "prod", "l1", "l2", "sumSquare"};

// binary(op, a, b, out, dims, aStrides, bStrides, aCount, bCount, clampMin, clampMax[, program])
Napi::Value Binary(const Napi::CallbackInfo& info) {
  OpCall call(info, "binary", 11);
  const Args& args = call.args();
  const auto op = static_cast<lowbit::BinaryOp>(choice(args, 0, "op", kBinaryNames));
  const std::vector<int64_t> dims = int_list(args, 4, "dims", lowbit::kMaxRank, 0, kMaxDim);
  const std::vector<int64_t> as = int_list(args, 5, "aStrides", lowbit::kMaxRank, 0, kMaxDim);
  const std::vector<int64_t> bs = int_list(args, 6, "bStrides", lowbit::kMaxRank, 0, kMaxDim);
  if (as.size() != dims.size() || bs.size() != dims.size()) {
    args.fail(kShape, "dims, aStrides and bStrides must have the same length, got " + std::to_string(dims.size()) +
                          ", " + std::to_string(as.size()) + ", " + std::to_string(bs.size()));
  }
  const size_t count = product(args, dims, "out");
  const size_t a_count = args.size(7, "aCount"), b_count = args.size(8, "bCount");
  check_extent(args, dims, as, a_count, "a");
  check_extent(args, dims, bs, b_count, "b");
  const float lo = float_arg(args, 9, "clampMin"), hi = float_arg(args, 10, "clampMax");
  napi_typedarray_type type;
  const BufferRef out = any_tensor(call, 3, "out", count, &type);
  if (op == lowbit::BinaryOp::kPRelu && type != napi_float32_array) args.fail(kDtype, "prelu takes float32 tensors");
  const BufferRef a = typed_tensor(call, 1, "a", a_count, type);
  const BufferRef b = typed_tensor(call, 2, "b", b_count, type);
  lowbit::BroadcastPlan plan;
  plan.rank = dims.size();
  for (size_t d = 0; d < dims.size(); ++d) {
    plan.dims[d] = static_cast<size_t>(dims[d]);
    plan.a_stride[d] = static_cast<size_t>(as[d]);
    plan.b_stride[d] = static_cast<size_t>(bs[d]);
  }
  const lowbit::ElementwisePath* path = &lowbit::elementwise_path(active_isa());
  const char* suffix = type == napi_int32_array ? "_s32" : type == napi_int8_array ? "_s8" : type == napi_uint8_array ? "_u8" : "";
  const std::string label = std::string(kBinaryNames[static_cast<size_t>(op)]) + suffix;
  if (type == napi_float32_array) {
    return call.finish(label, [=](uint8_t* arena) {
      lowbit::binary_f32(*path, op, plan, a.get<const float>(arena), b.get<const float>(arena), out.get<float>(arena),
                         lo, hi, &lowbit::default_thread_pool());
    }, static_cast<double>(count));
  }
  if (type == napi_int32_array) {
    return call.finish(label, [=](uint8_t* arena) {
      lowbit::binary_s32(*path, op, plan, a.get<const int32_t>(arena), b.get<const int32_t>(arena),
                         out.get<int32_t>(arena), &lowbit::default_thread_pool());
    }, static_cast<double>(count));
  }
  const bool is_signed = type == napi_int8_array;
  return call.finish(label, [=](uint8_t* arena) {
    lowbit::binary_8bit(op, plan, a.get<const void>(arena), b.get<const void>(arena), out.get<void>(arena), is_signed,
                        &lowbit::default_thread_pool());
  }, static_cast<double>(count));
}

// unary(op, x, out, count, alpha, beta[, program])
Napi::Value Unary(const Napi::CallbackInfo& info) {
  OpCall call(info, "unary", 6);
  const Args& args = call.args();
  lowbit::UnaryParams p;
  p.op = static_cast<lowbit::UnaryOp>(choice(args, 0, "op", kUnaryNames));
  const size_t count = args.size(3, "count");
  p.alpha = float_arg(args, 4, "alpha");
  p.beta = float_arg(args, 5, "beta");
  const BufferRef x = call.tensor<float>(1, "x", napi_float32_array, count);
  const BufferRef out = call.tensor<float>(2, "out", napi_float32_array, count);
  const lowbit::ElementwisePath* path = &lowbit::elementwise_path(active_isa());
  return call.finish(kUnaryNames[static_cast<size_t>(p.op)], [=](uint8_t* arena) {
    lowbit::unary_f32(*path, p, x.get<const float>(arena), out.get<float>(arena), count, &lowbit::default_thread_pool());
  }, static_cast<double>(count) * 4);
}

// lut8(x, table, out, count[, program]): out[i] = table[x[i] - min(x's type)].
Napi::Value Lut8(const Napi::CallbackInfo& info) {
  OpCall call(info, "lut8", 4);
  const Args& args = call.args();
  const size_t count = args.size(3, "count");
  bool x_signed = false, out_signed = false;
  const BufferRef x = call.bytes(0, "x", count, &x_signed);
  const void* t = args.bytes(1, "table", 256, &out_signed);
  std::array<uint8_t, 256> table;
  // The kernel indexes by the raw byte; for int8 x the value v = byte - 256 * (byte >= 128)
  // has table entry v + 128 = byte ^ 0x80.
  for (size_t b = 0; b < 256; ++b) table[b] = static_cast<const uint8_t*>(t)[x_signed ? (b ^ 0x80) : b];
  const BufferRef out = out_signed ? call.tensor<int8_t>(2, "out", napi_int8_array, count)
                                   : call.tensor<uint8_t>(2, "out", napi_uint8_array, count);
  const lowbit::ElementwisePath* path = &lowbit::elementwise_path(active_isa());
  return call.finish("lut8", [=](uint8_t* arena) {
    lowbit::lut8(*path, table.data(), x.get<const uint8_t>(arena), out.get<uint8_t>(arena), count,
                 &lowbit::default_thread_pool());
  }, static_cast<double>(count));
}

// channelAffine(x, out, outer, channels, inner, scale, bias, clampMin, clampMax[, program])
Napi::Value ChannelAffine(const Napi::CallbackInfo& info) {
  OpCall call(info, "channelAffine", 9);
  const Args& args = call.args();
  const size_t outer = args.size(2, "outer"), channels = args.size(3, "channels"), inner = args.size(4, "inner");
  const size_t count = checked_mul(args, checked_mul(args, outer, channels, "x"), inner, "x");
  const float* s = args.typed<float>(5, "scale", napi_float32_array, channels);
  const float* bias = args.typed<float>(6, "bias", napi_float32_array, channels);
  auto params = std::make_shared<std::vector<float>>(2 * channels);
  std::copy(s, s + channels, params->begin());
  std::copy(bias, bias + channels, params->begin() + static_cast<ptrdiff_t>(channels));
  const float lo = float_arg(args, 7, "clampMin"), hi = float_arg(args, 8, "clampMax");
  const BufferRef x = call.tensor<float>(0, "x", napi_float32_array, count);
  const BufferRef out = call.tensor<float>(1, "out", napi_float32_array, count);
  const lowbit::ElementwisePath* path = &lowbit::elementwise_path(active_isa());
  return call.finish("channel_affine", [=](uint8_t* arena) {
    lowbit::channel_affine_f32(*path, x.get<const float>(arena), outer, channels, inner, params->data(),
                               params->data() + channels, out.get<float>(arena), lo, hi,
                               &lowbit::default_thread_pool());
  }, static_cast<double>(count));
}

// cast(x, out, count[, program]): element types from the operands.
Napi::Value Cast(const Napi::CallbackInfo& info) {
  OpCall call(info, "cast", 3);
  const Args& args = call.args();
  const size_t count = args.size(2, "count");
  napi_typedarray_type from, to;
  const BufferRef x = any_tensor(call, 0, "x", count, &from);
  const BufferRef out = any_tensor(call, 1, "out", count, &to);
  const lowbit::ElementType ft = element_type(from), tt = element_type(to);
  return call.finish("cast", [=](uint8_t* arena) {
    lowbit::cast(ft, x.get<const void>(arena), tt, out.get<void>(arena), count);
  }, static_cast<double>(count));
}

// softmax(x, out, outer, n, inner, log[, program])
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  OpCall call(info, "softmax", 6);
  const Args& args = call.args();
  const size_t outer = args.size(2, "outer"), n = args.size(3, "n"), inner = args.size(4, "inner");
  const bool log = args.boolean(5, "log");
  const size_t count = checked_mul(args, checked_mul(args, outer, n, "x"), inner, "x");
  const BufferRef x = call.tensor<float>(0, "x", napi_float32_array, count);
  const BufferRef out = call.tensor<float>(1, "out", napi_float32_array, count);
  const lowbit::SoftmaxPath* path = &lowbit::softmax_path(active_isa());
  return call.finish(log ? "log_softmax" : "softmax", [=](uint8_t* arena) {
    lowbit::softmax_f32(*path, x.get<const float>(arena), outer, n, inner, log, out.get<float>(arena),
                        &lowbit::default_thread_pool());
  }, static_cast<double>(count) * 8);
}

// reduce(op, x, out, dims, axes[, program]): the output holds the kept axes.
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  OpCall call(info, "reduce", 5);
  const Args& args = call.args();
  const auto op = static_cast<lowbit::ReduceOp>(choice(args, 0, "op", kReduceNames));
  const std::vector<int64_t> dims = int_list(args, 3, "dims", lowbit::kMaxRank, 0, kMaxDim);
  const std::vector<int64_t> axes = int_list(args, 4, "axes", lowbit::kMaxRank, 0,
                                             static_cast<int64_t>(dims.empty() ? 0 : dims.size() - 1));
  lowbit::ReducePlan plan;
  plan.rank = dims.size();
  for (size_t d = 0; d < dims.size(); ++d) plan.dims[d] = static_cast<size_t>(dims[d]);
  for (int64_t a : axes) {
    if (dims.empty()) args.fail(kRange, "a rank-0 tensor has no axes to reduce");
    if (plan.reduced[a]) args.fail(kArg, "axis " + std::to_string(a) + " is listed twice");
    plan.reduced[a] = true;
  }
  const size_t in_count = product(args, dims, "x");
  size_t out_count = 1;
  for (size_t d = 0; d < dims.size(); ++d) {
    if (!plan.reduced[d]) out_count = checked_mul(args, out_count, static_cast<size_t>(dims[d]), "out");
  }
  const BufferRef x = call.tensor<float>(1, "x", napi_float32_array, in_count);
  const BufferRef out = call.tensor<float>(2, "out", napi_float32_array, out_count);
  return call.finish(std::string("reduce_") + kReduceNames[static_cast<size_t>(op)], [=](uint8_t* arena) {
    lowbit::reduce_f32(op, plan, x.get<const float>(arena), out.get<float>(arena));
  }, static_cast<double>(in_count));
}

// layerNorm(x, out, outer, n, scale, bias|null, epsilon, mean|null, invStdDev|null[, program])
Napi::Value LayerNorm(const Napi::CallbackInfo& info) {
  OpCall call(info, "layerNorm", 9);
  const Args& args = call.args();
  const size_t outer = args.size(2, "outer"), n = args.size(3, "n");
  const size_t count = checked_mul(args, outer, n, "x");
  const float* s = args.typed<float>(4, "scale", napi_float32_array, n);
  auto params = std::make_shared<std::vector<float>>(s, s + n);
  const bool has_bias = !args.is_null(5);
  if (has_bias) {
    const float* b = args.typed<float>(5, "bias", napi_float32_array, n);
    params->insert(params->end(), b, b + n);
  }
  const float epsilon = float_arg(args, 6, "epsilon");
  if (!(epsilon >= 0.0f) || std::isinf(epsilon)) args.fail(kRange, "epsilon must be a non-negative finite number");
  const BufferRef x = call.tensor<float>(0, "x", napi_float32_array, count);
  const BufferRef out = call.tensor<float>(1, "out", napi_float32_array, count);
  const bool has_mean = !args.is_null(7), has_inv = !args.is_null(8);
  const BufferRef mean = has_mean ? call.tensor<float>(7, "mean", napi_float32_array, outer) : BufferRef{};
  const BufferRef inv = has_inv ? call.tensor<float>(8, "invStdDev", napi_float32_array, outer) : BufferRef{};
  return call.finish("layer_norm", [=](uint8_t* arena) {
    lowbit::layer_norm_f32(x.get<const float>(arena), outer, n, params->data(), has_bias ? params->data() + n : nullptr,
                           epsilon, out.get<float>(arena), has_mean ? mean.get<float>(arena) : nullptr,
                           has_inv ? inv.get<float>(arena) : nullptr, &lowbit::default_thread_pool());
  }, static_cast<double>(count) * 4);
}

}  // namespace

void register_elementwise(Napi::Env env, Napi::Object exports) {
  exports.Set("binary", Napi::Function::New(env, Binary, "binary"));
  exports.Set("unary", Napi::Function::New(env, Unary, "unary"));
  exports.Set("lut8", Napi::Function::New(env, Lut8, "lut8"));
  exports.Set("channelAffine", Napi::Function::New(env, ChannelAffine, "channelAffine"));
  exports.Set("cast", Napi::Function::New(env, Cast, "cast"));
  exports.Set("softmax", Napi::Function::New(env, Softmax, "softmax"));
  exports.Set("reduce", Napi::Function::New(env, Reduce, "reduce"));
  exports.Set("layerNorm", Napi::Function::New(env, LayerNorm, "layerNorm"));
}

}  // namespace lowbit_addon
