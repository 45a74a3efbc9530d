// Binary (1-bit) operations: bit packing, packed binary weights, the output
// stage, XNOR-popcount GEMM and convolution, BinaryConnect GEMM. Glue only:
// every argument is checked here, then the kernels in native/kernels run.
#include <cmath>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "args.h"
#include "bindings.h"
#include "lowbit/binary.h"
#include "lowbit/thread_pool.h"
#include "op_call.h"
#include "state.h"

namespace lowbit_addon {
namespace {

using lowbit::BinaryOutputKind;
using lowbit::bit_words;

const lowbit::BinaryPath& active_binary_path() { return lowbit::binary_path_for(active_isa()); }

// Runs f, turning an allocation failure into a LowbitError (node-addon-api
// only converts Napi::Error; anything else would abort the process).
template <typename F>
void run_guarded(const Args& args, F&& f) {
  try {
    f();
  } catch (const std::bad_alloc&) {
    args.fail(kRange, "not enough memory for this call");
  }
}

size_t positive(const Args& args, size_t i, const char* what) {
  const size_t v = args.size(i, what);
  if (v == 0) args.fail(kShape, std::string(what) + " must be positive");
  return v;
}

// ---------------------------------------------------------------- output stage

class BinaryOutputHandle : public Napi::ObjectWrap<BinaryOutputHandle> {
 public:
  static Napi::Function Define(Napi::Env env) {
    Napi::Function fn = DefineClass(env, "BinaryOutput", {
        InstanceAccessor("n", &BinaryOutputHandle::GetN, nullptr),
        InstanceAccessor("kind", &BinaryOutputHandle::GetKind, nullptr),
    });
    ctor_ = new Napi::FunctionReference(Napi::Persistent(fn));
    return fn;
  }

  // new BinaryOutput(kind, n, alpha, beta, threshold|null, yScale, yZeroPoint)
  explicit BinaryOutputHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<BinaryOutputHandle>(info) {
    Args args(info, "BinaryOutput", 7);
    const std::string kind = args.string(0, "kind");
    BinaryOutputKind k;
    if (kind == "float32") {
      k = BinaryOutputKind::kFloat32;
    } else if (kind == "int8") {
      k = BinaryOutputKind::kInt8;
    } else if (kind == "bit") {
      k = BinaryOutputKind::kBits;
    } else {
      args.fail(kArg, "kind must be 'float32', 'int8' or 'bit', got '" + kind + "'");
    }
    const size_t n = positive(args, 1, "n");
    if (n > lowbit::kBinaryMaxK) args.fail(kShape, "n is too large");
    size_t alpha_count = 0, beta_count = 0, thr_count = 0;
    const float* alpha = args.params<float>(2, "alpha", napi_float32_array, n, &alpha_count);
    const float* beta = args.params<float>(3, "beta", napi_float32_array, n, &beta_count);
    const float* thr = args.is_null(4) ? nullptr : args.params<float>(4, "threshold", napi_float32_array, n, &thr_count);
    for (size_t i = 0; i < alpha_count; ++i) {
      if (!std::isfinite(alpha[i])) args.fail(kRange, "alpha[" + std::to_string(i) + "] must be finite");
    }
    for (size_t i = 0; i < beta_count; ++i) {
      if (!std::isfinite(beta[i])) args.fail(kRange, "beta[" + std::to_string(i) + "] must be finite");
    }
    for (size_t i = 0; i < thr_count; ++i) {
      if (std::isnan(thr[i])) args.fail(kRange, "threshold[" + std::to_string(i) + "] must not be NaN");
    }
    if (!args[5].IsNumber()) args.fail(kArg, "yScale must be a number");
    const double y_scale = args[5].As<Napi::Number>().DoubleValue();
    const float y_scale_f = static_cast<float>(y_scale);
    if (!(y_scale_f > 0.0f) || !std::isfinite(y_scale_f)) {
      args.fail(kRange, "yScale must be a positive finite float32, got " + std::to_string(y_scale));
    }
    const int32_t y_zp = args.int32(6, "yZeroPoint", -128, 127);
    lowbit::prepare_binary_output(k, n, alpha, alpha_count, beta, beta_count, thr, thr_count, y_scale_f, y_zp, &os_);
  }

  const lowbit::BinaryOutput& os() const { return os_; }

