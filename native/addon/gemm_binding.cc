// packMatrix / gemm: the int8 GEMM through the active kernel path.
#include <cmath>
#include <string>

#include "args.h"
#include "op_call.h"
#include "bindings.h"
#include "lowbit/thread_pool.h"
#include "state.h"
#include "wrapped.h"

namespace lowbit_addon {

Napi::FunctionReference* PackedMatrixHandle::ctor_ = nullptr;
Napi::FunctionReference* RequantizationHandle::ctor_ = nullptr;

Napi::Function PackedMatrixHandle::Define(Napi::Env env) {
  Napi::Function fn = DefineClass(env, "PackedMatrix", {
      InstanceAccessor("k", &PackedMatrixHandle::GetK, nullptr),
      InstanceAccessor("n", &PackedMatrixHandle::GetN, nullptr),
      InstanceAccessor("isa", &PackedMatrixHandle::GetIsa, nullptr),
      InstanceAccessor("byteLength", &PackedMatrixHandle::GetByteLength, nullptr),
  });
  ctor_ = new Napi::FunctionReference(Napi::Persistent(fn));
  return fn;
}

Napi::Value PackedMatrixHandle::GetK(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(packed_.k));
}
Napi::Value PackedMatrixHandle::GetN(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(packed_.n));
}
Napi::Value PackedMatrixHandle::GetIsa(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), lowbit::isa_name(packed_.isa));
}
Napi::Value PackedMatrixHandle::GetByteLength(const Napi::CallbackInfo& info) {
  const size_t bytes = packed_.data.size() + 4 * (packed_.column_sum.size() + packed_.zero_point_s8.size());
  return Napi::Number::New(info.Env(), static_cast<double>(bytes));
}

PackedMatrixHandle::PackedMatrixHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PackedMatrixHandle>(info) {
  Args args(info, "packMatrix", 4);
  const size_t k = args.size(1, "k");
  const size_t n = args.size(2, "n");
  if (k == 0 || n == 0) args.fail(kShape, "k and n must be positive, got k=" + std::to_string(k) + " n=" + std::to_string(n));
  bool b_signed = false;
  const void* b = args.bytes(0, "b", checked_mul(args, k, n, "b"), &b_signed);
  std::vector<int32_t> zp;
  if (!args[3].IsTypedArray() || args[3].As<Napi::TypedArray>().ElementLength() != 0) {
    size_t count = 0;
    const int32_t* z = args.params<int32_t>(3, "zeroPoint", napi_int32_array, n, &count);
    const int32_t lo = b_signed ? -128 : 0, hi = b_signed ? 127 : 255;
    for (size_t i = 0; i < count; ++i) {
      if (z[i] < lo || z[i] > hi) {
        args.fail(kRange, "zeroPoint[" + std::to_string(i) + "] = " + std::to_string(z[i]) +
                              " is outside the " + (b_signed ? "int8" : "uint8") + " range");
      }
    }
    zp.assign(z, z + count);
  }
  lowbit::pack_matrix(active_gemm_path(), b, b_signed, k, n, n, zp, &packed_);
}

const PackedMatrixHandle& PackedMatrixHandle::From(const Args& args, size_t i, const char* what) {
  if (!args[i].IsObject() || !args[i].As<Napi::Object>().InstanceOf(ctor_->Value())) {
    args.fail(kArg, std::string(what) + " must be a PackedMatrix (from ops.packMatrix)");
  }
  return *Unwrap(args[i].As<Napi::Object>());
}

Napi::Function RequantizationHandle::Define(Napi::Env env) {
  Napi::Function fn = DefineClass(env, "Requantization", {
      InstanceAccessor("channels", &RequantizationHandle::GetChannels, nullptr),
  });
  ctor_ = new Napi::FunctionReference(Napi::Persistent(fn));
  return fn;
}

Napi::Value RequantizationHandle::GetChannels(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(rq_.channels()));
}

