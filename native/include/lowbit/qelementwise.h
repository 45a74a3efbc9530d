// Quantized elementwise ops on uint8 / int8 tensors, as onnxruntime runs QDQ
// models (its com.microsoft QLinearAdd, QLinearMul, QLinearGlobalAveragePool):
// the inputs stay 8-bit, one float32 requantization per output element.
//
// Semantics (real = scale * (q - zero_point); every path bit-identical to ref):
//   da = a - za, db = b - zb                                  (exact int32)
//   add: t = fl(fl(fa * da) + fl(fb * db)),  fa = fl(sa / sy), fb = fl(sb / sy)
//   mul: t = fl(fm * (da * db)),             fm = fl(fl(sa * sb) / sy)
//   y   = saturate(round_half_even(clamp(t, lo - zy, hi - zy)) + zy)
// where fl() is one float32 rounding, in exactly this order (no FMA; Mul's
// da * db may be formed as float(da) * float(db), which is exact), and
// [lo, hi] is the output range (the type's range, or narrower for a fused
// Relu/Clip). The factors are the ones onnxruntime's MLAS kernels use; the
// ONNX reference (dequantize, op in float32, quantize by division) can differ
// by one step where t is within a rounding error of a .5 tie.
//
// Global average pool (NCHW or NHWC, n * c outputs over `spatial` pixels):
//   acc = sum(x) - spatial * zx                              (exact int32)
//   y   = saturate(round_half_even(clamp(fl(float(acc) * fg), ...)) + zy),
//   fg = fl(sx / fl(sy * float(spatial))).
// float(acc) is exact while spatial * 255 < 2^24, i.e. spatial < 65793
// (larger images round acc once, identically on every path); spatial is at
// most kMaxQPoolSpatial so that acc fits an int32.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "lowbit/cpu.h"
#include "lowbit/elementwise.h"

