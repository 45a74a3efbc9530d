// fp32 Conv, ConvTranspose and GEMM through the active kernel path's fp32
// kernels (lowbit/conv_f32.h, lowbit/gemm_f32.h). Weights are packed once into
// handles (PackedConvF32, PackedConvTransposeF32, PackedMatrixF32); the op
// bindings (convF32, convTransposeF32, gemmF32) follow the OpCall convention:
// run now on typed arrays, or record a step over slots when a Program comes last.
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "args.h"
#include "bindings.h"
#include "lowbit/conv_f32.h"
#include "lowbit/gemm_f32.h"
#include "lowbit/thread_pool.h"
#include "op_call.h"
#include "state.h"

namespace lowbit_addon {
namespace {

// Geometry values (pads, strides, dilations, sizes) stay far below overflow.
constexpr int64_t kMaxGeometry = int64_t{1} << 24;

const lowbit::F32Path& active_f32_path() { return lowbit::f32_path_for(active_isa()); }

// `count` integers in [lo, hi] from a JS array or typed array.
std::vector<size_t> small_ints(const Args& args, size_t i, const char* what, size_t count, int64_t lo, int64_t hi) {
  const Napi::Value v = args[i];
  if (!v.IsArray() && !v.IsTypedArray()) args.fail(kArg, std::string(what) + " must be an array of " + std::to_string(count) + " integers");
  const Napi::Object o = v.As<Napi::Object>();
  const size_t len = v.IsArray() ? v.As<Napi::Array>().Length() : v.As<Napi::TypedArray>().ElementLength();
  if (len != count) args.fail(kShape, std::string(what) + " must have " + std::to_string(count) + " values, got " + std::to_string(len));
  std::vector<size_t> out(count);
  for (size_t k = 0; k < count; ++k) {
    const Napi::Value x = o.Get(static_cast<uint32_t>(k));
    const double d = x.IsNumber() ? x.As<Napi::Number>().DoubleValue() : std::nan("");
    if (!(d >= static_cast<double>(lo) && d <= static_cast<double>(hi)) || d != std::floor(d)) {
      args.fail(kRange, std::string(what) + "[" + std::to_string(k) + "] must be an integer in [" + std::to_string(lo) + ", " +
                            std::to_string(hi) + "]");
    }
    out[k] = static_cast<size_t>(d);
  }
  return out;
}

// activation: 'none' | 'relu' | 'clip' | 'hardswish' | 'hardsigmoid'; params:
// [min, max] for clip, [alpha, beta] for hardsigmoid, ignored otherwise.
lowbit::F32Epilogue epilogue(const Args& args, size_t i, size_t params_i) {
  const std::string kind = args.string(i, "activation");
  lowbit::F32Epilogue e;
  auto two = [&](const char* what) {
    const Napi::Value v = args[params_i];
    if (!v.IsArray() && !v.IsTypedArray()) args.fail(kArg, std::string("activationParams must be an array [") + what + "]");
    const Napi::Object o = v.As<Napi::Object>();
    const size_t len = v.IsArray() ? v.As<Napi::Array>().Length() : v.As<Napi::TypedArray>().ElementLength();
    if (len != 2) args.fail(kShape, std::string("activationParams must have 2 values [") + what + "], got " + std::to_string(len));
    double d[2];
    for (uint32_t k = 0; k < 2; ++k) {
      const Napi::Value x = o.Get(k);
      if (!x.IsNumber()) args.fail(kArg, std::string("activationParams[") + std::to_string(k) + "] must be a number");
      d[k] = x.As<Napi::Number>().DoubleValue();
      if (std::isnan(d[k])) args.fail(kRange, std::string("activationParams[") + std::to_string(k) + "] is NaN");
    }
    return std::pair<float, float>(static_cast<float>(d[0]), static_cast<float>(d[1]));
  };
  if (kind == "none") {
    e.kind = lowbit::F32Activation::kNone;
  } else if (kind == "relu") {
    e.kind = lowbit::F32Activation::kClip;
    e.min = 0.0f;
  } else if (kind == "clip") {
    e.kind = lowbit::F32Activation::kClip;
    std::tie(e.min, e.max) = two("min, max");
    if (e.min > e.max) args.fail(kRange, "clip min " + std::to_string(e.min) + " is above max " + std::to_string(e.max));
  } else if (kind == "hardswish") {
    e.kind = lowbit::F32Activation::kHardSwish;
  } else if (kind == "hardsigmoid") {
    e.kind = lowbit::F32Activation::kHardSigmoid;
    std::tie(e.alpha, e.beta) = two("alpha, beta");
    if (!std::isfinite(e.alpha) || !std::isfinite(e.beta)) args.fail(kRange, "hardsigmoid alpha and beta must be finite");
  } else {
    args.fail(kArg, "activation must be 'none', 'relu', 'clip', 'hardswish' or 'hardsigmoid', got '" + kind + "'");
  }
  return e;
}

// A Float32Array of `count` values, or null (returns nullptr).
const float* optional_floats(const Args& args, size_t i, const char* what, size_t count) {
  if (args.is_null(i)) return nullptr;
  return args.typed<float>(i, what, napi_float32_array, count);
}

// Input and output must not share memory: the kernels read the input while
// writing the output.
void check_disjoint(const Args& args, const lowbit::BufferRef& a, size_t a_bytes, const lowbit::BufferRef& b,
                    size_t b_bytes) {
  if ((a.fixed == nullptr) != (b.fixed == nullptr)) return;  // an arena slot and a constant
  const uintptr_t a0 = a.fixed != nullptr ? reinterpret_cast<uintptr_t>(a.fixed) : a.offset;
  const uintptr_t b0 = b.fixed != nullptr ? reinterpret_cast<uintptr_t>(b.fixed) : b.offset;
  if (a0 < b0 + b_bytes && b0 < a0 + a_bytes && a_bytes > 0 && b_bytes > 0) {
    args.fail(kArg, "x and out overlap; the output must be a separate buffer");
  }
}

void check_path(const Args& args, const lowbit::F32Path* packed_for, const char* what) {
  const lowbit::F32Path& active = active_f32_path();
  if (packed_for != &active) {
    args.fail(kIsa, std::string(what) + " was packed for the " + packed_for->name + " fp32 kernels but the active path (" +
                        lowbit::isa_name(active_isa()) + ") runs " + active.name + "; pack it again");
  }
}

// ---------------------------------------------------------------- handles

class PackedConvF32Handle : public Napi::ObjectWrap<PackedConvF32Handle> {
 public:
  static Napi::Function Define(Napi::Env env) {
    Napi::Function fn = DefineClass(env, "PackedConvF32", {
        InstanceAccessor("m", &PackedConvF32Handle::Get<&lowbit::PackedConvF32::m>, nullptr),
        InstanceAccessor("cg", &PackedConvF32Handle::Get<&lowbit::PackedConvF32::cg>, nullptr),
        InstanceAccessor("kh", &PackedConvF32Handle::Get<&lowbit::PackedConvF32::kh>, nullptr),
        InstanceAccessor("kw", &PackedConvF32Handle::Get<&lowbit::PackedConvF32::kw>, nullptr),
        InstanceAccessor("groups", &PackedConvF32Handle::Get<&lowbit::PackedConvF32::groups>, nullptr),
        InstanceAccessor("depthwise", &PackedConvF32Handle::GetDepthwise, nullptr),
        InstanceAccessor("kernels", &PackedConvF32Handle::GetKernels, nullptr),
        InstanceAccessor("byteLength", &PackedConvF32Handle::GetByteLength, nullptr),
    });
    ctor_ = new Napi::FunctionReference(Napi::Persistent(fn));
    return fn;
  }