RequantizationHandle::RequantizationHandle(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<RequantizationHandle>(info) {
  Args args(info, "Requantization", 10);
  const std::string mode = args.string(0, "mode");
  lowbit::Requantization& rq = rq_;
  rq.out_signed = args.boolean(8, "outSigned");
  const int64_t lo = rq.out_signed ? -128 : 0, hi = rq.out_signed ? 127 : 255;
  rq.zero_point = args.int32(5, "zeroPoint", lo, hi);
  rq.qmin = args.int32(6, "min", lo, hi);
  rq.qmax = args.int32(7, "max", lo, hi);
  if (rq.qmin > rq.qmax) args.fail(kRange, "min " + std::to_string(rq.qmin) + " is above max " + std::to_string(rq.qmax));
  auto vec_of = [&](size_t i, const char* what, napi_typedarray_type type, auto* out) {
    using T = typename std::remove_pointer_t<decltype(out)>::value_type;
    if (!args[i].IsTypedArray()) args.fail(kArg, std::string(what) + " must be a typed array");
    const size_t len = args[i].As<Napi::TypedArray>().ElementLength();
    if (len == 0) args.fail(kShape, std::string(what) + " is empty");
    const T* p = args.typed<T>(i, what, type, len);
    out->assign(p, p + len);
  };
  if (mode == "fp32") {
    rq.mode = lowbit::RequantMode::kFp32;
    vec_of(1, "scale", napi_float32_array, &rq.scale);
    for (size_t i = 0; i < rq.scale.size(); ++i) {
      if (!(rq.scale[i] > 0.0f) || !std::isfinite(rq.scale[i])) {
        args.fail(kRange, "scale[" + std::to_string(i) + "] must be a positive finite number, got " + std::to_string(rq.scale[i]));
      }
    }
  } else if (mode == "fixedpoint") {
    rq.mode = lowbit::RequantMode::kFixedpoint;
    vec_of(2, "multiplier", napi_int32_array, &rq.multiplier);
    vec_of(3, "shift", napi_int32_array, &rq.shift);
    if (rq.multiplier.size() != rq.shift.size()) {
      args.fail(kShape, "multiplier has " + std::to_string(rq.multiplier.size()) + " values but shift has " +
                            std::to_string(rq.shift.size()));
    }
    for (size_t i = 0; i < rq.shift.size(); ++i) {
      if (rq.multiplier[i] < 0) args.fail(kRange, "multiplier[" + std::to_string(i) + "] must be in [0, 2^31-1]");
      if (rq.shift[i] < -31 || rq.shift[i] > 30) {
        args.fail(kRange, "shift[" + std::to_string(i) + "] must be in [-31, 30], got " + std::to_string(rq.shift[i]));
      }
    }
  } else {
    args.fail(kArg, "mode must be 'fp32' or 'fixedpoint', got '" + mode + "'");
  }
  if (!args.is_null(9)) {
    // HardSwish before the clamp (lowbit/requantize.h): argument 9 is the output's y_scale.
    if (rq.mode != lowbit::RequantMode::kFp32) args.fail(kArg, "hardSwish needs mode 'fp32'");
    if (!args[9].IsNumber()) args.fail(kArg, "hardSwish yScale must be a number");
    const double y_scale = args[9].As<Napi::Number>().DoubleValue();
    if (!(y_scale > 0) || !std::isfinite(y_scale) || y_scale > 1e30) {
      args.fail(kRange, "hardSwish yScale must be a positive finite number, got " + std::to_string(y_scale));
    }
    // |acc * scale| stays finite (x * t is then never inf * 0).
    for (size_t i = 0; i < rq.scale.size(); ++i) {
      if (rq.scale[i] > 1e29f) args.fail(kRange, "scale[" + std::to_string(i) + "] above 1e29 with hardSwish");
    }
    rq.hardswish = true;
    rq.hardswish_k = static_cast<float>(y_scale) / 6.0f;
  }
  if (!args.is_null(4)) vec_of(4, "bias", napi_int32_array, &rq.bias);
  const size_t params = rq.mode == lowbit::RequantMode::kFp32 ? rq.scale.size() : rq.multiplier.size();
  if (params > 1 && rq.bias.size() > 1 && params != rq.bias.size()) {
    args.fail(kShape, "bias has " + std::to_string(rq.bias.size()) + " values but the scale has " + std::to_string(params));
  }
}

const RequantizationHandle& RequantizationHandle::From(const Args& args, size_t i, const char* what) {
  if (!args[i].IsObject() || !args[i].As<Napi::Object>().InstanceOf(ctor_->Value())) {
    args.fail(kArg, std::string(what) + " must be a Requantization");
  }
  return *Unwrap(args[i].As<Napi::Object>());
}

namespace {

// gemm(packed, a, m, aZeroPoint, out, rq|null[, program]): out = A[m x k] * packed[k x n].
Napi::Value Gemm(const Napi::CallbackInfo& info) {
  OpCall call(info, "gemm", 6);
  const Args& args = call.args();
  const PackedMatrixHandle& handle = PackedMatrixHandle::From(args, 0, "b");
  const lowbit::PackedMatrix& b = handle.packed();
  if (b.isa != active_isa()) {
    args.fail(kIsa, std::string("b was packed for the ") + lowbit::isa_name(b.isa) +
                        " path but the active path is " + lowbit::isa_name(active_isa()) + "; pack it again");
  }
  const size_t m = args.size(2, "m");
  bool a_signed = false;
  const lowbit::BufferRef a = call.bytes(1, "a", checked_mul(args, m, b.k, "a"), &a_signed);
  const int32_t a_zp = args.int32(3, "aZeroPoint", a_signed ? -128 : 0, a_signed ? 127 : 255);
  const size_t count = checked_mul(args, m, b.n, "out");
  const lowbit::Requantization* rq = nullptr;
  lowbit::BufferRef c;
  if (args.is_null(5)) {
    c = call.tensor<int32_t>(4, "out", napi_int32_array, count);
  } else {
    const RequantizationHandle& rq_handle = RequantizationHandle::From(args, 5, "requantization");
    rq = &rq_handle.rq();
    const size_t channels = rq->channels();
    if (channels != 1 && channels != b.n) {
      args.fail(kShape, "requantization has " + std::to_string(channels) + " channels, the output has " +
                            std::to_string(b.n) + " columns");
    }
    c = rq->out_signed ? call.tensor<int8_t>(4, "out", napi_int8_array, count)
                       : call.tensor<uint8_t>(4, "out", napi_uint8_array, count);
    call.keep(args[5].As<Napi::Object>());
  }
  call.keep(args[0].As<Napi::Object>());
  const lowbit::GemmPath* path = &active_gemm_path();
  const lowbit::PackedMatrix* packed = &b;
  return call.finish("gemm", [=](uint8_t* arena) {
    if (m == 0) return;
    lowbit::GemmArgs g;
    g.m = m;
    g.a = a.get<const uint8_t>(arena);
    g.a_stride = packed->k;
    g.a_signed = a_signed;
    g.a_zero_point = a_zp;
    g.b = packed;
    g.c_stride = packed->n;
    g.rq = rq;
    g.c = c.get<uint8_t>(arena);
    lowbit::gemm_parallel(*path, g, lowbit::default_thread_pool());
  }, 2.0 * static_cast<double>(m) * static_cast<double>(b.n) * static_cast<double>(b.k));
}

}  // namespace

void register_gemm(Napi::Env env, Napi::Object exports) {
  exports.Set("PackedMatrix", PackedMatrixHandle::Define(env));
  exports.Set("Requantization", RequantizationHandle::Define(env));
  exports.Set("gemm", Napi::Function::New(env, Gemm, "gemm"));
}

}  // namespace lowbit_addon