  static const BinaryOutputHandle& From(const Args& args, size_t i, const char* what) {
    if (!args[i].IsObject() || !args[i].As<Napi::Object>().InstanceOf(ctor_->Value())) {
      args.fail(kArg, std::string(what) + " must be a BinaryOutput");
    }
    return *Unwrap(args[i].As<Napi::Object>());
  }

 private:
  Napi::Value GetN(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(os_.n)); }
  Napi::Value GetKind(const Napi::CallbackInfo& info) {
    const char* names[] = {"float32", "int8", "bit"};
    return Napi::String::New(info.Env(), names[static_cast<int>(os_.kind)]);
  }
  lowbit::BinaryOutput os_;
  static Napi::FunctionReference* ctor_;
};
Napi::FunctionReference* BinaryOutputHandle::ctor_ = nullptr;

// ---------------------------------------------------------------- weights

// The packed-weights object at argument i (a Handle), packed for the active binary path.
template <typename Handle>
const Handle& unwrap_packed(const Args& args, size_t i, const char* what, const char* type_name,
                            const Napi::FunctionReference& ctor) {
  if (!args[i].IsObject() || !args[i].As<Napi::Object>().InstanceOf(ctor.Value())) {
    args.fail(kArg, std::string(what) + " must be a " + type_name);
  }
  const Handle& h = *Handle::Unwrap(args[i].As<Napi::Object>());
  const lowbit::BinaryPath* path = h.w().path;
  if (path != &active_binary_path()) {
    args.fail(kIsa, std::string(what) + " was packed for the " + path->name + " binary kernels but the active path (" +
                        lowbit::isa_name(active_isa()) + ") runs " + active_binary_path().name + "; pack it again");
  }
  return h;
}

class BinaryWeightsHandle : public Napi::ObjectWrap<BinaryWeightsHandle> {
 public:
  static Napi::Function Define(Napi::Env env) {
    Napi::Function fn = DefineClass(env, "BinaryWeights", {
        InstanceAccessor("n", &BinaryWeightsHandle::GetN, nullptr),
        InstanceAccessor("taps", &BinaryWeightsHandle::GetTaps, nullptr),
        InstanceAccessor("channels", &BinaryWeightsHandle::GetChannels, nullptr),
        InstanceAccessor("kernelPath", &BinaryWeightsHandle::GetPath, nullptr),
        InstanceAccessor("byteLength", &BinaryWeightsHandle::GetBytes, nullptr),
    });
    ctor_ = new Napi::FunctionReference(Napi::Persistent(fn));
    return fn;
  }

  // new BinaryWeights(bits: Uint8Array, n, taps, channels): n rows of taps
  // groups of bitRowBytes(channels) bytes.
  explicit BinaryWeightsHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<BinaryWeightsHandle>(info) {
    Args args(info, "BinaryWeights", 4);
    const size_t n = positive(args, 1, "n");
    const size_t taps = positive(args, 2, "taps");
    const size_t channels = positive(args, 3, "channels");
    const size_t k = checked_mul(args, taps, channels, "taps x channels");
    if (k > lowbit::kBinaryMaxK) {
      args.fail(kShape, "K = taps x channels = " + std::to_string(k) + " is above the limit of 2^24 bits");
    }
    const size_t row_words = checked_mul(args, taps, bit_words(channels), "row");
    const size_t bytes = checked_mul(args, checked_mul(args, n, row_words, "bits"), 8, "bits");
    const uint8_t* bits = args.typed<uint8_t>(0, "bits", napi_uint8_array, bytes);
    // Copy to aligned words (the typed array may sit at any byte offset).
    run_guarded(args, [&] {
      std::vector<uint64_t> words(n * row_words);
      std::memcpy(words.data(), bits, bytes);
      lowbit::pack_binary_weights(active_binary_path(), words.data(), n, taps, channels, row_words, &w_);
    });
  }

  const lowbit::BinaryWeights& w() const { return w_; }

  static const BinaryWeightsHandle& From(const Args& args, size_t i, const char* what) {
    return unwrap_packed<BinaryWeightsHandle>(args, i, what, "BinaryWeights", *ctor_);
  }

