// Data movement: transpose (every rank 1..6 permutation family, 1- and 4-byte
// elements, the NCHW <-> NHWC tiles with odd sizes) against a direct index
// computation on every path and thread count; index maps (slice, pad fill,
// repeats) and gather (negative and out-of-range indices) against direct
// definitions; the resize weighted sum of every path against ref, and NCHW
// against NHWC, bit for bit.
#include <algorithm>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "harness.h"
#include "lowbit/layout.h"
#include "lowbit/thread_pool.h"

using namespace lowbit;
using namespace lowbit_test;

namespace {

ThreadPool& pool3() {
  static ThreadPool pool(3);
  return pool;
}

std::vector<uint8_t> random_bytes(size_t n) {
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng()());
  return v;
}

std::vector<uint8_t> naive_transpose(const std::vector<uint8_t>& x, size_t eb, const std::vector<size_t>& shape,
                                     const std::vector<size_t>& perm) {
  const size_t rank = shape.size();
  std::vector<size_t> in_stride(rank), out_dims(rank);
  size_t s = 1;
  for (size_t d = rank; d-- > 0;) {
    in_stride[d] = s;
    s *= shape[d];
  }
  for (size_t i = 0; i < rank; ++i) out_dims[i] = shape[perm[i]];
  std::vector<uint8_t> y(x.size());
  const size_t total = s;
  for (size_t o = 0; o < total; ++o) {
    size_t rem = o, src = 0;
    for (size_t i = rank; i-- > 0;) {
      src += (rem % out_dims[i]) * in_stride[perm[i]];
      rem /= out_dims[i];
    }
    std::memcpy(&y[o * eb], &x[src * eb], eb);
  }
  return y;
}

}  // namespace

TEST(transpose_matches_direct_indexing) {
  std::vector<std::pair<std::vector<size_t>, std::vector<size_t>>> cases = {
      {{2, 3, 5, 7}, {0, 2, 3, 1}},    // NCHW -> NHWC
      {{2, 5, 7, 3}, {0, 3, 1, 2}},    // NHWC -> NCHW
      {{1, 3, 224, 224}, {0, 2, 3, 1}},
      {{1, 112, 112, 17}, {0, 3, 1, 2}},
      {{9, 13}, {1, 0}},
      {{1, 1, 1}, {2, 0, 1}},
      {{4}, {0}},
      {{2, 3, 4}, {0, 1, 2}},
      {{2, 1, 3, 1, 4}, {4, 3, 2, 1, 0}},
      {{3, 4, 5, 2}, {1, 0, 3, 2}},
      {{2, 3, 2, 3, 2, 3}, {5, 1, 3, 0, 2, 4}},
      {{70, 33}, {1, 0}},
      {{5, 0, 3}, {2, 1, 0}},
  };
  // Random permutations of random small shapes, ranks 1..6.
  for (int r = 0; r < 40; ++r) {
    const size_t rank = 1 + rng()() % 6;
    std::vector<size_t> shape(rank), perm(rank);
    for (auto& d : shape) d = 1 + rng()() % 6;
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng());
    cases.push_back({shape, perm});
  }
  for (const auto& [shape, perm] : cases) {
    size_t total = 1;
    for (size_t d : shape) total *= d;
    for (size_t eb : {size_t{1}, size_t{4}}) {
      const auto x = random_bytes(total * eb);
      const auto want = naive_transpose(x, eb, shape, perm);
      for (Isa isa : isas_under_test()) {
        for (ThreadPool* tp : {static_cast<ThreadPool*>(nullptr), &pool3()}) {
          std::vector<uint8_t> got(total * eb, 0xAB);
          transpose(layout_path(isa), eb, shape.size(), shape.data(), perm.data(), x.data(), got.data(), tp);
          if (got != want) {
            std::string s;
            for (size_t d : shape) s += std::to_string(d) + " ";
            record_failure(__FILE__, __LINE__, std::string(isa_name(isa)) + " eb=" + std::to_string(eb) + " shape " + s);
            return;
          }
        }
      }
    }
  }
}