  // new PackedConvF32(weights [m][cg][kh][kw], m, cg, kh, kw, groups, bias [m] | null)
  explicit PackedConvF32Handle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PackedConvF32Handle>(info) {
    Args args(info, "PackedConvF32", 7);
    const size_t m = args.size(1, "m"), cg = args.size(2, "cg"), kh = args.size(3, "kh"), kw = args.size(4, "kw");
    const size_t groups = args.size(5, "groups");
    if (m == 0 || cg == 0 || kh == 0 || kw == 0 || groups == 0) args.fail(kShape, "m, cg, kh, kw and groups must be positive");
    if (m % groups != 0) args.fail(kShape, "m (" + std::to_string(m) + ") is not a multiple of groups (" + std::to_string(groups) + ")");
    if (kh > static_cast<size_t>(kMaxGeometry) || kw > static_cast<size_t>(kMaxGeometry)) args.fail(kRange, "kernel too large");
    const size_t count = checked_mul(args, checked_mul(args, m, cg, "weights"), checked_mul(args, kh, kw, "weights"), "weights");
    checked_mul(args, checked_mul(args, cg, groups, "channels"), kh * kw, "weights");
    const float* w = args.typed<float>(0, "weights", napi_float32_array, count);
    const float* bias = optional_floats(args, 6, "bias", m);
    lowbit::pack_conv2d_f32(active_f32_path(), w, bias, m, cg, kh, kw, groups, &packed_);
  }