 private:
  Napi::Value GetN(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(w_.n)); }
  Napi::Value GetTaps(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(w_.taps)); }
  Napi::Value GetChannels(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(w_.tap_bits));
  }
  Napi::Value GetPath(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), w_.path->name); }
  Napi::Value GetBytes(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(w_.data.size() + 4 * w_.tap_sum.size()));
  }
  lowbit::BinaryWeights w_;
  static Napi::FunctionReference* ctor_;
};
Napi::FunctionReference* BinaryWeightsHandle::ctor_ = nullptr;

class BinaryWeightMatrixHandle : public Napi::ObjectWrap<BinaryWeightMatrixHandle> {
 public:
  static Napi::Function Define(Napi::Env env) {
    Napi::Function fn = DefineClass(env, "BinaryWeightMatrix", {
        InstanceAccessor("n", &BinaryWeightMatrixHandle::GetN, nullptr),
        InstanceAccessor("k", &BinaryWeightMatrixHandle::GetK, nullptr),
        InstanceAccessor("kernelPath", &BinaryWeightMatrixHandle::GetPath, nullptr),
    });
    ctor_ = new Napi::FunctionReference(Napi::Persistent(fn));
    return fn;
  }

  // new BinaryWeightMatrix(bits: Uint8Array, n, k): n rows of bitRowBytes(k) bytes.
  explicit BinaryWeightMatrixHandle(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<BinaryWeightMatrixHandle>(info) {
    Args args(info, "BinaryWeightMatrix", 3);
    const size_t n = positive(args, 1, "n");
    const size_t k = positive(args, 2, "k");
    if (k > lowbit::kBinaryMaxK || n > lowbit::kBinaryMaxK) args.fail(kShape, "n and k must be at most 2^24");
    const size_t bytes = checked_mul(args, checked_mul(args, n, bit_words(k), "bits"), 8, "bits");
    checked_mul(args, n, k, "n x k");
    const uint8_t* bits = args.typed<uint8_t>(0, "bits", napi_uint8_array, bytes);
    run_guarded(args, [&] {
      std::vector<uint64_t> words(n * bit_words(k));
      std::memcpy(words.data(), bits, bytes);
      lowbit::pack_binary_weight_matrix(active_binary_path(), words.data(), n, k, &w_);
    });
  }

  const lowbit::BinaryWeightMatrix& w() const { return w_; }

  static const BinaryWeightMatrixHandle& From(const Args& args, size_t i, const char* what) {
    return unwrap_packed<BinaryWeightMatrixHandle>(args, i, what, "BinaryWeightMatrix", *ctor_);
  }

 private:
  Napi::Value GetN(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(w_.n)); }
  Napi::Value GetK(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(w_.k)); }
  Napi::Value GetPath(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), w_.path->name); }
  lowbit::BinaryWeightMatrix w_;
  static Napi::FunctionReference* ctor_;
};
Napi::FunctionReference* BinaryWeightMatrixHandle::ctor_ = nullptr;

// The output operand for `rows` rows of the stage's kind.
lowbit::BufferRef output_operand(const OpCall& call, size_t i, const lowbit::BinaryOutput& os, size_t rows) {
  const Args& args = call.args();
  switch (os.kind) {
    case BinaryOutputKind::kFloat32:
      return call.tensor<float>(i, "out", napi_float32_array, checked_mul(args, rows, os.n, "out"));
    case BinaryOutputKind::kInt8:
      return call.tensor<int8_t>(i, "out", napi_int8_array, checked_mul(args, rows, os.n, "out"));
    case BinaryOutputKind::kBits:
      break;
  }
  return call.tensor<uint8_t>(i, "out", napi_uint8_array,
                              checked_mul(args, rows, lowbit::binary_output_row_bytes(os.kind, os.n), "out"));
}

// Bytes of `rows` packed rows of `cols` bits.
size_t bit_bytes(const Args& args, size_t rows, size_t cols, const char* what) {
  return checked_mul(args, checked_mul(args, rows, bit_words(cols), what), 8, what);
}

