// The ISA-independent half of the elementwise operations: walking a broadcast
// plan row by row, and splitting a large call over the thread pool. Every
// output element is computed by one row-kernel call, the same way, whatever
// the split. Plain C++, compiled without ISA flags.
#include <vector>
#include <algorithm>

#include "lowbit/elementwise.h"
#include "lowbit/thread_pool.h"
#include "ops-parallel.h"

namespace lowbit {
namespace {

// Offsets of a broadcast plan's positions over its first `k` dims, walked with
// an odometer.
struct Walker {
  const BroadcastPlan& plan;
  size_t k;
  size_t idx[kMaxRank] = {};
  size_t a_off = 0, b_off = 0;

  Walker(const BroadcastPlan& p, size_t dims, size_t pos) : plan(p), k(dims) {
    for (size_t d = k; d-- > 0;) {
      idx[d] = pos % plan.dims[d];
      pos /= plan.dims[d];
      a_off += idx[d] * plan.a_stride[d];
      b_off += idx[d] * plan.b_stride[d];
    }
  }
  void next() {
    for (size_t d = k; d-- > 0;) {
      a_off += plan.a_stride[d];
      b_off += plan.b_stride[d];
      if (++idx[d] < plan.dims[d]) return;
      a_off -= idx[d] * plan.a_stride[d];
      b_off -= idx[d] * plan.b_stride[d];
      idx[d] = 0;
    }
  }
};

// A call of the row-block kernel: `rows` rows of elements [i0, i1) of the
// innermost axis, rows `a_row` / `b_row` apart in the inputs and `inner` apart
// in the output.
struct Block {
  size_t a, b, out;        // element offsets of the first row's element i0
  size_t rows, n;          // rows, elements per row
  size_t sa, sb;           // innermost strides
  size_t a_row, b_row, out_row;
};

// Cuts a plan into blocks and hands them out over the pool. Short innermost
// rows are grouped along the next axis (one kernel call per group of rows,
// the NHWC per-channel case); long ones are cut into chunks.
template <typename Run>
void run_plan(const BroadcastPlan& in, ThreadPool* pool, const Run& run) {
  BroadcastPlan plan = in;
  if (plan.rank == 0) {
    plan.rank = 1;
    plan.dims[0] = 1;
    plan.a_stride[0] = plan.b_stride[0] = 0;
  }
  const size_t count = plan.count();
  if (count == 0) return;
  const size_t last = plan.rank - 1;
  const size_t inner = plan.dims[last];
  const size_t sa = plan.a_stride[last], sb = plan.b_stride[last];
  if (plan.rank == 1 || inner >= kElementwiseChunk / 4) {
    // Long rows: one kernel call per chunk of a row.
    const size_t rows = count / inner;
    const size_t chunk = inner > kElementwiseChunk ? kElementwiseChunk : inner;
    const size_t chunks = (inner + chunk - 1) / chunk;
    parallel_ranges(pool, rows * chunks, count, [&](size_t item0, size_t item1) {
      size_t r = item0 / chunks, c = item0 % chunks;
      Walker w(plan, last, r);
      for (size_t item = item0; item < item1; ++item) {
        const size_t i0 = c * chunk, i1 = std::min(inner, i0 + chunk);
        run(Block{w.a_off + i0 * sa, w.b_off + i0 * sb, r * inner + i0, 1, i1 - i0, sa, sb, 0, 0, inner});
        if (++c == chunks) {
          c = 0;
          ++r;
          if (item + 1 < item1) w.next();
        }
      }
    });
    return;
  }
  // Short rows: groups of rows along axis last - 1.
  const size_t mid = plan.dims[last - 1];
  const size_t ar = plan.a_stride[last - 1], br = plan.b_stride[last - 1];
  const size_t per = std::max<size_t>(1, kElementwiseChunk / inner);
  const size_t groups = (mid + per - 1) / per;
  const size_t outer = count / (mid * inner);
  parallel_ranges(pool, outer * groups, count, [&](size_t item0, size_t item1) {
    size_t o = item0 / groups, g = item0 % groups;
    Walker w(plan, last - 1, o);
    for (size_t item = item0; item < item1; ++item) {
      const size_t m0 = g * per, m1 = std::min(mid, m0 + per);
      run(Block{w.a_off + m0 * ar, w.b_off + m0 * br, (o * mid + m0) * inner, m1 - m0, inner, sa, sb, ar, br, inner});
      if (++g == groups) {
        g = 0;
        ++o;
        if (item + 1 < item1) w.next();
      }
    }
  });
}

}  // namespace

void binary_f32(const ElementwisePath& path, BinaryOp op, const BroadcastPlan& plan, const float* a,
                const float* b, float* out, float lo, float hi, ThreadPool* pool) {
  run_plan(plan, pool, [&](const Block& k) {
    // NHWC per-channel broadcast (x[N,H,W,C] op s[N,1,1,C], an SE block): rows
    // of only C elements leave the vector loop mostly in its scalar tail. When a
    // and out are contiguous and b repeats one row, R rows become one row of R*C
    // elements against b repeated R times (the same element-wise operations, so
    // the same results).
    const bool repeat_b = k.sa == 1 && k.sb == 1 && k.b_row == 0 && k.a_row == k.n && k.out_row == k.n;
    if (repeat_b && k.n < 64 && k.rows >= 2) {
      const size_t r = std::min(k.rows, (256 + k.n - 1) / k.n);
      thread_local std::vector<float> repeated;
      repeated.resize(r * k.n);
      for (size_t i = 0; i < r; ++i) std::copy(b + k.b, b + k.b + k.n, repeated.data() + i * k.n);
      const size_t groups = k.rows / r, wide = r * k.n;
      path.binary_f32(op, a + k.a, 1, wide, repeated.data(), 1, 0, out + k.out, groups, wide, lo, hi);
      const size_t done = groups * r;
      if (done < k.rows) {
        path.binary_f32(op, a + k.a + done * k.n, 1, k.n, b + k.b, 1, 0, out + k.out + done * k.n, k.rows - done, k.n, lo, hi);
      }
      return;
    }
    path.binary_f32(op, a + k.a, k.sa, k.a_row, b + k.b, k.sb, k.b_row, out + k.out, k.rows, k.n, lo, hi);
  });
}

void binary_s32(const ElementwisePath& path, BinaryOp op, const BroadcastPlan& plan, const int32_t* a,
                const int32_t* b, int32_t* out, ThreadPool* pool) {
  run_plan(plan, pool, [&](const Block& k) {
    path.binary_s32(op, a + k.a, k.sa, k.a_row, b + k.b, k.sb, k.b_row, out + k.out, k.rows, k.n);
  });
}

namespace {

template <typename T>
void binary_8bit_typed(BinaryOp op, const BroadcastPlan& plan, const T* a, const T* b, T* out, ThreadPool* pool) {
  run_plan(plan, pool, [&](const Block& k) {
    for (size_t r = 0; r < k.rows; ++r) {
      const T* ar = a + k.a + r * k.a_row;
      const T* br = b + k.b + r * k.b_row;
      T* orow = out + k.out + r * k.out_row;
      for (size_t i = 0; i < k.n; ++i) {
        const int32_t v = binary_one_s32(op, ar[i * k.sa], br[i * k.sb]);
        orow[i] = static_cast<T>(static_cast<uint32_t>(v) & 0xFFu);
      }
    }
  });
}

}  // namespace

void binary_8bit(BinaryOp op, const BroadcastPlan& plan, const void* a, const void* b, void* out, bool is_signed,
                 ThreadPool* pool) {
  if (is_signed) {
    binary_8bit_typed(op, plan, static_cast<const int8_t*>(a), static_cast<const int8_t*>(b), static_cast<int8_t*>(out),
                      pool);
  } else {
    binary_8bit_typed(op, plan, static_cast<const uint8_t*>(a), static_cast<const uint8_t*>(b),
                      static_cast<uint8_t*>(out), pool);
  }
}

void unary_f32(const ElementwisePath& path, const UnaryParams& p, const float* x, float* out, size_t n,
               ThreadPool* pool) {
  const size_t chunks = (n + kElementwiseChunk - 1) / kElementwiseChunk;
  parallel_ranges(pool, chunks, n, [&](size_t c0, size_t c1) {
    const size_t i0 = c0 * kElementwiseChunk, i1 = std::min(n, c1 * kElementwiseChunk);
    path.unary_f32(p, x + i0, out + i0, i1 - i0);
  });
}

void lut8(const ElementwisePath& path, const uint8_t* table, const uint8_t* x, uint8_t* out, size_t n,
          ThreadPool* pool) {
  const size_t chunks = (n + kElementwiseChunk - 1) / kElementwiseChunk;
  parallel_ranges(pool, chunks, n / 4, [&](size_t c0, size_t c1) {
    const size_t i0 = c0 * kElementwiseChunk, i1 = std::min(n, c1 * kElementwiseChunk);
    path.lut8(table, x + i0, out + i0, i1 - i0);
  });
}

void channel_affine_f32(const ElementwisePath& path, const float* x, size_t outer, size_t channels, size_t inner,
                        const float* scale, const float* bias, float* out, float lo, float hi, ThreadPool* pool) {
  const size_t count = outer * channels * inner;
  if (count == 0) return;
  if (inner == 1) {
    // Channels last: each row of `channels` values meets the whole parameter vector.
    parallel_ranges(pool, outer, count, [&](size_t r0, size_t r1) {
      for (size_t r = r0; r < r1; ++r) {
        path.affine_f32(x + r * channels, scale, bias, 1, out + r * channels, channels, lo, hi);
      }
    });
    return;
  }
  // Channels first: each row of `inner` values has one scale and one bias.
  parallel_ranges(pool, outer * channels, count, [&](size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; ++r) {
      const size_t c = r % channels;
      path.affine_f32(x + r * inner, scale + c, bias + c, 0, out + r * inner, inner, lo, hi);
    }
  });
}

}  // namespace lowbit