namespace lowbit {

class ThreadPool;

enum class QBinaryOp : int { kAdd = 0, kMul = 1 };

// |acc| <= 255 * spatial must fit an int32.
constexpr size_t kMaxQPoolSpatial = size_t{1} << 23;

// A binary op's prepared parameters (once per node, not per call).
struct QBinaryParams {
  QBinaryOp op = QBinaryOp::kAdd;
  bool a_signed = false, b_signed = false, out_signed = false;
  int32_t za = 0, zb = 0, zy = 0;
  float fa = 1.0f, fb = 1.0f;  // add: sa / sy, sb / sy; mul: fa = sa * sb / sy
  float lo = 0.0f, hi = 255.0f;  // the clamp of t: [qlo - zy, qhi - zy]
  // False when the range is the output type's and |t| < 2^30: then rounding
  // first and saturating to 8 bits after adding zy gives the same values
  // (rounding is monotone and keeps the integer bounds), so SIMD paths may
  // skip the float clamp and let saturating packs do it.
  bool float_clamp = true;
};

// A global pool's requantization: y = sat(rne(clamp(float(sum - bias) * factor)) + zy).
struct QRequant {
  bool out_signed = false;
  int32_t zy = 0;
  float factor = 1.0f;
  float lo = 0.0f, hi = 255.0f;
};

// The factors of the semantics above, in float32, as every path uses them.
// qlo/qhi: the output range in quantized values (within the output type's).
QBinaryParams make_qbinary_params(QBinaryOp op, float sa, int32_t za, bool a_signed, float sb, int32_t zb,
                                  bool b_signed, float sy, int32_t zy, bool out_signed, int32_t qlo, int32_t qhi);
QRequant make_qpool_requant(float sx, float sy, int32_t zy, bool out_signed, size_t spatial, int32_t qlo, int32_t qhi);

// The scalar definitions (every path's tails and ref's body).
inline int32_t qload(const void* p, size_t i, bool is_signed) {
  return is_signed ? static_cast<const int8_t*>(p)[i] : static_cast<const uint8_t*>(p)[i];
}

inline void qstore(void* p, size_t i, int32_t v, bool is_signed) {
  if (is_signed) static_cast<int8_t*>(p)[i] = static_cast<int8_t>(v);
  else static_cast<uint8_t*>(p)[i] = static_cast<uint8_t>(v);
}

// t clamped to [lo, hi], rounded half to even, plus zy. |lo|, |hi| <= 383,
// so adding and removing 1.5 * 2^23 rounds exactly as nearbyint does in the
// default rounding mode, without a library call (this runs per output).
inline int32_t qround(float t, float lo, float hi, int32_t zy) {
  t = t < lo ? lo : (t > hi ? hi : t);
  const float rounded = (t + 12582912.0f) - 12582912.0f;
  return static_cast<int32_t>(rounded) + zy;
}

// b's part of t, prepared once per broadcast row: fl(fb * db) for Add, db for
// Mul (float(da) * float(db) is exact: |da * db| <= 65025 < 2^24).
inline float qbinary_b_term(const QBinaryParams& p, int32_t b) {
  const float db = static_cast<float>(b - p.zb);
  return p.op == QBinaryOp::kAdd ? p.fb * db : db;
}

inline int32_t qbinary_one_prepared(const QBinaryParams& p, int32_t a, float b_term) {
  const float da = static_cast<float>(a - p.za);
  float t;
  if (p.op == QBinaryOp::kAdd) {
    const float ta = p.fa * da;
    t = ta + b_term;
  } else {
    const float product = da * b_term;
    t = p.fa * product;
  }
  return qround(t, p.lo, p.hi, p.zy);
}

inline int32_t qbinary_one(const QBinaryParams& p, int32_t a, int32_t b) {
  return qbinary_one_prepared(p, a, qbinary_b_term(p, b));
}

inline int32_t qrequant_one(const QRequant& r, int32_t acc) {
  return qround(static_cast<float>(acc) * r.factor, r.lo, r.hi, r.zy);
}

// One path's kernels.
struct QElementwisePath {
  Isa isa;
  // out[i] = qbinary_one(a[i], b[i]) for i < n.
  void (*binary_row)(const QBinaryParams& p, const void* a, const void* b, void* out, size_t n);
  // out[i] = qbinary_one_prepared(a[i], b_terms[i * st]), st 0 or 1: a
  // broadcast b (a scalar, or one row per channel) has its terms computed once.
  void (*binary_row_prepared)(const QBinaryParams& p, const void* a, const float* b_terms, size_t st, void* out,
                              size_t n);
  // NHWC: acc[j] = sum over s < spatial of x[s * stride + j] for j < c (int8 or uint8 x).
  void (*sum_pixels)(const void* x, bool is_signed, size_t spatial, size_t c, size_t stride, int32_t* acc);
  // NCHW: the sum of n contiguous values.
  int32_t (*sum_row)(const void* x, bool is_signed, size_t n);
};

// The kernels for a kernel path (avxvnni -> avx2, amx -> avx512, neondot -> neon), else ref.
const QElementwisePath& qelementwise_path(Isa isa);

// out = op(a, b) over a broadcast plan (lowbit/elementwise.h; the innermost
// strides are 0 or 1). The NHWC per-channel case (b one row of C repeated over
// H*W) runs short rows as one long row against b repeated: same results.
void qbinary(const QElementwisePath& path, const QBinaryParams& p, const BroadcastPlan& plan, const void* a,
             const void* b, void* out, ThreadPool* pool);

// x [n, c, spatial] (NCHW) or [n, spatial, c] (NHWC) -> out [n, c].
void qglobal_average_pool(const QElementwisePath& path, const QRequant& r, bool x_signed, bool nhwc, size_t n,
                          size_t c, size_t spatial, int32_t zx, const void* x, void* out, ThreadPool* pool);

namespace ref {
extern const QElementwisePath kQElementwisePath;
void qbinary_row(const QBinaryParams& p, const void* a, const void* b, void* out, size_t n);
void qbinary_row_prepared(const QBinaryParams& p, const void* a, const float* b_terms, size_t st, void* out, size_t n);
void qsum_pixels(const void* x, bool is_signed, size_t spatial, size_t c, size_t stride, int32_t* acc);
int32_t qsum_row(const void* x, bool is_signed, size_t n);
}  // namespace ref

}  // namespace lowbit