TEST(transpose_tiles_match_ref) {
  for (Isa isa : isas_under_test()) {
    const LayoutPath& path = layout_path(isa);
    for (size_t rows : {1, 3, 7, 8, 9, 16, 33}) {
      for (size_t cols : {1, 5, 8, 15, 16, 40}) {
        std::vector<uint32_t> src(rows * (cols + 3)), want(cols * (rows + 2), 7), got(cols * (rows + 2), 7);
        for (auto& v : src) v = rng()();
        ref::kLayoutPath.transpose_32(src.data(), cols + 3, want.data(), rows + 2, rows, cols);
        path.transpose_32(src.data(), cols + 3, got.data(), rows + 2, rows, cols);
        CHECK(want == got);
      }
    }
  }
}

TEST(transpose_interleave_tiles_match_ref) {
  // Dense destinations (ds == rows): the 3- and 4-row interleaves (an image's
  // planes to NHWC), both widths, column counts around the 8/16 steps.
  for (Isa isa : isas_under_test()) {
    const LayoutPath& path = layout_path(isa);
    for (size_t rows : {1, 2, 3, 4, 5}) {
      for (size_t cols : {1, 7, 8, 15, 16, 17, 33, 100}) {
        const size_t ss = cols + rng()() % 3;
        std::vector<uint32_t> src(rows * ss), want(cols * rows + 5, 7), got(cols * rows + 5, 7);
        for (auto& v : src) v = rng()();
        ref::kLayoutPath.transpose_32(src.data(), ss, want.data(), rows, rows, cols);
        path.transpose_32(src.data(), ss, got.data(), rows, rows, cols);
        CHECK(want == got);
        std::vector<uint8_t> src8(rows * ss), want8(cols * rows + 5, 7), got8(cols * rows + 5, 7);
        for (auto& v : src8) v = static_cast<uint8_t>(rng()());
        ref::kLayoutPath.transpose_8(src8.data(), ss, want8.data(), rows, rows, cols);
        path.transpose_8(src8.data(), ss, got8.data(), rows, rows, cols);
        CHECK(want8 == got8);
      }
    }
  }
}

// Every rows x cols in 1..70 against ref, both widths, with source and
// destination strides beyond the extents (the padding must stay untouched):
// the register tiles, their overlapping edge tiles and the small-side loops.
template <typename T>
bool tile_matches_ref(const LayoutPath& path, size_t rows, size_t cols, size_t ss, size_t ds) {
  std::vector<T> src(rows * ss), want(cols * ds, 7), got(cols * ds, 7);
  for (auto& v : src) v = static_cast<T>(rng()());
  if constexpr (sizeof(T) == 4) {
    ref::kLayoutPath.transpose_32(src.data(), ss, want.data(), ds, rows, cols);
    path.transpose_32(src.data(), ss, got.data(), ds, rows, cols);
  } else {
    ref::kLayoutPath.transpose_8(src.data(), ss, want.data(), ds, rows, cols);
    path.transpose_8(src.data(), ss, got.data(), ds, rows, cols);
  }
  // ref itself against the definition, so a shared mistake cannot pass.
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < cols; ++c) {
      if (want[c * ds + r] != src[r * ss + c]) return false;
    }
  }
  return want == got;
}

TEST(transpose_tiles_all_sizes_match_ref) {
  for (Isa isa : isas_under_test()) {
    const LayoutPath& path = layout_path(isa);
    for (size_t rows = 1; rows <= 70; ++rows) {
      for (size_t cols = 1; cols <= 70; ++cols) {
        // Dense and padded strides on each side.
        for (int dense = 0; dense < 4; ++dense) {
          const size_t ss = cols + ((dense & 1) ? 0 : 1 + rng()() % 17);
          const size_t ds = rows + ((dense & 2) ? 0 : 1 + rng()() % 17);
          if (!tile_matches_ref<uint32_t>(path, rows, cols, ss, ds) ||
              !tile_matches_ref<uint8_t>(path, rows, cols, ss, ds)) {
            record_failure(__FILE__, __LINE__, std::string(isa_name(isa)) + " rows " + std::to_string(rows) +
                                                   " cols " + std::to_string(cols) + " ss " + std::to_string(ss) +
                                                   " ds " + std::to_string(ds));
            return;
          }
        }
      }
    }
  }
}