  static PackedConvF32Handle& From(const Args& args, size_t i) {
    if (!args[i].IsObject() || !args[i].As<Napi::Object>().InstanceOf(ctor_->Value())) {
      args.fail(kArg, "packed must be a PackedConvF32 (from ops.packConv2d)");
    }
    return *Unwrap(args[i].As<Napi::Object>());
  }

  const lowbit::PackedConvF32& packed() const { return packed_; }

  // The plan for this geometry: the last one when it matches (a runtime calls
  // with the same shape again and again), else a new one.
  std::shared_ptr<const lowbit::ConvF32Plan> plan(const lowbit::Conv2dParams& p) {
    if (plan_ == nullptr || !same(plan_->p, p)) {
      auto fresh = std::make_shared<lowbit::ConvF32Plan>();
      lowbit::plan_conv2d_f32(packed_, p, fresh.get());
      plan_ = std::move(fresh);
    }
    return plan_;
  }

 private:
  static bool same(const lowbit::Conv2dParams& a, const lowbit::Conv2dParams& b) {
    return a.n == b.n && a.h == b.h && a.w == b.w && a.c == b.c && a.m == b.m && a.kh == b.kh && a.kw == b.kw &&
           a.groups == b.groups && a.pad_top == b.pad_top && a.pad_left == b.pad_left && a.pad_bottom == b.pad_bottom &&
           a.pad_right == b.pad_right && a.stride_h == b.stride_h && a.stride_w == b.stride_w &&
           a.dilation_h == b.dilation_h && a.dilation_w == b.dilation_w;
  }
  template <size_t lowbit::PackedConvF32::*F>
  Napi::Value Get(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(packed_.*F));
  }
  Napi::Value GetDepthwise(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), packed_.depthwise); }
  Napi::Value GetKernels(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), packed_.path->name); }
  Napi::Value GetByteLength(const Napi::CallbackInfo& info) {
    size_t bytes = packed_.dw.weights.size() + packed_.dw.bias.size();
    for (const auto& b : packed_.group_b) bytes += b.data.size() + b.bias.size();
    return Napi::Number::New(info.Env(), static_cast<double>(bytes));
  }

  lowbit::PackedConvF32 packed_;
  std::shared_ptr<const lowbit::ConvF32Plan> plan_;
  static Napi::FunctionReference* ctor_;
};
Napi::FunctionReference* PackedConvF32Handle::ctor_ = nullptr;

