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
#include "state.h"

namespace lowbit_addon {
namespace {

using lowbit::BinaryOutputKind;
using lowbit::bit_words;

const lowbit::BinaryPath& active_binary_path() { return lowbit::binary_path_for(active_isa()); }

// The typed array at i, whatever its type (after checking it is one).
napi_typedarray_type typed_type(const Args& args, size_t i, const char* what) {
  if (!args[i].IsTypedArray()) args.fail(kArg, std::string(what) + " must be a typed array");
  return args[i].As<Napi::TypedArray>().TypedArrayType();
}

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
    if (!args[i].IsObject() || !args[i].As<Napi::Object>().InstanceOf(ctor_->Value())) {
      args.fail(kArg, std::string(what) + " must be a BinaryWeights");
    }
    const BinaryWeightsHandle& h = *Unwrap(args[i].As<Napi::Object>());
    if (h.w_.path != &active_binary_path()) {
      args.fail(kIsa, std::string(what) + " was packed for the " + h.w_.path->name + " binary kernels but the active path (" +
                          lowbit::isa_name(active_isa()) + ") runs " + active_binary_path().name + "; pack it again");
    }
    return h;
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
    if (!args[i].IsObject() || !args[i].As<Napi::Object>().InstanceOf(ctor_->Value())) {
      args.fail(kArg, std::string(what) + " must be a BinaryWeightMatrix");
    }
    const BinaryWeightMatrixHandle& h = *Unwrap(args[i].As<Napi::Object>());
    if (h.w_.path != &active_binary_path()) {
      args.fail(kIsa, std::string(what) + " was packed for the " + h.w_.path->name + " binary kernels but the active path (" +
                          lowbit::isa_name(active_isa()) + ") runs " + active_binary_path().name + "; pack it again");
    }
    return h;
  }

 private:
  Napi::Value GetN(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(w_.n)); }
  Napi::Value GetK(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(w_.k)); }
  Napi::Value GetPath(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), w_.path->name); }
  lowbit::BinaryWeightMatrix w_;
  static Napi::FunctionReference* ctor_;
};
Napi::FunctionReference* BinaryWeightMatrixHandle::ctor_ = nullptr;

// The output array for `rows` rows of the stage's kind.
void* output_array(const Args& args, size_t i, const lowbit::BinaryOutput& os, size_t rows) {
  switch (os.kind) {
    case BinaryOutputKind::kFloat32:
      return args.typed<float>(i, "out", napi_float32_array, checked_mul(args, rows, os.n, "out"));
    case BinaryOutputKind::kInt8:
      return args.typed<int8_t>(i, "out", napi_int8_array, checked_mul(args, rows, os.n, "out"));
    case BinaryOutputKind::kBits:
      return args.typed<uint8_t>(i, "out", napi_uint8_array,
                                 checked_mul(args, rows, lowbit::binary_output_row_bytes(os.kind, os.n), "out"));
  }
  return nullptr;
}

// Bits of `rows` rows of `cols` values: a Uint8Array of packed rows (copied
// to aligned words when it sits at an unaligned offset), or a Float32Array /
// Int8Array of values, binarized here.
const uint64_t* bit_rows(const Args& args, size_t i, const char* what, size_t rows, size_t cols,
                         std::vector<uint64_t>* storage) {
  const size_t words = checked_mul(args, rows, bit_words(cols), what);
  const napi_typedarray_type type = typed_type(args, i, what);
  const size_t count = checked_mul(args, rows, cols, what);
  if (type == napi_uint8_array) {
    const uint8_t* p = args.typed<uint8_t>(i, what, napi_uint8_array, checked_mul(args, words, 8, what));
    if (reinterpret_cast<uintptr_t>(p) % 8 == 0) return reinterpret_cast<const uint64_t*>(p);
    storage->resize(words);
    std::memcpy(storage->data(), p, words * 8);
    return storage->data();
  }
  storage->resize(words);
  if (type == napi_float32_array) {
    const float* x = args.typed<float>(i, what, napi_float32_array, count);
    lowbit::bitpack_f32(active_binary_path(), x, rows, cols, storage->data(), &lowbit::default_thread_pool());
  } else if (type == napi_int8_array) {
    const int8_t* x = args.typed<int8_t>(i, what, napi_int8_array, count);
    lowbit::bitpack_s8(active_binary_path(), x, rows, cols, storage->data(), &lowbit::default_thread_pool());
  } else {
    args.fail(kDtype, std::string(what) + " must be a Uint8Array of packed bits, a Float32Array or an Int8Array, got " +
                          typed_array_name(type));
  }
  return storage->data();
}

// ---------------------------------------------------------------- functions

// bitpack(x: Float32Array|Int8Array, rows, cols, out: Uint8Array)
Napi::Value Bitpack(const Napi::CallbackInfo& info) {
  Args args(info, "bitpack", 4);
  const size_t rows = args.size(1, "rows");
  const size_t cols = positive(args, 2, "cols");
  const size_t count = checked_mul(args, rows, cols, "x");
  const size_t bytes = checked_mul(args, checked_mul(args, rows, bit_words(cols), "out"), 8, "out");
  uint8_t* out = args.typed<uint8_t>(3, "out", napi_uint8_array, bytes);
  const napi_typedarray_type type = typed_type(args, 0, "x");
  std::vector<uint64_t> words;
  run_guarded(args, [&] { words.resize(rows * bit_words(cols)); });
  if (type == napi_float32_array) {
    lowbit::bitpack_f32(active_binary_path(), args.typed<float>(0, "x", napi_float32_array, count), rows, cols,
                        words.data(), &lowbit::default_thread_pool());
  } else if (type == napi_int8_array) {
    lowbit::bitpack_s8(active_binary_path(), args.typed<int8_t>(0, "x", napi_int8_array, count), rows, cols,
                       words.data(), &lowbit::default_thread_pool());
  } else {
    args.fail(kDtype, std::string("x must be a Float32Array or an Int8Array, got ") + typed_array_name(type));
  }
  if (bytes > 0) std::memcpy(out, words.data(), bytes);
  return info.Env().Undefined();
}