// An operand holding the signs of `rows` rows of `cols` values: packed bits
// (a Uint8Array, or a 'bit' slot), or float32 / int8 values binarized when the
// step runs. Sets *type to what was given.
lowbit::BufferRef sign_operand(const OpCall& call, size_t i, const char* what, size_t rows, size_t cols,
                               napi_typedarray_type* type) {
  const Args& args = call.args();
  *type = call.type_of(i, what);
  switch (*type) {
    case napi_uint8_array:
      return call.tensor<uint8_t>(i, what, napi_uint8_array, bit_bytes(args, rows, cols, what));
    case napi_float32_array:
      return call.tensor<float>(i, what, napi_float32_array, checked_mul(args, rows, cols, what));
    case napi_int8_array:
      return call.tensor<int8_t>(i, what, napi_int8_array, checked_mul(args, rows, cols, what));
    default:
      args.fail(kDtype, std::string(what) + " must be packed bits (a Uint8Array or a 'bit' slot), float32 or int8, got " +
                            typed_array_name(*type));
  }
}

// The signs of an operand as aligned packed rows, when a step runs: bits in
// place when they sit on a word, else copied; float32/int8 values binarized.
// Whatever has to be made goes to `scratch`, which is per thread (a program may
// run on several threads at once) and keeps its capacity, so planned runs
// allocate only while it grows.
const uint64_t* packed_rows(const lowbit::BinaryPath& path, napi_typedarray_type type, const uint8_t* x, size_t rows,
                            size_t cols, std::vector<uint64_t>* scratch) {
  const size_t words = rows * bit_words(cols);
  if (type == napi_uint8_array && reinterpret_cast<uintptr_t>(x) % 8 == 0) return reinterpret_cast<const uint64_t*>(x);
  if (scratch->size() < words) scratch->resize(words);
  if (type == napi_uint8_array) {
    if (words > 0) std::memcpy(scratch->data(), x, words * 8);
  } else if (type == napi_float32_array) {
    lowbit::bitpack_f32(path, reinterpret_cast<const float*>(x), rows, cols, scratch->data(),
                        &lowbit::default_thread_pool());
  } else {
    lowbit::bitpack_s8(path, reinterpret_cast<const int8_t*>(x), rows, cols, scratch->data(),
                       &lowbit::default_thread_pool());
  }
  return scratch->data();
}

std::vector<uint64_t>& step_scratch() {
  thread_local std::vector<uint64_t> scratch;
  return scratch;
}

// Argument i: a Float32Array or an Int8Array of `count` elements (its type in *type).
lowbit::BufferRef float_or_int8(const OpCall& call, size_t i, const char* name, size_t count, napi_typedarray_type* type) {
  *type = call.type_of(i, name);
  if (*type == napi_float32_array) return call.tensor<float>(i, name, napi_float32_array, count);
  if (*type != napi_int8_array) {
    call.args().fail(kDtype, std::string(name) + " must be a Float32Array or an Int8Array, got " + typed_array_name(*type));
  }
  return call.tensor<int8_t>(i, name, napi_int8_array, count);
}

// OpCall::finish, with an allocation failure of an immediate call (the
// driver's buffers) turned into a LowbitError.
Napi::Value finish(const OpCall& call, const char* label, lowbit::Step step, double cost) {
  Napi::Value result;
  run_guarded(call.args(), [&] { result = call.finish(label, std::move(step), cost); });
  return result;
}

// ---------------------------------------------------------------- functions
//
// Every function below runs now (typed arrays) or records a step (slots and a
// Program last): native/addon/op_call.h.

// bitpack(x: Float32Array|Int8Array, rows, cols, out: Uint8Array[, program])
Napi::Value Bitpack(const Napi::CallbackInfo& info) {
  OpCall call(info, "bitpack", 4);
  const Args& args = call.args();
  const size_t rows = args.size(1, "rows");
  const size_t cols = positive(args, 2, "cols");
  const size_t count = checked_mul(args, rows, cols, "x");
  const lowbit::BufferRef out = call.tensor<uint8_t>(3, "out", napi_uint8_array, bit_bytes(args, rows, cols, "out"));
  napi_typedarray_type type;
  const lowbit::BufferRef x = float_or_int8(call, 0, "x", count, &type);
  const lowbit::BinaryPath* path = &active_binary_path();
  return finish(call, "bitpack", [=](uint8_t* arena) {
    uint8_t* o = out.get<uint8_t>(arena);
    const size_t words = rows * bit_words(cols);
    const bool aligned = reinterpret_cast<uintptr_t>(o) % 8 == 0;
    std::vector<uint64_t>& scratch = step_scratch();
    if (!aligned && scratch.size() < words) scratch.resize(words);
    uint64_t* dst = aligned ? reinterpret_cast<uint64_t*>(o) : scratch.data();
    if (type == napi_float32_array) {
      lowbit::bitpack_f32(*path, x.get<const float>(arena), rows, cols, dst, &lowbit::default_thread_pool());
    } else {
      lowbit::bitpack_s8(*path, x.get<const int8_t>(arena), rows, cols, dst, &lowbit::default_thread_pool());
    }
    if (!aligned && words > 0) std::memcpy(o, dst, words * 8);
  }, static_cast<double>(count));
}