class PackedConvTransposeF32Handle : public Napi::ObjectWrap<PackedConvTransposeF32Handle> {
 public:
  static Napi::Function Define(Napi::Env env) {
    Napi::Function fn = DefineClass(env, "PackedConvTransposeF32", {
        InstanceAccessor("c", &PackedConvTransposeF32Handle::Get<&lowbit::PackedConvTransposeF32::c>, nullptr),
        InstanceAccessor("mg", &PackedConvTransposeF32Handle::Get<&lowbit::PackedConvTransposeF32::mg>, nullptr),
        InstanceAccessor("kh", &PackedConvTransposeF32Handle::Get<&lowbit::PackedConvTransposeF32::kh>, nullptr),
        InstanceAccessor("kw", &PackedConvTransposeF32Handle::Get<&lowbit::PackedConvTransposeF32::kw>, nullptr),
        InstanceAccessor("groups", &PackedConvTransposeF32Handle::Get<&lowbit::PackedConvTransposeF32::groups>, nullptr),
        InstanceAccessor("kernels", &PackedConvTransposeF32Handle::GetKernels, nullptr),
        InstanceAccessor("byteLength", &PackedConvTransposeF32Handle::GetByteLength, nullptr),
    });
    ctor_ = new Napi::FunctionReference(Napi::Persistent(fn));
    return fn;
  }

  // new PackedConvTransposeF32(weights [c][mg][kh][kw], c, mg, kh, kw, groups, bias [mg*groups] | null)
  explicit PackedConvTransposeF32Handle(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<PackedConvTransposeF32Handle>(info) {
    Args args(info, "PackedConvTransposeF32", 7);
    const size_t c = args.size(1, "c"), mg = args.size(2, "mg"), kh = args.size(3, "kh"), kw = args.size(4, "kw");
    const size_t groups = args.size(5, "groups");
    if (c == 0 || mg == 0 || kh == 0 || kw == 0 || groups == 0) args.fail(kShape, "c, mg, kh, kw and groups must be positive");
    if (c % groups != 0) args.fail(kShape, "c (" + std::to_string(c) + ") is not a multiple of groups (" + std::to_string(groups) + ")");
    if (kh > static_cast<size_t>(kMaxGeometry) || kw > static_cast<size_t>(kMaxGeometry)) args.fail(kRange, "kernel too large");
    const size_t count = checked_mul(args, checked_mul(args, c, mg, "weights"), checked_mul(args, kh, kw, "weights"), "weights");
    const size_t m = checked_mul(args, mg, groups, "bias");
    const float* w = args.typed<float>(0, "weights", napi_float32_array, count);
    const float* bias = optional_floats(args, 6, "bias", m);
    lowbit::pack_conv_transpose2d_f32(active_f32_path(), w, bias, c, mg, kh, kw, groups, &packed_);
  }

  static PackedConvTransposeF32Handle& From(const Args& args, size_t i) {
    if (!args[i].IsObject() || !args[i].As<Napi::Object>().InstanceOf(ctor_->Value())) {
      args.fail(kArg, "packed must be a PackedConvTransposeF32 (from ops.packConvTranspose)");
    }
    return *Unwrap(args[i].As<Napi::Object>());
  }
  const lowbit::PackedConvTransposeF32& packed() const { return packed_; }

 private:
  template <size_t lowbit::PackedConvTransposeF32::*F>
  Napi::Value Get(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(packed_.*F));
  }
  Napi::Value GetKernels(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), packed_.path->name); }
  Napi::Value GetByteLength(const Napi::CallbackInfo& info) {
    size_t bytes = packed_.bias.size() * sizeof(float);
    for (const auto& b : packed_.group_b) bytes += b.data.size() + b.bias.size();
    return Napi::Number::New(info.Env(), static_cast<double>(bytes));
  }

  lowbit::PackedConvTransposeF32 packed_;
  static Napi::FunctionReference* ctor_;
};
Napi::FunctionReference* PackedConvTransposeF32Handle::ctor_ = nullptr;

