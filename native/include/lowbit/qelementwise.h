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
//
// Requantize through HardSwish (an int8 convolution's int32 accumulators ->
// 8 bits, for DequantizeLinear -> Conv -> HardSwish -> QuantizeLinear with no
// Q between Conv and HardSwish). acc is rows x channels, channels innermost
// (NHWC, rows = N*H*W). Per channel c:
//   a = wrapping_add(acc, bias[c])        (bias: none, 1 value or `channels` values)
//   v = fl(float(a) * s[c])               (s: 1 or `channels` values, x_scale * w_scale[c])
//   t = fl(v * fl(1/6)); t = fl(t + 0.5f); t = min(t, 1); t = max(t, 0); h = fl(v * t)
//                                         (exactly unary_one(kHardSwish) of lowbit/elementwise.h:
//                                          the same op order, no FMA)
//   q = fl(h / sy)                        (a true division, like QuantizeLinear in lowbit/quantize.h)
//   y = saturate(round_half_even(clamp(q, lo - zy, hi - zy)) + zy)
// lo/hi: the output range in quantized values (the type's by default),
// clamped before rounding as above. float(a) of |a| > 2^24 rounds to nearest
// even on every path (cvtdq2ps / scvtf do). Scales are checked so that
// fl(2^31 * s) is finite: v is never infinite, so h is never NaN (-inf * 0);
// q may still overflow to +-inf for a tiny sy, which the clamp handles.
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

// Requantize-through-HardSwish's output side (the per-channel s and bias are arrays).
struct QHardSwishRequant {
  bool out_signed = false;
  int32_t zy = 0;
  float sy = 1.0f;
  float lo = 0.0f, hi = 255.0f;  // the clamp of q: [qlo - zy, qhi - zy]
};

// The largest accumulator scale s for which fl(float(a) * s) stays finite for
// every int32 a (|float(a)| <= 2^31).
inline bool qhardswish_scale_ok(float s) { return s > 0.0f && std::isfinite(s * 2147483648.0f); }

// The factors of the semantics above, in float32, as every path uses them.
// qlo/qhi: the output range in quantized values (within the output type's).
QBinaryParams make_qbinary_params(QBinaryOp op, float sa, int32_t za, bool a_signed, float sb, int32_t zb,
                                  bool b_signed, float sy, int32_t zy, bool out_signed, int32_t qlo, int32_t qhi);
QRequant make_qpool_requant(float sx, float sy, int32_t zy, bool out_signed, size_t spatial, int32_t qlo, int32_t qhi);
QHardSwishRequant make_qhardswish_requant(float sy, int32_t zy, bool out_signed, int32_t qlo, int32_t qhi);

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

// One requantized HardSwish output (the header's formula, in its order).
inline int32_t qhardswish_one(const QHardSwishRequant& r, int32_t acc, int32_t bias, float s) {
  // Wrapping int32 add, without signed-overflow UB.
  const int32_t a = static_cast<int32_t>(static_cast<uint32_t>(acc) + static_cast<uint32_t>(bias));
  const float v = static_cast<float>(a) * s;
  float t = v * (1.0f / 6.0f);
  t = t + 0.5f;
  t = t > 1.0f ? 1.0f : t;
  t = t < 0.0f ? 0.0f : t;
  const float h = v * t;
  return qround(h / r.sy, r.lo, r.hi, r.zy);
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
  // out[i] = qhardswish_one(acc[i], bias[i * sb], scale[i * ss]) for i < n;
  // sb, ss 0 or 1 (the driver repeats per-channel rows to match acc).
  void (*hardswish_row)(const QHardSwishRequant& r, const int32_t* acc, const int32_t* bias, size_t sb,
                        const float* scale, size_t ss, void* out, size_t n);
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

// acc [rows, c] (channels innermost) -> out [rows, c] through HardSwish:
// out = qhardswish_one(acc, bias[j], scale[j]) at channel j. bias: null, or
// nb = 1 or c values; scale: ns = 1 or c values. Rows split over the pool.
void qrequantize_hardswish(const QElementwisePath& path, const QHardSwishRequant& r, const int32_t* acc, size_t rows,
                           size_t c, const int32_t* bias, size_t nb, const float* scale, size_t ns, void* out,
                           ThreadPool* pool);

namespace ref {
extern const QElementwisePath kQElementwisePath;
void qbinary_row(const QBinaryParams& p, const void* a, const void* b, void* out, size_t n);
void qbinary_row_prepared(const QBinaryParams& p, const void* a, const float* b_terms, size_t st, void* out, size_t n);
void qsum_pixels(const void* x, bool is_signed, size_t spatial, size_t c, size_t stride, int32_t* acc);
int32_t qsum_row(const void* x, bool is_signed, size_t n);
void qhardswish_row(const QHardSwishRequant& r, const int32_t* acc, const int32_t* bias, size_t sb, const float* scale,
                    size_t ss, void* out, size_t n);
}  // namespace ref

}  // namespace lowbit