// bitunpack(bits: Uint8Array, rows, cols, out: Float32Array|Int8Array[, program])
Napi::Value Bitunpack(const Napi::CallbackInfo& info) {
  OpCall call(info, "bitunpack", 4);
  const Args& args = call.args();
  const size_t rows = args.size(1, "rows");
  const size_t cols = positive(args, 2, "cols");
  const size_t count = checked_mul(args, rows, cols, "out");
  const lowbit::BufferRef bits = call.tensor<uint8_t>(0, "bits", napi_uint8_array, bit_bytes(args, rows, cols, "bits"));
  napi_typedarray_type type;
  const lowbit::BufferRef out = float_or_int8(call, 3, "out", count, &type);
  const lowbit::BinaryPath* path = &active_binary_path();
  return finish(call, "bitunpack", [=](uint8_t* arena) {
    const uint64_t* words = packed_rows(*path, napi_uint8_array, bits.get<const uint8_t>(arena), rows, cols, &step_scratch());
    if (type == napi_float32_array) {
      lowbit::ref::bitunpack_f32(words, rows, cols, out.get<float>(arena));
    } else {
      lowbit::ref::bitunpack_s8(words, rows, cols, out.get<int8_t>(arena));
    }
  }, static_cast<double>(count));
}

// binaryConv2d(w, os, x, geometry: Int32Array [batch, inH, inW, kh, kw, strideH,
//              strideW, dilationH, dilationW, padTop, padLeft, padBottom, padRight],
//              zeroPadding: boolean, out[, program])
Napi::Value BinaryConv2d(const Napi::CallbackInfo& info) {
  OpCall call(info, "binaryConv2d", 6);
  const Args& args = call.args();
  const lowbit::BinaryWeights& w = BinaryWeightsHandle::From(args, 0, "w").w();
  const lowbit::BinaryOutput& os = BinaryOutputHandle::From(args, 1, "output").os();
  if (os.n != w.n) {
    args.fail(kShape, "the output stage has " + std::to_string(os.n) + " channels, the weights " + std::to_string(w.n));
  }
  const int32_t* g = args.typed<int32_t>(3, "geometry", napi_int32_array, 13);
  const char* names[] = {"batch", "inH", "inW", "kh", "kw", "strideH", "strideW", "dilationH", "dilationW",
                         "padTop", "padLeft", "padBottom", "padRight"};
  for (size_t i = 0; i < 13; ++i) {
    const int32_t lo = (i >= 9) ? 0 : 1;
    if (g[i] < lo) args.fail(kRange, std::string("geometry ") + names[i] + " must be at least " + std::to_string(lo) +
                                         ", got " + std::to_string(g[i]));
  }
  lowbit::BinaryConvShape s;
  s.batch = static_cast<size_t>(g[0]);
  s.in_h = static_cast<size_t>(g[1]);
  s.in_w = static_cast<size_t>(g[2]);
  s.kh = static_cast<size_t>(g[3]);
  s.kw = static_cast<size_t>(g[4]);
  s.stride_h = static_cast<size_t>(g[5]);
  s.stride_w = static_cast<size_t>(g[6]);
  s.dilation_h = static_cast<size_t>(g[7]);
  s.dilation_w = static_cast<size_t>(g[8]);
  s.pad_top = static_cast<size_t>(g[9]);
  s.pad_left = static_cast<size_t>(g[10]);
  s.pad_bottom = static_cast<size_t>(g[11]);
  s.pad_right = static_cast<size_t>(g[12]);
  s.zero_padding = args.boolean(4, "zeroPadding");
  if (s.kh > lowbit::kBinaryMaxKernel || s.kw > lowbit::kBinaryMaxKernel) {
    args.fail(kRange, "kernel " + std::to_string(s.kh) + "x" + std::to_string(s.kw) + " is above the 64x64 limit");
  }
  if (s.kh * s.kw != w.taps) {
    args.fail(kShape, "kernel " + std::to_string(s.kh) + "x" + std::to_string(s.kw) + " has " +
                          std::to_string(s.kh * s.kw) + " taps, the weights " + std::to_string(w.taps));
  }
  const size_t oh = s.out_h(), ow = s.out_w();
  if (oh == 0 || ow == 0) {
    args.fail(kShape, "the dilated kernel does not fit the padded input (" + std::to_string(s.in_h) + "x" +
                          std::to_string(s.in_w) + ")");
  }
  const size_t pixels = checked_mul(args, checked_mul(args, s.batch, s.in_h, "x"), s.in_w, "x");
  const size_t rows = checked_mul(args, checked_mul(args, s.batch, oh, "out"), ow, "out");
  // The driver may copy the input into a buffer with its border: bound that
  // copy by the input's own size (padding or dilation far beyond the image
  // would otherwise ask for an unbounded buffer).
  const size_t padded_bytes = checked_mul(
      args,
      checked_mul(args, checked_mul(args, s.batch, s.in_h + s.pad_top + s.pad_bottom, "padded input"),
                  s.in_w + s.pad_left + s.pad_right, "padded input"),
      w.tap_words * 8, "padded input");
  const size_t input_bytes = checked_mul(args, pixels, w.tap_words * 8, "x");
  if (padded_bytes > 16 * input_bytes + (size_t{16} << 20)) {
    args.fail(kRange, "pads [" + std::to_string(s.pad_top) + ", " + std::to_string(s.pad_left) + ", " +
                          std::to_string(s.pad_bottom) + ", " + std::to_string(s.pad_right) +
                          "] are too large for a " + std::to_string(s.in_h) + "x" + std::to_string(s.in_w) + " input");
  }
  napi_typedarray_type x_type;
  const lowbit::BufferRef x = sign_operand(call, 2, "x", pixels, w.tap_bits, &x_type);
  const lowbit::BufferRef out = output_operand(call, 5, os, rows);
  call.keep(args[0].As<Napi::Object>());
  call.keep(args[1].As<Napi::Object>());
  const lowbit::BinaryWeights* weights = &w;
  const lowbit::BinaryOutput* stage = &os;
  // A bit-MAC costs a small fraction of a float MAC (xor + popcount of a word does 64).
  const double macs = static_cast<double>(rows) * static_cast<double>(w.n) * static_cast<double>(w.k_bits);
  return finish(call, "binary_conv2d", [=](uint8_t* arena) {
    const uint64_t* bits = packed_rows(*weights->path, x_type, x.get<const uint8_t>(arena), pixels, weights->tap_bits,
                                       &step_scratch());
    lowbit::binary_conv2d(*weights, *stage, s, bits, out.get<void>(arena), &lowbit::default_thread_pool());
  }, macs / 32);
}