class PackedMatrixF32Handle : public Napi::ObjectWrap<PackedMatrixF32Handle> {
 public:
  static Napi::Function Define(Napi::Env env) {
    Napi::Function fn = DefineClass(env, "PackedMatrixF32", {
        InstanceAccessor("k", &PackedMatrixF32Handle::GetK, nullptr),
        InstanceAccessor("n", &PackedMatrixF32Handle::GetN, nullptr),
        InstanceAccessor("kernels", &PackedMatrixF32Handle::GetKernels, nullptr),
        InstanceAccessor("byteLength", &PackedMatrixF32Handle::GetByteLength, nullptr),
    });
    ctor_ = new Napi::FunctionReference(Napi::Persistent(fn));
    return fn;
  }

  // new PackedMatrixF32(b, k, n, transposed, bias [n] | null): b is [k][n], or [n][k] when transposed.
  explicit PackedMatrixF32Handle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PackedMatrixF32Handle>(info) {
    Args args(info, "PackedMatrixF32", 5);
    const size_t k = args.size(1, "k"), n = args.size(2, "n");
    if (k == 0 || n == 0) args.fail(kShape, "k and n must be positive, got k=" + std::to_string(k) + " n=" + std::to_string(n));
    const bool transposed = args.boolean(3, "transposed");
    const float* b = args.typed<float>(0, "b", napi_float32_array, checked_mul(args, k, n, "b"));
    const float* bias = optional_floats(args, 4, "bias", n);
    path_ = &active_f32_path();
    lowbit::pack_f32_matrix(*path_, b, k, n, transposed ? 1 : n, transposed ? k : 1, bias, &packed_);
  }

  static PackedMatrixF32Handle& From(const Args& args, size_t i) {
    if (!args[i].IsObject() || !args[i].As<Napi::Object>().InstanceOf(ctor_->Value())) {
      args.fail(kArg, "b must be a PackedMatrixF32 (from ops.packGemmF32)");
    }
    return *Unwrap(args[i].As<Napi::Object>());
  }
  const lowbit::PackedF32Matrix& packed() const { return packed_; }
  const lowbit::F32Path* path() const { return path_; }

 private:
  Napi::Value GetK(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(packed_.k)); }
  Napi::Value GetN(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(packed_.n)); }
  Napi::Value GetKernels(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), path_->name); }
  Napi::Value GetByteLength(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(packed_.data.size() + packed_.bias.size()));
  }

  lowbit::PackedF32Matrix packed_;
  const lowbit::F32Path* path_ = nullptr;
  static Napi::FunctionReference* ctor_;
};
Napi::FunctionReference* PackedMatrixF32Handle::ctor_ = nullptr;

// Reads pads [top, left, bottom, right], strides [h, w], dilations [h, w] from args i..i+2.
void read_geometry(const Args& args, size_t i, lowbit::Conv2dParams* p) {
  const std::vector<size_t> pads = small_ints(args, i, "pads", 4, 0, kMaxGeometry);
  const std::vector<size_t> strides = small_ints(args, i + 1, "strides", 2, 1, kMaxGeometry);
  const std::vector<size_t> dilations = small_ints(args, i + 2, "dilations", 2, 1, kMaxGeometry);
  p->pad_top = pads[0];
  p->pad_left = pads[1];
  p->pad_bottom = pads[2];
  p->pad_right = pads[3];
  p->stride_h = strides[0];
  p->stride_w = strides[1];
  p->dilation_h = dilations[0];
  p->dilation_w = dilations[1];
}

void read_input_extent(const Args& args, size_t i, lowbit::Conv2dParams* p) {
  p->n = args.size(i, "n");
  p->h = args.size(i + 1, "h");
  p->w = args.size(i + 2, "w");
  if (p->h > static_cast<size_t>(kMaxGeometry) || p->w > static_cast<size_t>(kMaxGeometry)) {
    args.fail(kRange, "h and w must be at most 2^24");
  }
}

// ---------------------------------------------------------------- ops

