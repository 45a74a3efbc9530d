// Pooling: the ref channel-row kernels (the ground truth) and the drivers that
// walk windows (NHWC through a path's row kernels; NCHW in plain C++ on every
// path, since the runner keeps convolutional chains channels-last).
#include "lowbit/pool.h"

#include <cstring>
#include <limits>
#include <vector>

#include "../ops-parallel.h"
#include "lowbit/elementwise.h"

namespace lowbit {
namespace ref {
namespace {

inline float max_nan(float a, float b) { return binary_one(BinaryOp::kMax, a, b); }

void max_f32(const float* const* rows, size_t taps, size_t c, float* out) {
  for (size_t j = 0; j < c; ++j) {
    float m = rows[0][j];
    for (size_t t = 1; t < taps; ++t) m = max_nan(m, rows[t][j]);
    out[j] = m;
  }
}

template <typename T>
void max_int(const T* const* rows, size_t taps, size_t c, T* out) {
  for (size_t j = 0; j < c; ++j) {
    T m = rows[0][j];
    for (size_t t = 1; t < taps; ++t) m = rows[t][j] > m ? rows[t][j] : m;
    out[j] = m;
  }
}

void max_u8(const uint8_t* const* rows, size_t taps, size_t c, uint8_t* out) { max_int(rows, taps, c, out); }
void max_s8(const int8_t* const* rows, size_t taps, size_t c, int8_t* out) { max_int(rows, taps, c, out); }

void avg_f32(const float* const* rows, size_t taps, size_t c, float divisor, float* out) {
  for (size_t j = 0; j < c; ++j) {
    float s = rows[0][j];
    for (size_t t = 1; t < taps; ++t) s = s + rows[t][j];
    out[j] = s / divisor;
  }
}

}  // namespace

extern const PoolPath kPoolPath = {Isa::kRef, max_f32, max_u8, max_s8, avg_f32};

}  // namespace ref

namespace {

template <typename T>
T lowest() {
  return std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity()
                                              : std::numeric_limits<T>::lowest();
}

// Valid input positions of one window along one axis, and how many taps fall
// inside the padded extent.
void window_axis(size_t o, size_t stride, size_t pad_begin, size_t pad_end, size_t k, size_t dil, size_t size,
                 std::vector<ptrdiff_t>* pos, size_t* padded) {
  pos->clear();
  *padded = 0;
  const ptrdiff_t start = static_cast<ptrdiff_t>(o * stride) - static_cast<ptrdiff_t>(pad_begin);
  for (size_t t = 0; t < k; ++t) {
    const ptrdiff_t y = start + static_cast<ptrdiff_t>(t * dil);
    if (y >= -static_cast<ptrdiff_t>(pad_begin) && y < static_cast<ptrdiff_t>(size + pad_end)) ++*padded;
    if (y >= 0 && y < static_cast<ptrdiff_t>(size)) pos->push_back(y);
  }
}

// Per-thread scratch, grown and never shrunk: no allocation once warm.
template <typename T>
struct Scratch {
  std::vector<const T*> rows;
  std::vector<ptrdiff_t> ys, xs;
};

template <typename T>
Scratch<T>& scratch() {
  thread_local Scratch<T> s;
  return s;
}

inline void call_max(const PoolPath& path, const float* const* rows, size_t taps, size_t c, float* out) {
  path.max_f32(rows, taps, c, out);
}
inline void call_max(const PoolPath& path, const uint8_t* const* rows, size_t taps, size_t c, uint8_t* out) {
  path.max_u8(rows, taps, c, out);
}
inline void call_max(const PoolPath& path, const int8_t* const* rows, size_t taps, size_t c, int8_t* out) {
  path.max_s8(rows, taps, c, out);
}

template <typename T>
void pool_nhwc(const PoolPath& path, PoolKind kind, const Pool2dParams& p, const T* x, T* out, ThreadPool* pool) {
  const size_t rows = p.n * p.oh;
  const size_t work = rows * p.ow * p.c * p.kh * p.kw;
  parallel_ranges(pool, rows, work, [&](size_t r0, size_t r1) {
    Scratch<T>& s = scratch<T>();
    if (s.rows.size() < p.kh * p.kw) s.rows.resize(p.kh * p.kw);
    for (size_t r = r0; r < r1; ++r) {
      const size_t ni = r / p.oh, oy = r % p.oh;
      size_t padded_y = 0;
      window_axis(oy, p.sh, p.pad_top, p.pad_bottom, p.kh, p.dh, p.h, &s.ys, &padded_y);
      for (size_t ox = 0; ox < p.ow; ++ox) {
        size_t padded_x = 0;
        window_axis(ox, p.sw, p.pad_left, p.pad_right, p.kw, p.dw, p.w, &s.xs, &padded_x);
        size_t taps = 0;
        for (ptrdiff_t y : s.ys) {
          for (ptrdiff_t xx : s.xs) {
            s.rows[taps++] = x + ((ni * p.h + static_cast<size_t>(y)) * p.w + static_cast<size_t>(xx)) * p.c;
          }
        }
        T* dst = out + ((ni * p.oh + oy) * p.ow + ox) * p.c;
        if (taps == 0) {
          const T fill = kind == PoolKind::kMax ? lowest<T>() : T(0);
          for (size_t j = 0; j < p.c; ++j) dst[j] = fill;
          continue;
        }
        if (kind == PoolKind::kMax) {
          call_max(path, s.rows.data(), taps, p.c, dst);
        } else if constexpr (std::is_same_v<T, float>) {
          const size_t divisor = p.count_include_pad ? padded_y * padded_x : taps;
          path.avg_f32(s.rows.data(), taps, p.c, static_cast<float>(divisor), dst);
        }
      }
    }
  });
}

template <typename T>
inline T max_of(T a, T b) {
  if constexpr (std::is_same_v<T, float>) return binary_one(BinaryOp::kMax, a, b);
  else return b > a ? b : a;
}

template <typename T>
void pool_nchw(PoolKind kind, const Pool2dParams& p, const T* x, T* out, ThreadPool* pool) {
  const size_t planes = p.n * p.c;
  const size_t work = planes * p.oh * p.ow * p.kh * p.kw;
  parallel_ranges(pool, planes, work, [&](size_t q0, size_t q1) {
    std::vector<ptrdiff_t>& ys = scratch<T>().ys;
    std::vector<ptrdiff_t>& xs = scratch<T>().xs;
    for (size_t q = q0; q < q1; ++q) {
      const T* plane = x + q * p.h * p.w;
      T* dst = out + q * p.oh * p.ow;
      for (size_t oy = 0; oy < p.oh; ++oy) {
        size_t padded_y = 0;
        window_axis(oy, p.sh, p.pad_top, p.pad_bottom, p.kh, p.dh, p.h, &ys, &padded_y);
        for (size_t ox = 0; ox < p.ow; ++ox) {
          size_t padded_x = 0;
          window_axis(ox, p.sw, p.pad_left, p.pad_right, p.kw, p.dw, p.w, &xs, &padded_x);
          const size_t taps = ys.size() * xs.size();
          T& o = dst[oy * p.ow + ox];
          if (taps == 0) {
            o = kind == PoolKind::kMax ? lowest<T>() : T(0);
            continue;
          }
          T acc = plane[static_cast<size_t>(ys[0]) * p.w + static_cast<size_t>(xs[0])];
          bool first = true;
          for (ptrdiff_t y : ys) {
            for (ptrdiff_t xx : xs) {
              if (first) {
                first = false;
                continue;
              }
              const T v = plane[static_cast<size_t>(y) * p.w + static_cast<size_t>(xx)];
              if (kind == PoolKind::kMax) acc = max_of(acc, v);
              else acc = static_cast<T>(acc + v);
            }
          }
          if constexpr (std::is_same_v<T, float>) {
            if (kind == PoolKind::kAverage) {
              acc = acc / static_cast<float>(p.count_include_pad ? padded_y * padded_x : taps);
            }
          }
          o = acc;
        }
      }
    }
  });
}

template <typename T>
void pool2d_typed(const PoolPath& path, PoolKind kind, Layout layout, const Pool2dParams& p, const void* x, void* out,
                  ThreadPool* pool) {
  if (layout == Layout::kNhwc) pool_nhwc<T>(path, kind, p, static_cast<const T*>(x), static_cast<T*>(out), pool);
  else pool_nchw<T>(kind, p, static_cast<const T*>(x), static_cast<T*>(out), pool);
}

// Channel ranges of this many channels are one work item of a global pool.
constexpr size_t kGlobalChannelBlock = 64;
// Positions combined per kernel call (bounds the pointer scratch).
constexpr size_t kGlobalTapBlock = 1024;

template <typename T>
void global_typed(const PoolPath& path, PoolKind kind, Layout layout, size_t n, size_t c, size_t spatial,
                  const T* x, T* out, ThreadPool* pool) {
  if (n == 0 || c == 0) return;
  if (spatial == 0) {
    for (size_t i = 0; i < n * c; ++i) out[i] = kind == PoolKind::kMax ? lowest<T>() : T(0);
    return;
  }
  if (layout == Layout::kNchw) {
    parallel_ranges(pool, n * c, n * c * spatial, [&](size_t q0, size_t q1) {
      for (size_t q = q0; q < q1; ++q) {
        const T* v = x + q * spatial;
        T acc = v[0];
        for (size_t i = 1; i < spatial; ++i) acc = kind == PoolKind::kMax ? max_of(acc, v[i]) : static_cast<T>(acc + v[i]);
        if constexpr (std::is_same_v<T, float>) {
          if (kind == PoolKind::kAverage) acc = acc / static_cast<float>(spatial);
        }
        out[q] = acc;
      }
    });
    return;
  }
  const size_t blocks = (c + kGlobalChannelBlock - 1) / kGlobalChannelBlock;
  parallel_ranges(pool, n * blocks, n * c * spatial, [&](size_t i0, size_t i1) {
    Scratch<T>& s = scratch<T>();
    if (s.rows.size() < kGlobalTapBlock + 1) s.rows.resize(kGlobalTapBlock + 1);
    for (size_t i = i0; i < i1; ++i) {
      const size_t ni = i / blocks, c0 = (i % blocks) * kGlobalChannelBlock;
      const size_t cn = c - c0 < kGlobalChannelBlock ? c - c0 : kGlobalChannelBlock;
      T* dst = out + ni * c + c0;
      // Positions in blocks; after the first block, the partial result (in
      // dst) is the first row of the next, so the taps are still combined in
      // position order, as one call over all of them would.
      for (size_t sp0 = 0; sp0 < spatial; sp0 += kGlobalTapBlock) {
        const size_t sp1 = spatial - sp0 < kGlobalTapBlock ? spatial : sp0 + kGlobalTapBlock;
        size_t t = 0;
        if (sp0 > 0) s.rows[t++] = dst;
        for (size_t sp = sp0; sp < sp1; ++sp) s.rows[t++] = x + (ni * spatial + sp) * c + c0;
        if (kind == PoolKind::kMax) {
          call_max(path, s.rows.data(), t, cn, dst);
        } else if constexpr (std::is_same_v<T, float>) {
          path.avg_f32(s.rows.data(), t, cn, sp1 == spatial ? static_cast<float>(spatial) : 1.0f, dst);
        }
      }
    }
  });
}

}  // namespace

void pool2d(const PoolPath& path, PoolKind kind, Layout layout, ElementType type, const Pool2dParams& p,
            const void* x, void* out, ThreadPool* pool) {
  if (p.n == 0 || p.c == 0 || p.oh == 0 || p.ow == 0) return;
  switch (type) {
    case ElementType::kFloat32: pool2d_typed<float>(path, kind, layout, p, x, out, pool); break;
    case ElementType::kUint8: pool2d_typed<uint8_t>(path, PoolKind::kMax, layout, p, x, out, pool); break;
    case ElementType::kInt8: pool2d_typed<int8_t>(path, PoolKind::kMax, layout, p, x, out, pool); break;
    default: break;
  }
}

void global_pool(const PoolPath& path, PoolKind kind, Layout layout, ElementType type, size_t n, size_t c,
                 size_t spatial, const void* x, void* out, ThreadPool* pool) {
  switch (type) {
    case ElementType::kFloat32:
      global_typed<float>(path, kind, layout, n, c, spatial, static_cast<const float*>(x), static_cast<float*>(out), pool);
      break;
    case ElementType::kUint8:
      global_typed<uint8_t>(path, PoolKind::kMax, layout, n, c, spatial, static_cast<const uint8_t*>(x),
                            static_cast<uint8_t*>(out), pool);
      break;
    case ElementType::kInt8:
      global_typed<int8_t>(path, PoolKind::kMax, layout, n, c, spatial, static_cast<const int8_t*>(x),
                           static_cast<int8_t*>(out), pool);
      break;
    default: break;
  }
}

}  // namespace lowbit
