// The ISA-independent half of the binary operations: weight packing, the
// output-stage preparation, and the drivers that cut a GEMM or a convolution
// into tiles for a path's kernels (the convolution as an indirect GEMM over a
// +1-bordered copy of the input, zero-padding corrections, thread split).
// Plain C++, compiled without ISA flags.
#include <algorithm>
#include <cstring>
#include <map>

#include "lowbit/binary.h"
#include "lowbit/thread_pool.h"

namespace lowbit {
namespace {

// Below this many bit-MACs a thread hand-off costs more than it saves.
constexpr size_t kParallelWork = size_t{1} << 22;
// Rows per block: the block's share of A (about this many bytes) stays in
// L1/L2 while it runs over every panel of weights.
constexpr size_t kBlockBytes = 32 * 1024;

uint64_t tail_mask(size_t bits) {
  const size_t r = bits % 64;
  return r == 0 ? ~uint64_t{0} : (uint64_t{1} << r) - 1;
}

// Scratch reused across calls by each thread (grown, never shrunk).
struct Scratch {
  AlignedBuffer words;
  std::vector<const uint64_t*> rows;
  std::vector<const int32_t*> corr;
  AlignedBuffer acc;

  uint64_t* words_for(size_t count) {
    if (words.size() < count * 8) words.resize(count * 8);
    return static_cast<uint64_t*>(words.data());
  }
  int32_t* acc_for(size_t count) {
    if (acc.size() < count * 4) acc.resize(count * 4);
    return static_cast<int32_t*>(acc.data());
  }
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

// Runs task(i) for i in [0, count) on the pool, or inline.
template <typename F>
void run_tasks(ThreadPool* pool, size_t count, size_t work, const F& task) {
  if (pool == nullptr || pool->threads() <= 1 || count <= 1 || work < kParallelWork) {
    for (size_t i = 0; i < count; ++i) task(i);
    return;
  }
  pool->parallel_for(count, [&](size_t i) { task(i); });
}

size_t pool_threads(ThreadPool* pool) { return pool == nullptr ? 1 : pool->threads(); }

// How a call is cut: row blocks of `block` rows (a multiple of mr) times
// `splits` ranges of whole panels. Every output is computed by exactly one
// tile, the same way whatever the split, so results never depend on it.
struct Split {
  size_t block, row_blocks, splits, panels;
};

Split split_work(size_t m, size_t n, size_t mr, size_t nr, size_t row_bytes, size_t threads) {
  Split s;
  s.panels = (n + nr - 1) / nr;
  size_t block = std::max<size_t>(1, kBlockBytes / std::max<size_t>(row_bytes, 1)) / mr * mr;
  block = std::max(block, mr);
  block = std::min(block, (m + mr - 1) / mr * mr);
  // With several threads, cut rows finer so that every thread gets work.
  if (threads > 1) {
    const size_t per_thread = (m + threads - 1) / threads;
    const size_t fine = std::max(mr, (per_thread + mr - 1) / mr * mr);
    block = std::min(block, fine);
  }
  s.block = block;
  s.row_blocks = (m + block - 1) / block;
  s.splits = 1;
  if (threads > 1 && s.row_blocks < threads) {
    s.splits = std::min(s.panels, (threads + s.row_blocks - 1) / s.row_blocks);
  }
  return s;
}

// Runs every tile of rows [0, m) (segment pointers and corrections given)
// over panels [p0, p1).
void run_tiles(const BinaryPath& path, const BinaryWeights& w, const BinaryOutput& os, size_t m,
               const uint64_t* const* rows, size_t segs, const int32_t* const* corr, size_t p0,
               size_t p1, uint8_t* out, size_t out_stride) {
  const size_t k_units = w.k_words * 8 / path.unit_bytes;
  const size_t panel_bytes = k_units * path.nr * path.unit_bytes;
  const uint8_t* data = static_cast<const uint8_t*>(w.data.data());
  BinaryTile t;
  t.segs = segs;
  t.seg_words = w.k_words / segs;
  t.k_words = w.k_words;
  t.k_bits = static_cast<int32_t>(w.k_bits);
  t.os = &os;
  t.out_stride = out_stride;
  for (size_t p = p0; p < p1; ++p) {
    t.panel = data + p * panel_bytes;
    t.n0 = p * path.nr;
    t.n = std::min(path.nr, w.n - t.n0);
    for (size_t r = 0; r < m; r += path.mr) {
      t.m = std::min(path.mr, m - r);
      t.rows = rows + r * segs;
      t.corr = corr != nullptr ? corr + r : nullptr;
      t.out = out + r * out_stride;
      path.tile(t);
    }
  }
}

// Bits output: clear each row's bytes from the last (partial) byte of valid
// channels on, so that tail bits are zero and partial bytes can be or-ed into.
void clear_bit_tails(const BinaryOutput& os, size_t rows, uint8_t* out, size_t stride) {
  if (os.kind != BinaryOutputKind::kBits) return;
  const size_t from = os.n / 8;
  if (from >= stride) return;
  for (size_t r = 0; r < rows; ++r) std::memset(out + r * stride + from, 0, stride - from);
}

}  // namespace

// ---------------------------------------------------------------- preparation

size_t binary_output_row_bytes(BinaryOutputKind kind, size_t n) {
  switch (kind) {
    case BinaryOutputKind::kFloat32: return 4 * n;
    case BinaryOutputKind::kInt8: return n;
    case BinaryOutputKind::kBits: return 8 * bit_words(n);
  }
  return 0;
}

void prepare_binary_output(BinaryOutputKind kind, size_t n, const float* alpha, size_t alpha_count,
                           const float* beta, size_t beta_count, const float* threshold,
                           size_t threshold_count, float y_scale, int32_t y_zero_point,
                           BinaryOutput* out) {
  out->kind = kind;
  out->n = n;
  out->y_scale = y_scale;
  out->y_zero_point = y_zero_point;
  const size_t padded = (n + 63) / 64 * 64;
  auto fill = [&](AlignedBuffer* buf, const float* v, size_t count, float dflt) {
    buf->resize(std::max<size_t>(padded, 64) * sizeof(float));
    float* d = static_cast<float*>(buf->data());
    for (size_t c = 0; c < n; ++c) d[c] = count == 0 || v == nullptr ? dflt : v[count == 1 ? 0 : c];
  };
  fill(&out->alpha, alpha, alpha_count, 1.0f);
  fill(&out->beta, beta, beta_count, 0.0f);
  fill(&out->threshold, threshold, threshold_count, 0.0f);
}

void pack_binary_weights(const BinaryPath& path, const uint64_t* w, size_t n, size_t taps,
                         size_t tap_bits, size_t row_stride, BinaryWeights* out) {
  out->path = &path;
  out->n = n;
  out->taps = taps;
  out->tap_bits = tap_bits;
  out->tap_words = bit_words(tap_bits);
  out->k_words = taps * out->tap_words;
  out->k_bits = taps * tap_bits;
  const size_t units_per_word = 8 / path.unit_bytes;
  const size_t k_units = out->k_words * units_per_word;
  const size_t panels = (n + path.nr - 1) / path.nr;
  out->data.resize(panels * k_units * path.nr * path.unit_bytes);
  const uint64_t mask = tail_mask(tap_bits);
  uint8_t* data = static_cast<uint8_t*>(out->data.data());
  out->tap_sum.assign(taps * n, 0);
  for (size_t c = 0; c < n; ++c) {
    const uint64_t* row = w + c * row_stride;
    uint8_t* panel = data + (c / path.nr) * k_units * path.nr * path.unit_bytes;
    const size_t col = c % path.nr;
    for (size_t t = 0; t < taps; ++t) {
      int32_t ones = 0;
      for (size_t i = 0; i < out->tap_words; ++i) {
        const size_t j = t * out->tap_words + i;
        // Bits past the last channel of a tap are ignored: cleared here.
        const uint64_t word = i + 1 == out->tap_words ? row[j] & mask : row[j];
        ones += __builtin_popcountll(word);
        for (size_t u = 0; u < units_per_word; ++u) {
          const size_t unit = j * units_per_word + u;
          std::memcpy(panel + (unit * path.nr + col) * path.unit_bytes,
                      reinterpret_cast<const uint8_t*>(&word) + u * path.unit_bytes, path.unit_bytes);
        }
      }
      out->tap_sum[t * n + c] = static_cast<int32_t>(tap_bits) - 2 * ones;
    }
  }
}

void pack_binary_weight_matrix(const BinaryPath& path, const uint64_t* w, size_t n, size_t k,
                               BinaryWeightMatrix* out) {
  out->path = &path;
  out->n = n;
  out->k = k;
  out->n_words = bit_words(n);
  out->bits.resize(std::max<size_t>(k * out->n_words * 8, 8));
  uint64_t* bits = static_cast<uint64_t*>(out->bits.data());
  const size_t k_words = bit_words(k);
  for (size_t c = 0; c < n; ++c) {
    for (size_t i = 0; i < k; ++i) {
      if ((w[c * k_words + i / 64] >> (i % 64)) & 1) bits[i * out->n_words + c / 64] |= uint64_t{1} << (c % 64);
    }
  }
  std::lock_guard<std::mutex> lock(out->int8_mutex);
  out->int8_ready = false;
}

// ---------------------------------------------------------------- GEMM

void binary_gemm(const BinaryWeights& w, const BinaryOutput& os, size_t m, const uint64_t* a,
                 size_t a_stride, void* y, ThreadPool* pool) {
  const BinaryPath& path = *w.path;
  uint8_t* out = static_cast<uint8_t*>(y);
  const size_t out_stride = binary_output_row_bytes(os.kind, w.n);
  if (m == 0 || w.n == 0) return;
  clear_bit_tails(os, m, out, out_stride);
  // Rows are read in place unless some row carries bits past K, which must
  // not count: then each block is copied with its tails cleared.
  const uint64_t mask = tail_mask(w.k_bits);
  bool clean = true;
  for (size_t r = 0; r < m && clean; ++r) clean = (a[r * a_stride + w.k_words - 1] & ~mask) == 0;

  const Split s = split_work(m, w.n, path.mr, path.nr, w.k_words * 8, pool_threads(pool));
  run_tasks(pool, s.row_blocks * s.splits, m * w.n * w.k_bits, [&](size_t task) {
    const size_t rb = task / s.splits, sp = task % s.splits;
    const size_t r0 = rb * s.block, rows = std::min(s.block, m - r0);
    Scratch& sc = scratch();
    sc.rows.resize(rows);
    if (clean) {
      for (size_t r = 0; r < rows; ++r) sc.rows[r] = a + (r0 + r) * a_stride;
    } else {
      uint64_t* copy = sc.words_for(rows * w.k_words);
      for (size_t r = 0; r < rows; ++r) {
        std::memcpy(copy + r * w.k_words, a + (r0 + r) * a_stride, w.k_words * 8);
        copy[r * w.k_words + w.k_words - 1] &= mask;
        sc.rows[r] = copy + r * w.k_words;
      }
    }
    const size_t p0 = s.panels * sp / s.splits, p1 = s.panels * (sp + 1) / s.splits;
    run_tiles(path, w, os, rows, sc.rows.data(), 1, nullptr, p0, p1, out + r0 * out_stride, out_stride);
  });
}

// ---------------------------------------------------------------- convolution

size_t BinaryConvShape::out_h() const {
  const size_t span = dilation_h * (kh - 1) + 1;
  const size_t padded = in_h + pad_top + pad_bottom;
  return padded < span ? 0 : (padded - span) / stride_h + 1;
}

size_t BinaryConvShape::out_w() const {
  const size_t span = dilation_w * (kw - 1) + 1;
  const size_t padded = in_w + pad_left + pad_right;
  return padded < span ? 0 : (padded - span) / stride_w + 1;
}

namespace {

// For each output coordinate along one axis, the set of kernel offsets that
// fall into the padding, as a bit mask (kernel extent <= 64).
std::vector<uint64_t> padded_taps(size_t out, size_t in, size_t k, size_t stride, size_t dilation,
                                  size_t pad_begin) {
  std::vector<uint64_t> masks(out, 0);
  for (size_t o = 0; o < out; ++o) {
    for (size_t i = 0; i < k; ++i) {
      const size_t pos = o * stride + i * dilation;  // in padded coordinates
      if (pos < pad_begin || pos - pad_begin >= in) masks[o] |= uint64_t{1} << i;
    }
  }
  return masks;
}

// Index of each distinct value in `masks`, and the distinct values.
std::vector<size_t> classify(const std::vector<uint64_t>& masks, std::vector<uint64_t>* distinct) {
  std::map<uint64_t, size_t> ids;
  std::vector<size_t> out(masks.size());
  for (size_t i = 0; i < masks.size(); ++i) {
    auto it = ids.find(masks[i]);
    if (it == ids.end()) {
      it = ids.emplace(masks[i], distinct->size()).first;
      distinct->push_back(masks[i]);
    }
    out[i] = it->second;
  }
  return out;
}

}  // namespace

void binary_conv2d(const BinaryWeights& w, const BinaryOutput& os, const BinaryConvShape& s,
                   const uint64_t* x, void* y, ThreadPool* pool) {
  const BinaryPath& path = *w.path;
  const size_t oh = s.out_h(), ow = s.out_w();
  const size_t m = s.batch * oh * ow;
  uint8_t* out = static_cast<uint8_t*>(y);
  const size_t out_stride = binary_output_row_bytes(os.kind, w.n);
  if (m == 0 || w.n == 0) return;
  clear_bit_tails(os, m, out, out_stride);
  const size_t tw = w.tap_words, kw = s.kw;
  const uint64_t mask = tail_mask(w.tap_bits);
  const bool padded = s.pad_top + s.pad_left + s.pad_bottom + s.pad_right > 0;

  // Zero padding: a padded tap reads +1 bits, adding tap_sum[t][c] to the
  // dot; subtracting the sum over an output position's padded taps gives the
  // convolution with zeros at the border. Positions fall into few classes
  // (which kernel rows and columns are padded), so the sums are made per class.
  std::vector<uint64_t> ydistinct, xdistinct;
  const auto ymask = padded_taps(oh, s.in_h, s.kh, s.stride_h, s.dilation_h, s.pad_top);
  const auto xmask = padded_taps(ow, s.in_w, s.kw, s.stride_w, s.dilation_w, s.pad_left);
  const auto yclass = classify(ymask, &ydistinct);
  const auto xclass = classify(xmask, &xdistinct);
  std::vector<std::vector<int32_t>> corrections;
  std::vector<const int32_t*> class_corr(ydistinct.size() * xdistinct.size(), nullptr);
  if (s.zero_padding && padded) {
    corrections.reserve(class_corr.size());
    for (size_t yi = 0; yi < ydistinct.size(); ++yi) {
      for (size_t xi = 0; xi < xdistinct.size(); ++xi) {
        if ((ydistinct[yi] | xdistinct[xi]) == 0) continue;
        std::vector<int32_t> sum(w.n, 0);
        for (size_t i = 0; i < s.kh; ++i) {
          for (size_t j = 0; j < kw; ++j) {
            if (!(((ydistinct[yi] >> i) & 1) || ((xdistinct[xi] >> j) & 1))) continue;
            const int32_t* ts = w.tap_sum.data() + (i * kw + j) * w.n;
            for (size_t c = 0; c < w.n; ++c) sum[c] += ts[c];
          }
        }
        corrections.push_back(std::move(sum));
        class_corr[yi * xdistinct.size() + xi] = corrections.back().data();
      }
    }
  }
  const bool any_corr = !corrections.empty();

  // The input as the kernels read it: in place when it needs no padding and
  // no pixel carries bits past the last channel; otherwise copied once into
  // a buffer with a border of +1 pixels (zero words) and clean tails. Every
  // output row is then a set of segments in that buffer, one per kernel row
  // (one per tap with a horizontal dilation): an indirect GEMM, no im2col.
  bool clean = true;
  const size_t pixels = s.batch * s.in_h * s.in_w;
  if (mask != ~uint64_t{0}) {
    for (size_t p = 0; p < pixels && clean; ++p) clean = (x[p * tw + tw - 1] & ~mask) == 0;
  }
  const size_t hp = s.in_h + s.pad_top + s.pad_bottom, wp = s.in_w + s.pad_left + s.pad_right;
  const uint64_t* base = x;
  if (padded || !clean) {
    // The caller's scratch (the pool's threads only read it), grown once.
    // Only the border needs clearing (+1 pixels); the image is copied over.
    thread_local AlignedBuffer padded_input;
    const size_t bytes = s.batch * hp * wp * tw * 8;
    if (padded_input.size() < bytes) padded_input.resize(bytes);
    uint64_t* dst = static_cast<uint64_t*>(padded_input.data());
    const size_t row_words = wp * tw;
    for (size_t b = 0; b < s.batch; ++b) {
      uint64_t* image = dst + b * hp * row_words;
      std::memset(image, 0, s.pad_top * row_words * 8);
      std::memset(image + (s.pad_top + s.in_h) * row_words, 0, s.pad_bottom * row_words * 8);
      for (size_t iy = 0; iy < s.in_h; ++iy) {
        uint64_t* row = image + (iy + s.pad_top) * row_words;
        std::memset(row, 0, s.pad_left * tw * 8);
        std::memcpy(row + s.pad_left * tw, x + (b * s.in_h + iy) * s.in_w * tw, s.in_w * tw * 8);
        std::memset(row + (s.pad_left + s.in_w) * tw, 0, s.pad_right * tw * 8);
        if (!clean) {
          for (size_t ix = 0; ix < s.in_w; ++ix) row[(s.pad_left + ix) * tw + tw - 1] &= mask;
        }
      }
    }
    base = dst;
  }
  const bool merge_row = s.dilation_w == 1;  // a kernel row is one contiguous run
  const size_t segs = merge_row ? s.kh : s.kh * kw;

  const Split sp = split_work(m, w.n, path.mr, path.nr, w.k_words * 8, pool_threads(pool));
  run_tasks(pool, sp.row_blocks * sp.splits, m * w.n * w.k_bits, [&](size_t task) {
    const size_t rb = task / sp.splits, part = task % sp.splits;
    const size_t r0 = rb * sp.block, rows = std::min(sp.block, m - r0);
    Scratch& sc = scratch();
    sc.rows.resize(rows * segs);
    sc.corr.resize(rows);
    size_t b = r0 / (oh * ow), oy = (r0 / ow) % oh, ox = r0 % ow;
    for (size_t r = 0; r < rows; ++r) {
      sc.corr[r] = any_corr ? class_corr[yclass[oy] * xdistinct.size() + xclass[ox]] : nullptr;
      const uint64_t* origin = base + ((b * hp + oy * s.stride_h) * wp + ox * s.stride_w) * tw;
      const uint64_t** seg = sc.rows.data() + r * segs;
      for (size_t i = 0; i < s.kh; ++i) {
        const uint64_t* row = origin + i * s.dilation_h * wp * tw;
        if (merge_row) {
          seg[i] = row;
        } else {
          for (size_t j = 0; j < kw; ++j) seg[i * kw + j] = row + j * s.dilation_w * tw;
        }
      }
      if (++ox == ow) {
        ox = 0;
        if (++oy == oh) {
          oy = 0;
          ++b;
        }
      }
    }
    const size_t p0 = sp.panels * part / sp.splits, p1 = sp.panels * (part + 1) / sp.splits;
    run_tiles(path, w, os, rows, sc.rows.data(), segs, any_corr ? sc.corr.data() : nullptr, p0, p1,
              out + r0 * out_stride, out_stride);
  });
}

// ---------------------------------------------------------------- BinaryConnect

void binary_weight_gemm(const BinaryWeightMatrix& w, const BinaryOutput& os, const GemmPath& gemm,
                        size_t m, const void* a, BinaryActivation a_type, int32_t a_zero_point,
                        void* y, ThreadPool* pool) {
  const BinaryPath& path = *w.path;
  uint8_t* out = static_cast<uint8_t*>(y);
  const size_t out_stride = binary_output_row_bytes(os.kind, w.n);
  if (m == 0 || w.n == 0) return;
  clear_bit_tails(os, m, out, out_stride);
  const size_t threads = pool_threads(pool);

  if (a_type == BinaryActivation::kFloat32) {
    const float* af = static_cast<const float*>(a);
    const Split s = split_work(m, w.n, path.bw_mr, path.bw_nr, 0, threads);
    run_tasks(pool, s.row_blocks * s.splits, m * w.n * w.k * 8, [&](size_t task) {
      const size_t rb = task / s.splits, sp = task % s.splits;
      const size_t r0 = rb * s.block, rows = std::min(s.block, m - r0);
      const size_t p0 = s.panels * sp / s.splits, p1 = s.panels * (sp + 1) / s.splits;
      BinaryWeightTile t;
      t.a_stride = w.k;
      t.w = &w;
      t.os = &os;
      t.out_stride = out_stride;
      for (size_t p = p0; p < p1; ++p) {
        t.n0 = p * path.bw_nr;
        t.n = std::min(path.bw_nr, w.n - t.n0);
        for (size_t r = 0; r < rows; r += path.bw_mr) {
          t.m = std::min(path.bw_mr, rows - r);
          t.a = af + (r0 + r) * w.k;
          t.out = out + (r0 + r) * out_stride;
          path.bw_tile(t);
        }
      }
    });
    return;
  }

  // int8 / uint8: the int8 GEMM path with the signs as +-1 int8 weights
  // (exact int32), then the output stage.
  {
    std::lock_guard<std::mutex> lock(w.int8_mutex);
    if (!w.int8_ready || w.int8.isa != gemm.isa) {
      std::vector<int8_t> b(w.k * w.n);
      const uint64_t* bits = static_cast<const uint64_t*>(w.bits.data());
      for (size_t k = 0; k < w.k; ++k) {
        for (size_t c = 0; c < w.n; ++c) {
          b[k * w.n + c] = ((bits[k * w.n_words + c / 64] >> (c % 64)) & 1) ? -1 : 1;
        }
      }
      pack_matrix(gemm, b.data(), true, w.k, w.n, w.n, {0}, &w.int8);
      w.int8_ready = true;
    }
  }
  const bool a_signed = a_type == BinaryActivation::kInt8;
  const size_t block = std::max<size_t>(gemm.mr, std::min<size_t>(64, (m + threads - 1) / threads));
  const size_t blocks = (m + block - 1) / block;
  run_tasks(pool, blocks, m * w.n * w.k * 8, [&](size_t task) {
    const size_t r0 = task * block, rows = std::min(block, m - r0);
    int32_t* acc = scratch().acc_for(rows * w.n);
    GemmArgs g;
    g.m = rows;
    g.a = static_cast<const uint8_t*>(a) + r0 * w.k;
    g.a_stride = w.k;
    g.a_signed = a_signed;
    g.a_zero_point = a_zero_point;
    g.b = &w.int8;
    g.c = acc;
    g.c_stride = w.n;
    gemm.run(g, 0, rows, 0, w.n);
    path.finish_s32(acc, w.n, rows, 0, w.n, os, out + r0 * out_stride, out_stride);
  });
}

// ---------------------------------------------------------------- bit packing

void bitpack_f32(const BinaryPath& path, const float* x, size_t rows, size_t cols, uint64_t* out,
                 ThreadPool* pool) {
  const size_t threads = pool_threads(pool);
  const size_t tasks = std::min(threads, rows);
  run_tasks(pool, tasks, rows * cols * 64, [&](size_t t) {
    const size_t r0 = rows * t / tasks, r1 = rows * (t + 1) / tasks;
    path.bitpack_f32(x + r0 * cols, r1 - r0, cols, out + r0 * bit_words(cols));
  });
}

void bitpack_s8(const BinaryPath& path, const int8_t* x, size_t rows, size_t cols, uint64_t* out,
                ThreadPool* pool) {
  const size_t threads = pool_threads(pool);
  const size_t tasks = std::min(threads, rows);
  run_tasks(pool, tasks, rows * cols * 64, [&](size_t t) {
    const size_t r0 = rows * t / tasks, r1 = rows * (t + 1) / tasks;
    path.bitpack_s8(x + r0 * cols, r1 - r0, cols, out + r0 * bit_words(cols));
  });
}

}  // namespace lowbit