// convF32(packed, x [n,h,w,c], n, h, w, pads, strides, dilations, activation, activationParams,
//         out [n,oh,ow,m][, program])
Napi::Value ConvF32(const Napi::CallbackInfo& info) {
  OpCall call(info, "convF32", 11);
  const Args& args = call.args();
  PackedConvF32Handle& handle = PackedConvF32Handle::From(args, 0);
  const lowbit::PackedConvF32& packed = handle.packed();
  check_path(args, packed.path, "packed");
  lowbit::Conv2dParams p;
  read_input_extent(args, 2, &p);
  read_geometry(args, 5, &p);
  p.c = packed.cg * packed.groups;
  p.m = packed.m;
  p.kh = packed.kh;
  p.kw = packed.kw;
  p.groups = packed.groups;
  const lowbit::F32Epilogue e = epilogue(args, 8, 9);
  const size_t in_count = checked_mul(args, checked_mul(args, p.n, p.h, "x"), checked_mul(args, p.w, p.c, "x"), "x");
  const size_t oh = lowbit::conv_out_extent(p.h, p.kh, p.pad_top, p.pad_bottom, p.stride_h, p.dilation_h);
  const size_t ow = lowbit::conv_out_extent(p.w, p.kw, p.pad_left, p.pad_right, p.stride_w, p.dilation_w);
  if (oh == 0 || ow == 0) {
    args.fail(kShape, "the padded input (" + std::to_string(p.h + p.pad_top + p.pad_bottom) + " x " +
                          std::to_string(p.w + p.pad_left + p.pad_right) + ") is smaller than the dilated " +
                          std::to_string(p.kh) + " x " + std::to_string(p.kw) + " filter");
  }
  const size_t out_count = checked_mul(args, checked_mul(args, p.n, oh, "out"), checked_mul(args, ow, p.m, "out"), "out");
  checked_mul(args, checked_mul(args, p.n * oh * ow, p.kh * p.kw, "indirection"), sizeof(size_t), "indirection");
  const lowbit::BufferRef x = call.tensor<float>(1, "x", napi_float32_array, in_count);
  const lowbit::BufferRef out = call.tensor<float>(10, "out", napi_float32_array, out_count);
  check_disjoint(args, x, in_count * sizeof(float), out, out_count * sizeof(float));
  std::shared_ptr<const lowbit::ConvF32Plan> plan = handle.plan(p);
  call.keep(args[0].As<Napi::Object>());
  const lowbit::PackedConvF32* w = &packed;
  const double macs = static_cast<double>(out_count) * static_cast<double>(p.kh * p.kw * packed.cg);
  return call.finish(packed.depthwise ? "convF32 depthwise" : "convF32", [=](uint8_t* arena) {
    lowbit::conv2d_f32(*w, *plan, x.get<const float>(arena), out.get<float>(arena), e, &lowbit::default_thread_pool());
  }, 2.0 * macs);
}

