// Quantized Add / Mul / GlobalAveragePool: the kernel table per path, the
// prepared factors, and the drivers that walk a broadcast plan or a pool's
// images over a path's row kernels (split over the pool; a split never
// changes a result: every output element is computed the same way).
#include <algorithm>
#include <cmath>
#include <vector>

#include "../kernels/ops-parallel.h"
#include "lowbit/qelementwise.h"
#include "lowbit/thread_pool.h"

namespace lowbit {

#if LOWBIT_HAVE_AVX2
namespace avx2 { extern const QElementwisePath kQElementwisePath; }
#endif
#if LOWBIT_HAVE_AVX512VNNI
namespace avx512 { extern const QElementwisePath kQElementwisePath; }
#endif
#if LOWBIT_HAVE_NEON
namespace neon { extern const QElementwisePath kQElementwisePath; }
#endif

const QElementwisePath& qelementwise_path(Isa isa) {
  switch (isa) {
#if LOWBIT_HAVE_AVX2
    case Isa::kAvx2:
    case Isa::kAvxVnni:
      if (cpu_supports(Isa::kAvx2)) return avx2::kQElementwisePath;
      break;
#endif
#if LOWBIT_HAVE_AVX512VNNI
    case Isa::kAvx512Vnni:
    case Isa::kAmx:
      if (cpu_supports(Isa::kAvx512Vnni)) return avx512::kQElementwisePath;
      break;
#endif
#if LOWBIT_HAVE_NEON
    case Isa::kNeon:
    case Isa::kNeonDot:
      if (cpu_supports(Isa::kNeon)) return neon::kQElementwisePath;
      break;
#endif
    default: break;
  }
  return ref::kQElementwisePath;
}

QBinaryParams make_qbinary_params(QBinaryOp op, float sa, int32_t za, bool a_signed, float sb, int32_t zb,
                                  bool b_signed, float sy, int32_t zy, bool out_signed, int32_t qlo, int32_t qhi) {
  QBinaryParams p;
  p.op = op;
  p.a_signed = a_signed;
  p.b_signed = b_signed;
  p.out_signed = out_signed;
  p.za = za;
  p.zb = zb;
  p.zy = zy;
  if (op == QBinaryOp::kAdd) {
    p.fa = sa / sy;
    p.fb = sb / sy;
  } else {
    const float sab = sa * sb;
    p.fa = sab / sy;
    p.fb = 0.0f;
  }
  p.lo = static_cast<float>(qlo - zy);
  p.hi = static_cast<float>(qhi - zy);
  // |da|, |db| <= 255; the bound is computed in double, far from 2^30.
  const double bound = op == QBinaryOp::kAdd ? (std::fabs(double{p.fa}) + std::fabs(double{p.fb})) * 256.0
                                             : std::fabs(double{p.fa}) * 65536.0;
  const int32_t tmin = out_signed ? -128 : 0, tmax = out_signed ? 127 : 255;
  p.float_clamp = !(qlo == tmin && qhi == tmax && bound < 1073741824.0);
  return p;
}

QRequant make_qpool_requant(float sx, float sy, int32_t zy, bool out_signed, size_t spatial, int32_t qlo, int32_t qhi) {
  QRequant r;
  r.out_signed = out_signed;
  r.zy = zy;
  const float divisor = sy * static_cast<float>(spatial);
  r.factor = sx / divisor;
  r.lo = static_cast<float>(qlo - zy);
  r.hi = static_cast<float>(qhi - zy);
  return r;
}

namespace {

// Element offsets of row `r` (an index over dims[0..last)) in a and b.
void row_offsets(const BroadcastPlan& plan, size_t last, size_t r, size_t* a_off, size_t* b_off) {
  size_t a = 0, b = 0;
  for (size_t d = last; d-- > 0;) {
    const size_t i = r % plan.dims[d];
    r /= plan.dims[d];
    a += i * plan.a_stride[d];
    b += i * plan.b_stride[d];
  }
  *a_off = a;
  *b_off = b;
}

const uint8_t* at(const void* p, size_t i) { return static_cast<const uint8_t*>(p) + i; }
uint8_t* at(void* p, size_t i) { return static_cast<uint8_t*>(p) + i; }

// b's terms for `rows` copies of its n values at `b` (n = 1: a scalar).
void prepare_terms(const QBinaryParams& p, const void* b, size_t n, size_t rows, std::vector<float>* terms) {
  terms->resize(rows * n);
  for (size_t i = 0; i < n; ++i) (*terms)[i] = qbinary_b_term(p, qload(b, i, p.b_signed));
  for (size_t r = 1; r < rows; ++r) std::copy(terms->begin(), terms->begin() + static_cast<ptrdiff_t>(n), terms->begin() + static_cast<ptrdiff_t>(r * n));
}

}  // namespace

void qbinary(const QElementwisePath& path, const QBinaryParams& params, const BroadcastPlan& in, const void* a0,
             const void* b0, void* out, ThreadPool* pool) {
  BroadcastPlan plan = in;
  if (plan.rank == 0) {
    plan.rank = 1;
    plan.dims[0] = 1;
    plan.a_stride[0] = plan.b_stride[0] = 0;
  }
  const size_t count = plan.count();
  if (count == 0) return;
  QBinaryParams p = params;
  const void* a = a0;
  const void* b = b0;
  size_t last = plan.rank - 1;
  // Add and Mul commute: put the contiguous operand first.
  if (plan.a_stride[last] == 0 && plan.b_stride[last] == 1) {
    std::swap(a, b);
    std::swap(plan.a_stride, plan.b_stride);
    std::swap(p.a_signed, p.b_signed);
    std::swap(p.za, p.zb);
    if (p.op == QBinaryOp::kAdd) std::swap(p.fa, p.fb);
  }
  const size_t n = plan.dims[last];
  const size_t sa = plan.a_stride[last], sb = plan.b_stride[last];
  const size_t rows = count / n;
  if (sa != 1 && n > 1) {
    // A plan lib/ops never makes (a strided innermost axis): element by element.
    parallel_ranges(pool, rows, count, [&](size_t r0, size_t r1) {
      for (size_t r = r0; r < r1; ++r) {
        size_t a_off, b_off;
        row_offsets(plan, last, r, &a_off, &b_off);
        for (size_t i = 0; i < n; ++i) {
          const int32_t v = qbinary_one(p, qload(a, a_off + i * sa, p.a_signed), qload(b, b_off + i * sb, p.b_signed));
          qstore(out, r * n + i, v, p.out_signed);
        }
      }
    });
    return;
  }
  if (sb > 1) {
    // b strided along a contiguous a: also element by element.
    parallel_ranges(pool, rows, count, [&](size_t r0, size_t r1) {
      for (size_t r = r0; r < r1; ++r) {
        size_t a_off, b_off;
        row_offsets(plan, last, r, &a_off, &b_off);
        for (size_t i = 0; i < n; ++i) {
          qstore(out, r * n + i, qbinary_one(p, qload(a, a_off + i, p.a_signed), qload(b, b_off + i * sb, p.b_signed)),
                 p.out_signed);
        }
      }
    });
    return;
  }
  // b repeats one row (a scalar, or the NHWC per-channel row [N,1,1,C]) along
  // the axis before the last: its terms are prepared once and the rows of a
  // between two changes of b run as one long row against them.
  const bool b_scalar_rows = sb == 0;
  const bool repeat_b = sb == 1 && plan.rank >= 2 && plan.a_stride[last - 1] == n && plan.b_stride[last - 1] == 0;
  if (!b_scalar_rows && !repeat_b) {
    parallel_ranges(pool, rows, count, [&](size_t r0, size_t r1) {
      for (size_t r = r0; r < r1; ++r) {
        size_t a_off, b_off;
        row_offsets(plan, last, r, &a_off, &b_off);
        path.binary_row(p, at(a, a_off), at(b, b_off), at(out, r * n), n);
      }
    });
    return;
  }
  // Rows grouped by the axis before the last (mid); b is the same over a group.
  const size_t b_len = b_scalar_rows ? 1 : n;
  const size_t mid = plan.rank >= 2 && plan.b_stride[last - 1] == 0 && plan.a_stride[last - 1] == n ? plan.dims[last - 1] : 1;
  const size_t outer_last = mid > 1 ? last - 1 : last;
  // A block of rows: at least ~1024 elements per kernel call.
  const size_t per = std::max<size_t>(1, std::min(mid, (1024 + n - 1) / n));
  parallel_ranges(pool, rows, count, [&](size_t r0, size_t r1) {
    thread_local std::vector<float> terms;
    size_t terms_for = SIZE_MAX;
    for (size_t r = r0; r < r1;) {
      const size_t o = r / mid;
      const size_t span = std::min(r1, (o + 1) * mid) - r;
      size_t a_off, b_off;
      row_offsets(plan, outer_last, o, &a_off, &b_off);
      a_off += (r - o * mid) * n;
      if (terms_for != b_off) {
        // A row of b repeated `per` times (or a scalar b: one term).
        prepare_terms(p, at(b, b_off), b_len, b_scalar_rows ? 1 : per, &terms);
        terms_for = b_off;
      }
      if (b_scalar_rows) {
        for (size_t k = 0; k < span; ++k) {
          path.binary_row_prepared(p, at(a, a_off + k * n), terms.data(), 0, at(out, (r + k) * n), n);
        }
      } else {
        for (size_t done = 0; done < span; done += per) {
          const size_t len = std::min(per, span - done) * n;
          path.binary_row_prepared(p, at(a, a_off + done * n), terms.data(), 1, at(out, (r + done) * n), len);
        }
      }
      r += span;
    }
  });
}

void qglobal_average_pool(const QElementwisePath& path, const QRequant& r, bool x_signed, bool nhwc, size_t n,
                          size_t c, size_t spatial, int32_t zx, const void* x, void* out, ThreadPool* pool) {
  if (n == 0 || c == 0) return;
  const int32_t bias = static_cast<int32_t>(spatial) * zx;
  const size_t work = n * c * std::max<size_t>(spatial, 1);
  if (!nhwc) {
    parallel_ranges(pool, n * c, work, [&](size_t i0, size_t i1) {
      for (size_t i = i0; i < i1; ++i) {
        const int32_t sum = path.sum_row(at(x, i * spatial), x_signed, spatial);
        qstore(out, i, qrequant_one(r, sum - bias), r.out_signed);
      }
    });
    return;
  }
  // NHWC: blocks of channels of one image, summed down the pixels.
  constexpr size_t kBlock = 256;
  const size_t blocks = (c + kBlock - 1) / kBlock;
  parallel_ranges(pool, n * blocks, work, [&](size_t i0, size_t i1) {
    int32_t acc[kBlock];
    for (size_t i = i0; i < i1; ++i) {
      const size_t img = i / blocks, j0 = (i % blocks) * kBlock, cols = std::min(kBlock, c - j0);
      path.sum_pixels(at(x, img * spatial * c + j0), x_signed, spatial, cols, c, acc);
      for (size_t j = 0; j < cols; ++j) qstore(out, img * c + j0 + j, qrequant_one(r, acc[j] - bias), r.out_signed);
    }
  });
}

}  // namespace lowbit