// binaryGemm(w, os, a, m, out[, program]): a is m rows of K = w.channels values (bits or floats).
Napi::Value BinaryGemm(const Napi::CallbackInfo& info) {
  OpCall call(info, "binaryGemm", 5);
  const Args& args = call.args();
  const lowbit::BinaryWeights& w = BinaryWeightsHandle::From(args, 0, "w").w();
  const lowbit::BinaryOutput& os = BinaryOutputHandle::From(args, 1, "output").os();
  if (os.n != w.n) {
    args.fail(kShape, "the output stage has " + std::to_string(os.n) + " channels, the weights " + std::to_string(w.n));
  }
  if (w.taps != 1) args.fail(kArg, "w holds convolution weights (" + std::to_string(w.taps) + " taps), not a matrix");
  const size_t m = args.size(3, "m");
  napi_typedarray_type a_type;
  const lowbit::BufferRef a = sign_operand(call, 2, "a", m, w.tap_bits, &a_type);
  const lowbit::BufferRef out = output_operand(call, 4, os, m);
  call.keep(args[0].As<Napi::Object>());
  call.keep(args[1].As<Napi::Object>());
  const lowbit::BinaryWeights* weights = &w;
  const lowbit::BinaryOutput* stage = &os;
  const double macs = static_cast<double>(m) * static_cast<double>(w.n) * static_cast<double>(w.k_bits);
  return finish(call, "binary_gemm", [=](uint8_t* arena) {
    const uint64_t* bits = packed_rows(*weights->path, a_type, a.get<const uint8_t>(arena), m, weights->tap_bits,
                                       &step_scratch());
    lowbit::binary_gemm(*weights, *stage, m, bits, weights->k_words, out.get<void>(arena),
                        &lowbit::default_thread_pool());
  }, macs / 32);
}