// convTransposeF32(packed, x [n,h,w,c], n, h, w, pads, strides, dilations, outputPadding, activation,
//                  activationParams, out [n,oh,ow,m][, program])
Napi::Value ConvTransposeF32(const Napi::CallbackInfo& info) {
  OpCall call(info, "convTransposeF32", 12);
  const Args& args = call.args();
  const lowbit::PackedConvTransposeF32& packed = PackedConvTransposeF32Handle::From(args, 0).packed();
  check_path(args, packed.path, "packed");
  lowbit::Conv2dParams p;
  read_input_extent(args, 2, &p);
  read_geometry(args, 5, &p);
  const std::vector<size_t> out_pad = small_ints(args, 8, "outputPadding", 2, 0, kMaxGeometry);
  p.out_pad_h = out_pad[0];
  p.out_pad_w = out_pad[1];
  if (p.out_pad_h >= std::max(p.stride_h, p.dilation_h) || p.out_pad_w >= std::max(p.stride_w, p.dilation_w)) {
    args.fail(kRange, "outputPadding must be smaller than the stride or the dilation along its axis");
  }
  p.c = packed.c;
  p.m = packed.mg * packed.groups;
  p.kh = packed.kh;
  p.kw = packed.kw;
  p.groups = packed.groups;
  const lowbit::F32Epilogue e = epilogue(args, 9, 10);
  const size_t in_count = checked_mul(args, checked_mul(args, p.n, p.h, "x"), checked_mul(args, p.w, p.c, "x"), "x");
  if (p.h == 0 || p.w == 0) args.fail(kShape, "h and w must be positive");
  const size_t oh = lowbit::conv_transpose_out_extent(p.h, p.kh, p.pad_top, p.pad_bottom, p.stride_h, p.dilation_h, p.out_pad_h);
  const size_t ow = lowbit::conv_transpose_out_extent(p.w, p.kw, p.pad_left, p.pad_right, p.stride_w, p.dilation_w, p.out_pad_w);
  if (oh == 0 || ow == 0) args.fail(kShape, "the pads leave no output (" + std::to_string(oh) + " x " + std::to_string(ow) + ")");
  const size_t out_count = checked_mul(args, checked_mul(args, p.n, oh, "out"), checked_mul(args, ow, p.m, "out"), "out");
  const lowbit::BufferRef x = call.tensor<float>(1, "x", napi_float32_array, in_count);
  const lowbit::BufferRef out = call.tensor<float>(11, "out", napi_float32_array, out_count);
  check_disjoint(args, x, in_count * sizeof(float), out, out_count * sizeof(float));
  call.keep(args[0].As<Napi::Object>());
  const lowbit::PackedConvTransposeF32* w = &packed;
  const double macs = static_cast<double>(in_count) * static_cast<double>(p.kh * p.kw * packed.mg);
  return call.finish("convTransposeF32", [=](uint8_t* arena) {
    lowbit::conv_transpose2d_f32(*w, p, x.get<const float>(arena), out.get<float>(arena), e, &lowbit::default_thread_pool());
  }, 2.0 * macs);
}

// gemmF32(b, a [m,k], m, out [m,n], activation, activationParams[, program])
Napi::Value GemmF32(const Napi::CallbackInfo& info) {
  OpCall call(info, "gemmF32", 6);
  const Args& args = call.args();
  const PackedMatrixF32Handle& handle = PackedMatrixF32Handle::From(args, 0);
  check_path(args, handle.path(), "b");
  const lowbit::PackedF32Matrix* b = &handle.packed();
  const size_t m = args.size(2, "m");
  const lowbit::F32Epilogue e = epilogue(args, 4, 5);
  const size_t a_count = checked_mul(args, m, b->k, "a"), out_count = checked_mul(args, m, b->n, "out");
  const lowbit::BufferRef a = call.tensor<float>(1, "a", napi_float32_array, a_count);
  const lowbit::BufferRef out = call.tensor<float>(3, "out", napi_float32_array, out_count);
  check_disjoint(args, a, a_count * sizeof(float), out, out_count * sizeof(float));
  call.keep(args[0].As<Napi::Object>());
  const lowbit::F32Path* path = handle.path();
  return call.finish("gemmF32", [=](uint8_t* arena) {
    lowbit::F32GemmArgs g;
    g.m = m;
    g.a = a.get<const float>(arena);
    g.a_stride = b->k;
    g.b = b;
    g.c = out.get<float>(arena);
    g.c_stride = b->n;
    g.epilogue = e;
    lowbit::gemm_f32(*path, g, &lowbit::default_thread_pool());
  }, 2.0 * static_cast<double>(m) * static_cast<double>(b->n) * static_cast<double>(b->k));
}

}  // namespace

void register_conv_f32(Napi::Env env, Napi::Object exports) {
  exports.Set("PackedConvF32", PackedConvF32Handle::Define(env));
  exports.Set("PackedConvTransposeF32", PackedConvTransposeF32Handle::Define(env));
  exports.Set("PackedMatrixF32", PackedMatrixF32Handle::Define(env));
  exports.Set("convF32", Napi::Function::New(env, ConvF32, "convF32"));
  exports.Set("convTransposeF32", Napi::Function::New(env, ConvTransposeF32, "convTransposeF32"));
  exports.Set("gemmF32", Napi::Function::New(env, GemmF32, "gemmF32"));
}

}  // namespace lowbit_addon