// NCHW <-> NHWC with batch > 1 and sizes past the driver's 64-row / 2048-column
// chunks (remainders above and below a tile; narrow tiles split in long row
// chunks), both widths, 1 and 3 threads (the last shape is past the parallel
// threshold for bytes too).
TEST(transpose_nchw_nhwc_large_shapes) {
  const std::vector<std::vector<size_t>> shapes = {
      {2, 88, 12, 48}, {3, 130, 7, 9}, {2, 65, 45, 47}, {2, 17, 2100, 1}, {3, 1000, 3, 3}, {2, 200, 1, 2113}, {5, 9, 1, 1},
      {1, 3, 100, 300}, {2, 20, 1, 5000}, {1, 7, 1, 9000}, {2, 50, 40, 300}};
  for (const auto& nchw : shapes) {
    size_t total = 1;
    for (size_t d : nchw) total *= d;
    for (size_t eb : {size_t{1}, size_t{4}}) {
      for (int dir = 0; dir < 2; ++dir) {
        // dir 0: NCHW -> NHWC; dir 1: the NHWC tensor back to NCHW.
        const std::vector<size_t> shape = dir == 0 ? nchw : std::vector<size_t>{nchw[0], nchw[2], nchw[3], nchw[1]};
        const std::vector<size_t> perm = dir == 0 ? std::vector<size_t>{0, 2, 3, 1} : std::vector<size_t>{0, 3, 1, 2};
        const auto x = random_bytes(total * eb);
        const auto want = naive_transpose(x, eb, shape, perm);
        for (Isa isa : isas_under_test()) {
          for (ThreadPool* tp : {static_cast<ThreadPool*>(nullptr), &pool3()}) {
            std::vector<uint8_t> got(total * eb, 0xAB);
            transpose(layout_path(isa), eb, shape.size(), shape.data(), perm.data(), x.data(), got.data(), tp);
            if (got != want) {
              std::string s;
              for (size_t d : shape) s += std::to_string(d) + " ";
              record_failure(__FILE__, __LINE__,
                             std::string(isa_name(isa)) + " eb=" + std::to_string(eb) + " shape " + s);
              return;
            }
          }
        }
      }
    }
  }
}

TEST(gather_axes_matches_definition) {
  for (int trial = 0; trial < 120; ++trial) {
    AxisMaps m;
    m.rank = 1 + rng()() % 4;
    // 0: slices / pads (runs), 1: random maps, 2: repeats (nearest upsample),
    // 3: any of those with the innermost axis copied whole (NHWC channels).
    const int style = trial % 4;
    for (size_t d = 0; d < m.rank; ++d) {
      m.in_dims[d] = 1 + rng()() % 7;
      m.out_dims[d] = 1 + rng()() % 9;
      if (style == 3 && d + 1 == m.rank) {
        m.out_dims[d] = m.in_dims[d];
        m.map[d].resize(m.in_dims[d]);
        for (size_t o = 0; o < m.in_dims[d]; ++o) m.map[d][o] = static_cast<int>(o);
        continue;
      }
      m.map[d].resize(m.out_dims[d]);
      const int pad = static_cast<int>(rng()() % 3);
      for (size_t o = 0; o < m.out_dims[d]; ++o) {
        int v;
        const int kind = style == 3 ? static_cast<int>(d % 3) : style;
        if (kind == 0) v = static_cast<int>(o) - pad;
        else if (kind == 1) v = static_cast<int>(rng()() % (m.in_dims[d] + 1)) - 1;
        else v = static_cast<int>(o * m.in_dims[d] / m.out_dims[d]);
        m.map[d][o] = v >= static_cast<int>(m.in_dims[d]) ? -1 : v;
      }
    }
    size_t in_total = 1, out_total = 1;
    for (size_t d = 0; d < m.rank; ++d) {
      in_total *= m.in_dims[d];
      out_total *= m.out_dims[d];
    }
    for (size_t eb : {size_t{1}, size_t{4}}) {
      const auto x = random_bytes(in_total * eb);
      const uint8_t fill[4] = {0x11, 0x22, 0x33, 0x44};
      std::vector<uint8_t> want(out_total * eb), got(out_total * eb);
      for (size_t o = 0; o < out_total; ++o) {
        size_t rem = o, src = 0, stride = 1;
        bool outside = false;
        for (size_t d = m.rank; d-- > 0;) {
          const int v = m.map[d][rem % m.out_dims[d]];
          rem /= m.out_dims[d];
          if (v < 0) outside = true;
          else src += static_cast<size_t>(v) * stride;
          stride *= m.in_dims[d];
        }
        std::memcpy(&want[o * eb], outside ? fill : &x[src * eb], eb);
      }
      gather_axes(eb, m, x.data(), got.data(), fill, trial % 2 ? &pool3() : nullptr);
      CHECK(want == got);
    }
    RETURN_IF_FAILED();
  }
}

