// int4 weight-only GEMM (lowbit/int4_gemm.h): PackedInt4 packs weights once
// into the ISA-independent 4-bit tiles; int4Gemm follows the OpCall convention
// (run now on typed arrays, or record a step over slots when a Program comes
// last). The kernel path is looked up when the step runs: the packing is the
// same for every path, so a matrix never needs packing again after setIsa.
#include <cmath>
#include <string>

#include "args.h"
#include "bindings.h"
#include "lowbit/int4_gemm.h"
#include "lowbit/thread_pool.h"
#include "op_call.h"
#include "state.h"

namespace lowbit_addon {
namespace {

class PackedInt4Handle : public Napi::ObjectWrap<PackedInt4Handle> {
 public:
  static Napi::Function Define(Napi::Env env) {
    Napi::Function fn = DefineClass(env, "PackedInt4", {
        InstanceAccessor("n", &PackedInt4Handle::GetN, nullptr),
        InstanceAccessor("k", &PackedInt4Handle::GetK, nullptr),
        InstanceAccessor("blockSize", &PackedInt4Handle::GetBlockSize, nullptr),
        InstanceAccessor("blocks", &PackedInt4Handle::GetBlocks, nullptr),
        InstanceAccessor("hasBias", &PackedInt4Handle::GetHasBias, nullptr),
        InstanceAccessor("byteLength", &PackedInt4Handle::GetByteLength, nullptr),
    });
    ctor_ = new Napi::FunctionReference(Napi::Persistent(fn));
    return fn;
  }

  // new PackedInt4(weights, format 'int8' | 'onnx', n, k, kMajor, scales, blockSize, bias | null)
  //  'int8': Int8Array of n * k values in [-8, 7]; 'onnx': Uint8Array of ceil(n * k / 2)
  //  bytes (ONNX int4: two's complement, low nibble first). kMajor false: weights [n, k]
  //  and scales [n, blocks]; true: weights [k, n] and scales [blocks, n].
  //  blockSize 0 (one scale per output channel), 32, 64 or 128.
  explicit PackedInt4Handle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PackedInt4Handle>(info) {
    Args args(info, "PackedInt4", 8);
    const std::string format = args.string(1, "format");
    if (format != "int8" && format != "onnx") args.fail(kArg, "format must be 'int8' or 'onnx', got '" + format + "'");
    const size_t n = args.size(2, "n"), k = args.size(3, "k");
    if (n == 0 || k == 0) args.fail(kShape, "n and k must be positive, got n=" + std::to_string(n) + " k=" + std::to_string(k));
    const size_t count = checked_mul(args, n, k, "weights");
    const bool k_major = args.boolean(4, "kMajor");
    const size_t block = args.size(6, "blockSize");
    if (block != 0 && block != 32 && block != 64 && block != 128) {
      args.fail(kRange, "blockSize must be 0 (per channel), 32, 64 or 128, got " + std::to_string(block));
    }
    const size_t blocks = block == 0 ? 1 : (k + block - 1) / block;
    lowbit::Int4Source src;
    src.k_major = k_major;
    if (format == "int8") {
      src.values = args.typed<int8_t>(0, "weights", napi_int8_array, count);
      for (size_t i = 0; i < count; ++i) {
        if (src.values[i] < -8 || src.values[i] > 7) {
          args.fail(kRange, "weights[" + std::to_string(i) + "] = " + std::to_string(src.values[i]) +
                                " is outside the int4 range [-8, 7]");
        }
      }
    } else {
      src.onnx_packed = args.typed<uint8_t>(0, "weights", napi_uint8_array, (count + 1) / 2);
    }
    src.scales = args.typed<float>(5, "scales", napi_float32_array, checked_mul(args, n, blocks, "scales"));
    for (size_t i = 0; i < n * blocks; ++i) {
      if (!std::isfinite(src.scales[i])) args.fail(kRange, "scales[" + std::to_string(i) + "] is not finite");
    }
    if (!args.is_null(7)) src.bias = args.typed<float>(7, "bias", napi_float32_array, n);
    lowbit::pack_int4_matrix(src, n, k, block, &packed_);
    block_size_ = block;
  }

  static PackedInt4Handle& From(const Args& args, size_t i) {
    if (!args[i].IsObject() || !args[i].As<Napi::Object>().InstanceOf(ctor_->Value())) {
      args.fail(kArg, "packed must be a PackedInt4 (from ops.packInt4Weights)");
    }
    return *Unwrap(args[i].As<Napi::Object>());
  }
  const lowbit::PackedInt4Matrix& packed() const { return packed_; }