// binaryWeightGemm(w, os, a: Float32Array|Int8Array|Uint8Array, m, aZeroPoint, out[, program])
Napi::Value BinaryWeightGemm(const Napi::CallbackInfo& info) {
  OpCall call(info, "binaryWeightGemm", 6);
  const Args& args = call.args();
  const lowbit::BinaryWeightMatrix& w = BinaryWeightMatrixHandle::From(args, 0, "w").w();
  const lowbit::BinaryOutput& os = BinaryOutputHandle::From(args, 1, "output").os();
  if (os.n != w.n) {
    args.fail(kShape, "the output stage has " + std::to_string(os.n) + " channels, the weights " + std::to_string(w.n));
  }
  const size_t m = args.size(3, "m");
  const size_t count = checked_mul(args, m, w.k, "a");
  const napi_typedarray_type type = call.type_of(2, "a");
  lowbit::BinaryActivation a_type;
  lowbit::BufferRef a;
  int32_t zp = 0;
  if (type == napi_float32_array) {
    a_type = lowbit::BinaryActivation::kFloat32;
    a = call.tensor<float>(2, "a", napi_float32_array, count);
    zp = args.int32(4, "aZeroPoint", 0, 0);
  } else if (type == napi_int8_array) {
    a_type = lowbit::BinaryActivation::kInt8;
    a = call.tensor<int8_t>(2, "a", napi_int8_array, count);
    zp = args.int32(4, "aZeroPoint", -128, 127);
  } else if (type == napi_uint8_array) {
    a_type = lowbit::BinaryActivation::kUint8;
    a = call.tensor<uint8_t>(2, "a", napi_uint8_array, count);
    zp = args.int32(4, "aZeroPoint", 0, 255);
  } else {
    args.fail(kDtype, std::string("a must be a Float32Array, Int8Array or Uint8Array, got ") + typed_array_name(type));
  }
  const lowbit::BufferRef out = output_operand(call, 5, os, m);
  call.keep(args[0].As<Napi::Object>());
  call.keep(args[1].As<Napi::Object>());
  const lowbit::BinaryWeightMatrix* weights = &w;
  const lowbit::BinaryOutput* stage = &os;
  const lowbit::GemmPath* gemm = &active_gemm_path();
  const double macs = static_cast<double>(m) * static_cast<double>(w.n) * static_cast<double>(w.k);
  return finish(call, "binary_weight_gemm", [=](uint8_t* arena) {
    lowbit::binary_weight_gemm(*weights, *stage, *gemm, m, a.get<const void>(arena), a_type, zp, out.get<void>(arena),
                               &lowbit::default_thread_pool());
  }, macs);
}

// binaryKernelPath(): the binary kernels the active kernel path runs.
Napi::Value BinaryKernelPath(const Napi::CallbackInfo& info) {
  Args args(info, "binaryKernelPath", 0);
  return Napi::String::New(info.Env(), active_binary_path().name);
}

}  // namespace

void register_binary(Napi::Env env, Napi::Object exports) {
  exports.Set("BinaryOutput", BinaryOutputHandle::Define(env));
  exports.Set("BinaryWeights", BinaryWeightsHandle::Define(env));
  exports.Set("BinaryWeightMatrix", BinaryWeightMatrixHandle::Define(env));
  exports.Set("bitpack", Napi::Function::New(env, Bitpack, "bitpack"));
  exports.Set("bitunpack", Napi::Function::New(env, Bitunpack, "bitunpack"));
  exports.Set("binaryConv2d", Napi::Function::New(env, BinaryConv2d, "binaryConv2d"));
  exports.Set("binaryGemm", Napi::Function::New(env, BinaryGemm, "binaryGemm"));
  exports.Set("binaryWeightGemm", Napi::Function::New(env, BinaryWeightGemm, "binaryWeightGemm"));
  exports.Set("binaryKernelPath", Napi::Function::New(env, BinaryKernelPath, "binaryKernelPath"));
}

}  // namespace lowbit_addon