TEST(gather_matches_definition) {
  const size_t outer = 3, axis = 5, inner = 4;
  std::vector<float> x(outer * axis * inner);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i);
  const int32_t idx[] = {0, 4, -1, -5, 2, 5, -6, 2};
  const size_t count = 8;
  std::vector<float> y(outer * count * inner, -1.0f);
  gather(4, outer, axis, inner, idx, count, x.data(), y.data(), nullptr);
  for (size_t o = 0; o < outer; ++o) {
    for (size_t k = 0; k < count; ++k) {
      int v = idx[k] < 0 ? idx[k] + 5 : idx[k];
      for (size_t j = 0; j < inner; ++j) {
        const float want = v < 0 || v >= 5 ? 0.0f : x[(o * axis + v) * inner + j];
        CHECK(y[(o * count + k) * inner + j] == want);
      }
    }
  }
}

TEST(resize_weighted_sums_match_ref_and_layouts_agree) {
  for (size_t c : {1, 3, 8, 19, 64}) {
    for (size_t taps : {1, 2, 4}) {
      const size_t n = 2, h = 5, w = 7, oh = 9, ow = 4;
      ResizeAxis ry, rx;
      auto make = [&](ResizeAxis& a, size_t out, size_t in) {
        a.out = out;
        a.taps = taps;
        a.index.resize(out * taps);
        a.weight.resize(out * taps);
        a.outside.assign(out, 0);
        for (size_t i = 0; i < out * taps; ++i) {
          a.index[i] = static_cast<int32_t>(rng()() % in);
          a.weight[i] = std::uniform_real_distribution<float>(-0.5f, 1.0f)(rng());
        }
        a.outside[out / 2] = taps == 4;
      };
      make(ry, oh, h);
      make(rx, ow, w);
      std::vector<float> x(n * c * h * w);
      for (auto& v : x) v = std::uniform_real_distribution<float>(-3.0f, 3.0f)(rng());
      std::vector<float> xn(x.size());
      for (size_t i = 0; i < n; ++i)
        for (size_t j = 0; j < c; ++j)
          for (size_t k = 0; k < h * w; ++k) xn[(i * h * w + k) * c + j] = x[(i * c + j) * h * w + k];
      std::vector<float> want(n * c * oh * ow), want_nhwc(want.size());
      resize2d_f32(ref::kLayoutPath, Layout::kNchw, n, c, h, w, ry, rx, -7.5f, x.data(), want.data(), nullptr);
      resize2d_f32(ref::kLayoutPath, Layout::kNhwc, n, c, h, w, ry, rx, -7.5f, xn.data(), want_nhwc.data(), nullptr);
      for (size_t i = 0; i < n; ++i)
        for (size_t j = 0; j < c; ++j)
          for (size_t k = 0; k < oh * ow; ++k)
            CHECK(std::memcmp(&want[(i * c + j) * oh * ow + k], &want_nhwc[(i * oh * ow + k) * c + j], 4) == 0);
      for (Isa isa : isas_under_test()) {
        std::vector<float> got(want.size());
        resize2d_f32(layout_path(isa), Layout::kNhwc, n, c, h, w, ry, rx, -7.5f, xn.data(), got.data(), &pool3());
        CHECK(std::memcmp(got.data(), want_nhwc.data(), got.size() * 4) == 0);
      }
      RETURN_IF_FAILED();
    }
  }
}