 private:
  Napi::Value Num(const Napi::CallbackInfo& info, size_t v) { return Napi::Number::New(info.Env(), static_cast<double>(v)); }
  Napi::Value GetN(const Napi::CallbackInfo& info) { return Num(info, packed_.n); }
  Napi::Value GetK(const Napi::CallbackInfo& info) { return Num(info, packed_.k); }
  Napi::Value GetBlockSize(const Napi::CallbackInfo& info) { return Num(info, block_size_); }
  Napi::Value GetBlocks(const Napi::CallbackInfo& info) { return Num(info, packed_.blocks); }
  Napi::Value GetHasBias(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), packed_.has_bias); }
  Napi::Value GetByteLength(const Napi::CallbackInfo& info) {
    return Num(info, packed_.weights.size() + packed_.scales.size() + packed_.bias.size());
  }

  lowbit::PackedInt4Matrix packed_;
  size_t block_size_ = 0;  // as asked: 0 = per channel
  static Napi::FunctionReference* ctor_;
};
Napi::FunctionReference* PackedInt4Handle::ctor_ = nullptr;

float clamp_bound(const Args& args, size_t i, const char* what) {
  if (!args[i].IsNumber()) args.fail(kArg, std::string(what) + " must be a number");
  const double v = args[i].As<Napi::Number>().DoubleValue();
  if (std::isnan(v)) args.fail(kRange, std::string(what) + " is NaN");
  return static_cast<float>(v);
}

// int4Gemm(packed, x [m, k], m, out [m, n], clampMin, clampMax[, program])
Napi::Value Int4Gemm(const Napi::CallbackInfo& info) {
  OpCall call(info, "int4Gemm", 6);
  const Args& args = call.args();
  const lowbit::PackedInt4Matrix* w = &PackedInt4Handle::From(args, 0).packed();
  const size_t m = args.size(2, "m");
  const float lo = clamp_bound(args, 4, "clampMin"), hi = clamp_bound(args, 5, "clampMax");
  if (lo > hi) args.fail(kRange, "clampMin " + std::to_string(lo) + " is above clampMax " + std::to_string(hi));
  const size_t x_count = checked_mul(args, m, w->k, "x"), out_count = checked_mul(args, m, w->n, "out");
  const lowbit::BufferRef x = call.tensor<float>(1, "x", napi_float32_array, x_count);
  const lowbit::BufferRef out = call.tensor<float>(3, "out", napi_float32_array, out_count);
  // The kernels read x while writing out: they must not share memory.
  if ((x.fixed == nullptr) == (out.fixed == nullptr)) {
    const uintptr_t x0 = x.fixed != nullptr ? reinterpret_cast<uintptr_t>(x.fixed) : x.offset;
    const uintptr_t o0 = out.fixed != nullptr ? reinterpret_cast<uintptr_t>(out.fixed) : out.offset;
    const size_t xb = x_count * sizeof(float), ob = out_count * sizeof(float);
    if (xb > 0 && ob > 0 && x0 < o0 + ob && o0 < x0 + xb) args.fail(kArg, "x and out overlap; the output must be a separate buffer");
  }
  call.keep(args[0].As<Napi::Object>());
  return call.finish("int4Gemm", [=](uint8_t* arena) {
    lowbit::Int4GemmArgs g;
    g.m = m;
    g.x = x.get<const float>(arena);
    g.x_stride = w->k;
    g.w = w;
    g.y = out.get<float>(arena);
    g.y_stride = w->n;
    g.clamp_min = lo;
    g.clamp_max = hi;
    lowbit::int4_gemm(lowbit::int4_path_for(active_isa()), g, &lowbit::default_thread_pool());
  }, 2.0 * static_cast<double>(m) * static_cast<double>(w->n) * static_cast<double>(w->k));
}

// The int4 kernels the active path runs: ref, avx2, avx512 or neon.
Napi::Value Int4KernelPath(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), lowbit::int4_path_for(active_isa()).name);
}

}  // namespace

void register_int4(Napi::Env env, Napi::Object exports) {
  exports.Set("PackedInt4", PackedInt4Handle::Define(env));
  exports.Set("int4Gemm", Napi::Function::New(env, Int4Gemm, "int4Gemm"));
  exports.Set("int4KernelPath", Napi::Function::New(env, Int4KernelPath, "int4KernelPath"));
}

}  // namespace lowbit_addon