// bitunpack(bits: Uint8Array, rows, cols, out: Float32Array|Int8Array)
Napi::Value Bitunpack(const Napi::CallbackInfo& info) {
  Args args(info, "bitunpack", 4);
  const size_t rows = args.size(1, "rows");
  const size_t cols = positive(args, 2, "cols");
  const size_t count = checked_mul(args, rows, cols, "out");
  const size_t bytes = checked_mul(args, checked_mul(args, rows, bit_words(cols), "bits"), 8, "bits");
  const uint8_t* bits = args.typed<uint8_t>(0, "bits", napi_uint8_array, bytes);
  std::vector<uint64_t> words;
  run_guarded(args, [&] { words.resize(rows * bit_words(cols)); });
  if (bytes > 0) std::memcpy(words.data(), bits, bytes);
  const napi_typedarray_type type = typed_type(args, 3, "out");
  if (type == napi_float32_array) {
    lowbit::ref::bitunpack_f32(words.data(), rows, cols, args.typed<float>(3, "out", napi_float32_array, count));
  } else if (type == napi_int8_array) {
    lowbit::ref::bitunpack_s8(words.data(), rows, cols, args.typed<int8_t>(3, "out", napi_int8_array, count));
  } else {
    args.fail(kDtype, std::string("out must be a Float32Array or an Int8Array, got ") + typed_array_name(type));
  }
  return info.Env().Undefined();
}

// binaryConv2d(w, os, x, geometry: Int32Array [batch, inH, inW, kh, kw, strideH,
//              strideW, dilationH, dilationW, padTop, padLeft, padBottom, padRight],
//              zeroPadding: boolean, out)
Napi::Value BinaryConv2d(const Napi::CallbackInfo& info) {
  Args args(info, "binaryConv2d", 6);
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
  std::vector<uint64_t> storage;
  run_guarded(args, [&] {
    const uint64_t* x = bit_rows(args, 2, "x", pixels, w.tap_bits, &storage);
    void* out = output_array(args, 5, os, rows);
    lowbit::binary_conv2d(w, os, s, x, out, &lowbit::default_thread_pool());
  });
  return info.Env().Undefined();
}

// binaryGemm(w, os, a, m, out): a is m rows of K = w.channels values (bits or floats).
Napi::Value BinaryGemm(const Napi::CallbackInfo& info) {
  Args args(info, "binaryGemm", 5);
  const lowbit::BinaryWeights& w = BinaryWeightsHandle::From(args, 0, "w").w();
  const lowbit::BinaryOutput& os = BinaryOutputHandle::From(args, 1, "output").os();
  if (os.n != w.n) {
    args.fail(kShape, "the output stage has " + std::to_string(os.n) + " channels, the weights " + std::to_string(w.n));
  }
  if (w.taps != 1) args.fail(kArg, "w holds convolution weights (" + std::to_string(w.taps) + " taps), not a matrix");
  const size_t m = args.size(3, "m");
  std::vector<uint64_t> storage;
  run_guarded(args, [&] {
    const uint64_t* a = bit_rows(args, 2, "a", m, w.tap_bits, &storage);
    void* out = output_array(args, 4, os, m);
    lowbit::binary_gemm(w, os, m, a, w.k_words, out, &lowbit::default_thread_pool());
  });
  return info.Env().Undefined();
}

// binaryWeightGemm(w, os, a: Float32Array|Int8Array|Uint8Array, m, aZeroPoint, out)
Napi::Value BinaryWeightGemm(const Napi::CallbackInfo& info) {
  Args args(info, "binaryWeightGemm", 6);
  const lowbit::BinaryWeightMatrix& w = BinaryWeightMatrixHandle::From(args, 0, "w").w();
  const lowbit::BinaryOutput& os = BinaryOutputHandle::From(args, 1, "output").os();
  if (os.n != w.n) {
    args.fail(kShape, "the output stage has " + std::to_string(os.n) + " channels, the weights " + std::to_string(w.n));
  }
  const size_t m = args.size(3, "m");
  const size_t count = checked_mul(args, m, w.k, "a");
  const napi_typedarray_type type = typed_type(args, 2, "a");
  lowbit::BinaryActivation a_type;
  const void* a = nullptr;
  int32_t zp = 0;
  if (type == napi_float32_array) {
    a_type = lowbit::BinaryActivation::kFloat32;
    a = args.typed<float>(2, "a", napi_float32_array, count);
    zp = args.int32(4, "aZeroPoint", 0, 0);
  } else if (type == napi_int8_array) {
    a_type = lowbit::BinaryActivation::kInt8;
    a = args.typed<int8_t>(2, "a", napi_int8_array, count);
    zp = args.int32(4, "aZeroPoint", -128, 127);
  } else if (type == napi_uint8_array) {
    a_type = lowbit::BinaryActivation::kUint8;
    a = args.typed<uint8_t>(2, "a", napi_uint8_array, count);
    zp = args.int32(4, "aZeroPoint", 0, 255);
  } else {
    args.fail(kDtype, std::string("a must be a Float32Array, Int8Array or Uint8Array, got ") + typed_array_name(type));
  }
  void* out = output_array(args, 5, os, m);
  run_guarded(args, [&] {
    lowbit::binary_weight_gemm(w, os, active_gemm_path(), m, a, a_type, zp, out, &lowbit::default_thread_pool());
  });
  return info.Env().Undefined();
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
