// Elementwise float32 / int32 operations for the model runner: binary ops with
// numpy broadcasting (planned in JavaScript as an output shape and per-input
// strides), unary float32 activations, the 8-bit lookup table that runs
// DequantizeLinear -> f -> QuantizeLinear exactly, a per-channel affine map
// (inference BatchNormalization) and Cast.
//
// Numerics (docs/fp32-ops.md):
// - Add, Sub, Mul, Div, Max, Min, PRelu and the "exact" unary ops (Relu,
//   LeakyRelu, Clip, HardSigmoid, HardSwish, Neg, Abs, Sqrt, Reciprocal, Floor,
//   Ceil, Round) are the same IEEE operations in the same order on every path:
//   SIMD results equal ref bit for bit (NaN stays NaN).
// - Exp, Sigmoid and Tanh use polynomial / rational approximations on SIMD
//   paths: within 4e-7 relative (plus 1e-37 absolute near underflow) of ref,
//   which calls the C library.
// - Pow, Log, Erf, Gelu, Softplus, Elu call the C library on every path.
// - int32 arithmetic wraps (two's complement); x / 0 = 0 and INT32_MIN / -1 =
//   INT32_MIN, so no input can trap.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "lowbit/cpu.h"
#include "lowbit/quantize.h"

namespace lowbit {

class ThreadPool;

enum class BinaryOp : int { kAdd = 0, kSub, kMul, kDiv, kPow, kMax, kMin, kPRelu, kCount };

enum class UnaryOp : int {
  kRelu = 0,     // max(0, x)
  kLeakyRelu,    // x < 0 ? alpha * x : x
  kClip,         // min(max(x, alpha), beta)
  kSigmoid,      // 1 / (1 + exp(-x))
  kHardSigmoid,  // max(0, min(1, alpha * x + beta))
  kHardSwish,    // x * max(0, min(1, x / 6 + 1 / 2))
  kNeg,
  kAbs,
  kSqrt,
  kReciprocal,   // 1 / x
  kFloor,
  kCeil,
  kRound,        // half to even
  kExp,
  kLog,
  kTanh,
  kErf,
  kGelu,         // 0.5 x (1 + erf(x / sqrt 2)), as 0.5 x erfc(-x / sqrt 2)
  kGeluTanh,     // 0.5 x (1 + tanh(u)), u = sqrt(2 / pi) (x + 0.044715 x^3), as x / (1 + exp(-2u))
  kSoftplus,     // log(1 + exp(x))
  kElu,          // x < 0 ? alpha (exp(x) - 1) : x
  kCount
};

struct UnaryParams {
  UnaryOp op = UnaryOp::kRelu;
  float alpha = 0.0f;
  float beta = 0.0f;
};

// Largest rank of a broadcast plan (after JavaScript merges adjacent dims).
constexpr size_t kMaxRank = 6;

// A broadcast binary op: the output is contiguous with dims[0..rank); input
// element (i0, ..., ik) is at sum(i_d * stride[d]); a broadcast dim has stride 0.
struct BroadcastPlan {
  size_t rank = 0;
  size_t dims[kMaxRank] = {};
  size_t a_stride[kMaxRank] = {};
  size_t b_stride[kMaxRank] = {};
  size_t count() const {
    size_t n = 1;
    for (size_t d = 0; d < rank; ++d) n *= dims[d];
    return n;
  }
};

// One path's row kernels. Every pointer is set (a path may reuse ref's).
struct ElementwisePath {
  Isa isa;
  // A block of `rows` rows of n outputs: out[r * n + i] = min(max(op(a[r * a_row + i * sa],
  // b[r * b_row + i * sb]), lo), hi). Short rows (NHWC per-channel operands) go
  // through one call per block, not one per row.
  void (*binary_f32)(BinaryOp op, const float* a, size_t sa, size_t a_row, const float* b, size_t sb,
                     size_t b_row, float* out, size_t rows, size_t n, float lo, float hi);
  // The same for int32 (Add, Sub, Mul, Div, Pow, Max, Min), no clamp.
  void (*binary_s32)(BinaryOp op, const int32_t* a, size_t sa, size_t a_row, const int32_t* b, size_t sb,
                     size_t b_row, int32_t* out, size_t rows, size_t n);
  void (*unary_f32)(const UnaryParams& p, const float* x, float* out, size_t n);
  // out[i] = table[x[i]] (x read as raw bytes).
  void (*lut8)(const uint8_t* table, const uint8_t* x, uint8_t* out, size_t n);
  // out[i] = min(max(x[i] * scale[i * sp] + bias[i * sp], lo), hi) (two roundings).
  void (*affine_f32)(const float* x, const float* scale, const float* bias, size_t sp, float* out,
                     size_t n, float lo, float hi);
};

// The kernels serving a kernel path (ISA): its own, or the nearest family's
// (avxvnni -> avx2, amx -> avx512, neondot -> neon), else ref.
const ElementwisePath& elementwise_path(Isa isa);
const ElementwisePath& elementwise_ref_path();

// ------------------------------------------------------------- definitions

// The scalar definitions every path matches (exactly, or within tolerance).
inline float binary_one(BinaryOp op, float a, float b) {
  switch (op) {
    case BinaryOp::kAdd: return a + b;
    case BinaryOp::kSub: return a - b;
    case BinaryOp::kMul: return a * b;
    case BinaryOp::kDiv: return a / b;
    case BinaryOp::kPow: return std::pow(a, b);
    // NaN in either operand gives NaN (numpy's maximum / minimum).
    case BinaryOp::kMax: return a != a ? a : (a > b ? a : b);
    case BinaryOp::kMin: return a != a ? a : (a < b ? a : b);
    case BinaryOp::kPRelu: return a < 0.0f ? a * b : a;
    default: return 0.0f;
  }
}

inline int32_t pow_s32(int32_t base, int32_t exp) {
  if (exp < 0) {
    // Integer x^-k: 1 for x = 1, +-1 for x = -1, else 0 (0^-k is 0: no trap).
    if (base == 1) return 1;
    if (base == -1) return (exp & 1) ? -1 : 1;
    return 0;
  }
  uint32_t result = 1, b = static_cast<uint32_t>(base);
  uint32_t e = static_cast<uint32_t>(exp);
  while (e != 0) {
    if (e & 1) result *= b;
    b *= b;
    e >>= 1;
  }
  return static_cast<int32_t>(result);
}

inline int32_t binary_one_s32(BinaryOp op, int32_t a, int32_t b) {
  const uint32_t ua = static_cast<uint32_t>(a), ub = static_cast<uint32_t>(b);
  switch (op) {
    case BinaryOp::kAdd: return static_cast<int32_t>(ua + ub);
    case BinaryOp::kSub: return static_cast<int32_t>(ua - ub);
    case BinaryOp::kMul: return static_cast<int32_t>(ua * ub);
    case BinaryOp::kDiv:
      if (b == 0) return 0;
      if (b == -1) return static_cast<int32_t>(0u - ua);
      return a / b;  // truncates toward zero
    case BinaryOp::kPow: return pow_s32(a, b);
    case BinaryOp::kMax: return a > b ? a : b;
    case BinaryOp::kMin: return a < b ? a : b;
    default: return 0;
  }
}

inline float clamp_one(float x, float lo, float hi) {
  x = x < lo ? lo : x;  // max(lo, x), NaN stays
  return x > hi ? hi : x;
}

inline float unary_one(const UnaryParams& p, float x) {
  switch (p.op) {
    case UnaryOp::kRelu: return x < 0.0f ? 0.0f : x;
    case UnaryOp::kLeakyRelu: return x < 0.0f ? p.alpha * x : x;
    case UnaryOp::kClip: return clamp_one(x, p.alpha, p.beta);
    case UnaryOp::kSigmoid: return 1.0f / (1.0f + std::exp(-x));
    case UnaryOp::kHardSigmoid: {
      float t = p.alpha * x;
      t = t + p.beta;
      t = t > 1.0f ? 1.0f : t;
      return t < 0.0f ? 0.0f : t;
    }
    case UnaryOp::kHardSwish: {
      float t = x * (1.0f / 6.0f);
      t = t + 0.5f;
      t = t > 1.0f ? 1.0f : t;
      t = t < 0.0f ? 0.0f : t;
      return x * t;
    }
    case UnaryOp::kNeg: return -x;
    case UnaryOp::kAbs: return std::fabs(x);
    case UnaryOp::kSqrt: return std::sqrt(x);
    case UnaryOp::kReciprocal: return 1.0f / x;
    case UnaryOp::kFloor: return std::floor(x);
    case UnaryOp::kCeil: return std::ceil(x);
    case UnaryOp::kRound: return std::nearbyint(x);
    case UnaryOp::kExp: return std::exp(x);
    case UnaryOp::kLog: return std::log(x);
    case UnaryOp::kTanh: return std::tanh(x);
    case UnaryOp::kErf: return std::erf(x);
    // erfc and the logistic form avoid the cancellation of 1 + erf(u) and
    // 1 + tanh(u) for negative x.
    case UnaryOp::kGelu: return 0.5f * x * std::erfc(x * -0.70710678118654752f);
    case UnaryOp::kGeluTanh: {
      const float inner = 0.79788456080286536f * (x + 0.044715f * x * x * x);
      return x / (1.0f + std::exp(-2.0f * inner));
    }
    case UnaryOp::kSoftplus: return x > 20.0f ? x : std::log1p(std::exp(x));
    case UnaryOp::kElu: return x < 0.0f ? p.alpha * std::expm1(x) : x;
    default: return 0.0f;
  }
}

// ------------------------------------------------------------- drivers
// Whole operations over a path's row kernels; split over `pool` (may be null)
// when large. The split never changes a result.

void binary_f32(const ElementwisePath& path, BinaryOp op, const BroadcastPlan& plan, const float* a,
                const float* b, float* out, float lo, float hi, ThreadPool* pool);
void binary_s32(const ElementwisePath& path, BinaryOp op, const BroadcastPlan& plan, const int32_t* a,
                const int32_t* b, int32_t* out, ThreadPool* pool);
// ONNX arithmetic on int8 / uint8 tensors (Add, Sub, Mul, Div, Pow, Max, Min):
// computed in int32 (binary_one_s32) and truncated to 8 bits, so it wraps as
// C++ does; x / 0 = 0. Scalar on every path (quantized graphs do not need it fast).
void binary_8bit(BinaryOp op, const BroadcastPlan& plan, const void* a, const void* b, void* out, bool is_signed,
                 ThreadPool* pool);
void unary_f32(const ElementwisePath& path, const UnaryParams& p, const float* x, float* out, size_t n,
               ThreadPool* pool);
void lut8(const ElementwisePath& path, const uint8_t* table, const uint8_t* x, uint8_t* out, size_t n,
          ThreadPool* pool);
// x and out are [outer, channels, inner]; channel c: y = clamp(x * scale[c] + bias[c]).
void channel_affine_f32(const ElementwisePath& path, const float* x, size_t outer, size_t channels,
                        size_t inner, const float* scale, const float* bias, float* out, float lo,
                        float hi, ThreadPool* pool);

// ------------------------------------------------------------- cast


// ONNX Cast between float32, int32, int8 and uint8:
// - float -> integer truncates toward zero and saturates to the target range
//   (ONNX leaves out-of-range values undefined; lowbit picks saturation), NaN -> 0;
// - integer -> integer keeps the low bits (two's complement wrap), as ONNX says;
// - integer -> float rounds to nearest even (exact for |x| < 2^24).
void cast(ElementType from, const void* x, ElementType to, void* out, size_t n);
size_t element_bytes(ElementType t);

namespace ref {
extern const ElementwisePath kElementwisePath;
// One row (the definition; SIMD paths fall back to it for Pow and odd strides).
void binary_f32_row(BinaryOp op, const float* a, size_t sa, const float* b, size_t sb, float* out,
                    size_t n, float lo, float hi);
void binary_s32_row(BinaryOp op, const int32_t* a, size_t sa, const int32_t* b, size_t sb,
                    int32_t* out, size_t n);
void binary_f32_rows(BinaryOp op, const float* a, size_t sa, size_t a_row, const float* b, size_t sb,
                     size_t b_row, float* out, size_t rows, size_t n, float lo, float hi);
void binary_s32_rows(BinaryOp op, const int32_t* a, size_t sa, size_t a_row, const int32_t* b, size_t sb,
                     size_t b_row, int32_t* out, size_t rows, size_t n);
void unary_f32(const UnaryParams& p, const float* x, float* out, size_t n);
void lut8(const uint8_t* table, const uint8_t* x, uint8_t* out, size_t n);
void affine_f32(const float* x, const float* scale, const float* bias, size_t sp, float* out, size_t n,
                float lo, float hi);
}  // namespace ref

#if LOWBIT_HAVE_AVX512VNNI
namespace avx512 {
// The two 8-bit table lookups of the AVX-512 path (its lut8 takes the first
// when the CPU has AVX512-VBMI), declared for the tests that check both.
void lut8_vbmi(const uint8_t* table, const uint8_t* x, uint8_t* out, size_t n);
void lut8_bw(const uint8_t* table, const uint8_t* x, uint8_t* out, size_t n);
}  // namespace avx512
#endif

}  // namespace lowbit
