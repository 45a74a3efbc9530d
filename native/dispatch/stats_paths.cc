// The table of compiled statistics paths (avxvnni -> avx2, amx -> avx512,
// neondot -> neon) and the drivers that split a buffer over the thread pool and
// combine the pieces so that the result never depends on the split.
#include "lowbit/stats.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include "../kernels/ops-parallel.h"
#include "lowbit/thread_pool.h"

namespace lowbit {

#if LOWBIT_HAVE_AVX2
namespace avx2 { extern const StatsPath kStatsPath; }
#endif
#if LOWBIT_HAVE_AVX512VNNI
namespace avx512 { extern const StatsPath kStatsPath; }
#endif
#if LOWBIT_HAVE_NEON
namespace neon { extern const StatsPath kStatsPath; }
#endif

const StatsPath& stats_path(Isa isa) {
  switch (isa) {
#if LOWBIT_HAVE_AVX2
    case Isa::kAvx2:
    case Isa::kAvxVnni:
      if (cpu_supports(Isa::kAvx2)) return avx2::kStatsPath;
      break;
#endif
#if LOWBIT_HAVE_AVX512VNNI
    case Isa::kAvx512Vnni:
    case Isa::kAmx:
      if (cpu_supports(Isa::kAvx512Vnni)) return avx512::kStatsPath;
      break;
#endif
#if LOWBIT_HAVE_NEON
    case Isa::kNeon:
    case Isa::kNeonDot:
      if (cpu_supports(Isa::kNeon)) return neon::kStatsPath;
      break;
#endif
    default: break;
  }
  return ref::kStatsPath;
}

namespace {

// Work pieces for one buffer: one per thread once there is enough work to pay
// for the hand-off, and none longer than kStatsMaxKernelElements (a kernel's
// uint32 counts cannot overflow). Binning costs ~2-3 ns per value on one
// thread, min/max ~0.1 ns, so the histogram splits at shorter lengths.
constexpr size_t kHistogramParallelElements = size_t{1} << 15;

size_t pieces_for(size_t n, ThreadPool* pool, size_t parallel_from) {
  const size_t threads = pool == nullptr || n < parallel_from ? 1 : pool->threads();
  size_t pieces = std::min(threads, (n + kElementwiseChunk - 1) / kElementwiseChunk);
  pieces = std::max(pieces, (n + kStatsMaxKernelElements - 1) / kStatsMaxKernelElements);
  return std::max<size_t>(pieces, 1);
}

template <typename F>
void for_pieces(size_t pieces, ThreadPool* pool, size_t n, const F& f) {
  if (pieces == 1) {
    f(size_t{0});
    return;
  }
  pool->parallel_for(pieces, f, n >= kWakeElements / 8);
}

// JavaScript's Math.min / Math.max on non-NaN numbers: -0 is below +0.
double js_min(double a, double b) { return a < b || (a == b && std::signbit(a)) ? a : b; }
double js_max(double a, double b) { return a > b || (a == b && !std::signbit(a)) ? a : b; }

// Least and greatest of per-piece extremes, then the sign of a zero extreme:
// a scan keeps the first of equal values, and only zeros differ among equals.
void combine_extremes(const float* x, size_t n, const std::vector<float>& los, const std::vector<float>& his,
                      float* lo, float* hi) {
  float l = std::numeric_limits<float>::infinity(), h = -l;
  for (size_t p = 0; p < los.size(); ++p) {
    if (los[p] < l) l = los[p];
    if (his[p] > h) h = his[p];
  }
  if (l == 0.0f || h == 0.0f) {
    for (size_t i = 0; i < n; ++i) {
      if (x[i] == 0.0f) {
        if (l == 0.0f) l = x[i];
        if (h == 0.0f) h = x[i];
        break;
      }
    }
  }
  *lo = l;
  *hi = h;
}

// Per-piece kernel counts: pieces x kHistogramCopies x (bins + 1), in storage
// the calling thread keeps between calls (up to kKeptCountWords). A calibration
// run adds ~100 activations per batch, most of them small: allocating and
// faulting in fresh counts (32 KB for 2048 bins) on every call cost more than
// zeroing kept ones. Pool workers only write into their piece; a second
// PieceCounts alive on the same thread gets its own allocation.
constexpr size_t kKeptCountWords = size_t{1} << 18;

struct PieceCounts {
  size_t pieces, stride;
  uint32_t* data;
  PieceCounts(size_t p, uint32_t bins) : pieces(p), stride(size_t{bins} + 1) {
    thread_local std::vector<uint32_t> kept;
    thread_local bool kept_in_use = false;
    const size_t words = p * kHistogramCopies * stride;
    if (!kept_in_use && words <= kKeptCountWords) {
      kept_in_use = true;
      in_use_ = &kept_in_use;
      if (kept.size() < words) kept.resize(words);
      data = kept.data();
      std::fill(data, data + words, 0u);
    } else {
      own_.assign(words, 0u);
      data = own_.data();
    }
  }
  ~PieceCounts() {
    if (in_use_ != nullptr) *in_use_ = false;
  }
  PieceCounts(const PieceCounts&) = delete;
  PieceCounts& operator=(const PieceCounts&) = delete;
  uint32_t* piece(size_t p) { return data + p * kHistogramCopies * stride; }
  // Integer counts: the order of these sums cannot change a result.
  // A piece's copies sum in uint32 first: a piece bins at most kStatsMaxKernelElements values.
  // Bins [from, to), each count times `weight` (exact in double: < 2^31 * 2^10).
  void add_to(double* counts, uint32_t bins, uint32_t from = 0, uint32_t to = ~uint32_t{0}, double weight = 1.0) const {
    static_assert(kHistogramCopies == 4, "add_to sums four copies");
    to = std::min(to, bins);
    for (size_t p = 0; p < pieces; ++p) {
      const uint32_t* c = data + p * kHistogramCopies * stride;
      for (uint32_t b = from; b < to; ++b) {
        counts[b] += weight * (c[b] + c[stride + b] + c[2 * stride + b] + c[3 * stride + b]);
      }
    }
  }

 private:
  std::vector<uint32_t> own_;
  bool* in_use_ = nullptr;
};

// The histogram of x with this width, and (when lo/hi are given) its extremes in the same pass.
void histogram_pass(const StatsPath& path, const float* x, size_t n, double width, uint32_t bins, ThreadPool* pool,
                    PieceCounts* counts, float* lo, float* hi) {
  const double inv_width = 1.0 / width;
  const size_t pieces = counts->pieces;
  std::vector<float> los(pieces), his(pieces);
  for_pieces(pieces, pool, n, [&](size_t p) {
    const size_t i0 = n * p / pieces, i1 = n * (p + 1) / pieces;
    if (lo != nullptr) {
      path.abs_histogram_min_max(x + i0, i1 - i0, inv_width, bins, counts->piece(p), &los[p], &his[p]);
    } else {
      path.abs_histogram(x + i0, i1 - i0, inv_width, bins, counts->piece(p));
    }
  });
  if (lo != nullptr) combine_extremes(x, n, los, his, lo, hi);
}

// stats.h sampled_block, inline in the hot loop below.
inline size_t pick_block(size_t group, uint32_t sample) {
  // splitmix64's finalizer: neighbouring groups get unrelated picks.
  uint64_t z = static_cast<uint64_t>(group) + 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  // The top 32 bits scaled to [0, sample) by a multiply, not a division (per group of a hot loop).
  return static_cast<size_t>(((z >> 32) * sample) >> 32);
}

// Groups per kernel call in a sampled pass: their picked blocks (at most 4096
// values) are gathered on the stack and binned by one call, so every path bins
// exactly the same values and the kernels stay the tested ones.
constexpr size_t kSampleChunkGroups = 256;
constexpr size_t kSampleChunkValues = kSampleChunkGroups * kSampleBlock;

bool sampled(size_t n, uint32_t sample) { return sample > 1 && n >= kSampleFromElements; }

// stats.h: the least bin T with counts[T..bins) <= kSampleTailShare of the
// total; 0 when there are no counts (bin every value). Counts are integers
// below 2^53, so any order of the sums gives the same totals: eight independent
// running sums for the total, and the walk down from the top adds a block of
// bins at once when the whole block fits (the tail of a histogram whose range
// one outlier set is often hundreds of sparse bins long), else bin by bin.
uint32_t tail_bin(const double* counts, uint32_t bins) {
  double t8[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  uint32_t b = 0;
  for (; b + 8 <= bins; b += 8) {
    for (int k = 0; k < 8; ++k) t8[k] += counts[b + k];
  }
  for (; b < bins; ++b) t8[0] += counts[b];
  const double total = ((t8[0] + t8[1]) + (t8[2] + t8[3])) + ((t8[4] + t8[5]) + (t8[6] + t8[7]));
  if (total == 0) return 0;
  const double allowed = total * kSampleTailShare;
  constexpr uint32_t kBlock = 16;
  double acc = 0;
  uint32_t t = bins;
  while (t > 0) {
    const uint32_t start = t > kBlock ? t - kBlock : 0;
    double s4[4] = {0, 0, 0, 0};
    for (uint32_t k = start; k < t; ++k) s4[k & 3] += counts[k];
    const double block = (s4[0] + s4[1]) + (s4[2] + s4[3]);
    if (acc + block <= allowed) {
      acc += block;
      t = start;
      continue;
    }
    while (t > start && acc + counts[t - 1] <= allowed) acc += counts[--t];
    break;
  }
  return t;
}

// The least float f > 0 whose bin (floor(double(f) * inv_width), as
// abs_bin_index before the clamp) is at least t >= 1: |v| >= f exactly when v's
// bin is t or more, since the bin never decreases as |v| grows.
float tail_cutoff(uint32_t t, double inv_width) {
  const auto reaches = [&](float f) { return std::floor(static_cast<double>(f) * inv_width) >= t; };
  float f = static_cast<float>(t / inv_width);
  while (!reaches(f)) f = std::nextafter(f, std::numeric_limits<float>::infinity());
  for (float p = std::nextafter(f, 0.0f); p > 0.0f && reaches(p); p = std::nextafter(f, 0.0f)) f = p;
  return f;
}

// Groups [g0, g1) of a sampled buffer: the extremes of every value (when lo is
// given) and the values with |v| >= cutoff appended to tail (when given), in
// one pass; then the histogram of the picked blocks into bulk, a chunk of
// groups per kernel call.
void sampled_piece(const StatsPath& path, const float* x, size_t n, uint32_t sample, size_t g0, size_t g1,
                   double inv_width, uint32_t bins, uint32_t* bulk, std::vector<float>* tail, float cutoff, float* lo,
                   float* hi) {
  const size_t group = kSampleBlock * sample;
  float l = std::numeric_limits<float>::infinity(), h = -l;
  alignas(64) float picked[kSampleChunkValues];
  // Every value's extremes and tail first, in one stream over the piece, then
  // the picked blocks: alternating the two chunk by chunk broke the stream every
  // few hundred KB, and in a model's run (data just written, out of L1) that
  // pass took twice as long as min_max over the same values.
  if (lo != nullptr || tail != nullptr) {
    const size_t i1 = std::min(n, g1 * group);
    for (size_t i = g0 * group; i < i1; i += kSampleChunkValues) {
      const size_t len = std::min(kSampleChunkValues, i1 - i);
      float cl, ch;
      if (tail != nullptr) {
        const size_t k = path.min_max_abs_at_least(x + i, len, cutoff, picked, &cl, &ch);
        tail->insert(tail->end(), picked, picked + k);
      } else {
        path.min_max(x + i, len, &cl, &ch);
      }
      if (cl < l) l = cl;
      if (ch > h) h = ch;
    }
  }
  for (size_t g = g0; g < g1; g += kSampleChunkGroups) {
    const size_t ge = std::min(g1, g + kSampleChunkGroups);
    size_t m = 0;
    for (size_t q = g; q < ge; ++q) {
      const size_t b = q * group + pick_block(q, sample) * kSampleBlock;
      if (b + kSampleBlock <= n) {
        std::memcpy(picked + m, x + b, kSampleBlock * sizeof(float));  // a constant size: inlined
        m += kSampleBlock;
      } else if (b < n) {
        std::memcpy(picked + m, x + b, (n - b) * sizeof(float));
        m += n - b;
      }
    }
    path.abs_histogram(picked, m, inv_width, bins, bulk);
  }
  if (lo != nullptr) {
    *lo = l;
    *hi = h;
  }
}

// A sampled batch's counts: bins below first_tail_bin from the picked blocks,
// bins from it up from every value (stats.h). The tail is ~0.1% of the values:
// they are kept and binned one by one with ref's formula (the kernels' counts
// equal it), which costs less than a second set of kernel counts to clear and sum.
struct SampledCounts {
  PieceCounts bulk;
  std::vector<std::vector<float>> tail;  // per piece
  uint32_t first_tail_bin;
  SampledCounts(size_t pieces, uint32_t bins, uint32_t t) : bulk(pieces, bins), tail(pieces), first_tail_bin(t) {}
  void add_to(double* counts, uint32_t bins, uint32_t sample, double width) const {
    bulk.add_to(counts, bins, 0, first_tail_bin, sample);
    const double inv_width = 1.0 / width;
    for (const auto& values : tail) {
      for (float v : values) ++counts[abs_bin_index(v, inv_width, bins - 1)];
    }
  }
};

// histogram_pass for a sampled buffer: pieces split at group boundaries, so the
// picked values do not depend on the split.
void sampled_pass(const StatsPath& path, const float* x, size_t n, uint32_t sample, double width, uint32_t bins,
                  ThreadPool* pool, SampledCounts* counts, float* lo, float* hi) {
  const double inv_width = 1.0 / width;
  const size_t group = kSampleBlock * sample;
  const size_t groups = (n + group - 1) / group;
  const size_t pieces = counts->bulk.pieces;
  const bool has_tail = counts->first_tail_bin < bins;
  const float cutoff = has_tail ? tail_cutoff(counts->first_tail_bin, inv_width) : 0.0f;
  std::vector<float> los(pieces), his(pieces);
  for_pieces(pieces, pool, n, [&](size_t p) {
    sampled_piece(path, x, n, sample, groups * p / pieces, groups * (p + 1) / pieces, inv_width, bins,
                  counts->bulk.piece(p), has_tail ? &counts->tail[p] : nullptr, cutoff,
                  lo != nullptr ? &los[p] : nullptr, &his[p]);
  });
  if (lo != nullptr) combine_extremes(x, n, los, his, lo, hi);
}

}  // namespace

size_t sampled_block(size_t group, uint32_t sample) { return pick_block(group, sample); }

void min_max(const StatsPath& path, const float* x, size_t n, float* lo, float* hi, ThreadPool* pool) {
  const size_t pieces = pieces_for(n, pool, kParallelElements);
  std::vector<float> los(pieces), his(pieces);
  for_pieces(pieces, pool, n, [&](size_t p) {
    const size_t i0 = n * p / pieces, i1 = n * (p + 1) / pieces;
    path.min_max(x + i0, i1 - i0, &los[p], &his[p]);
  });
  combine_extremes(x, n, los, his, lo, hi);
}

void abs_histogram_accumulate(const StatsPath& path, const float* x, size_t n, double width, uint32_t bins,
                              double* counts, ThreadPool* pool) {
  if (n == 0 || bins == 0) return;
  PieceCounts pc(pieces_for(n, pool, kHistogramParallelElements), bins);
  histogram_pass(path, x, n, width, bins, pool, &pc, nullptr, nullptr);
  pc.add_to(counts, bins);
}

bool abs_histogram_add(const StatsPath& path, const float* x, size_t n, uint32_t bins, double* state,
                       ThreadPool* pool, uint32_t sample) {
  // A width from JavaScript that is not usable: leave the state as it is.
  if (bins == 0 || !(state[2] >= 0.0) || !std::isfinite(state[2])) return false;
  double& width = state[2];
  double* counts = state + kAbsHistogramHeader;
  // Once the width is set, most batches fit it: bin with it while finding the
  // extremes (one pass over x), and keep those counts unless the range grows.
  // A sampled batch takes its tail bin from the counts so far (stats.h).
  const bool sample_x = sampled(n, sample);
  std::unique_ptr<PieceCounts> guess;
  std::unique_ptr<SampledCounts> sampled_guess;
  float lo = 0.0f, hi = 0.0f;
  const uint32_t guess_tail = sample_x && width > 0.0 ? tail_bin(counts, bins) : 0;
  if (width > 0.0 && n > 0) {
    const size_t pieces = pieces_for(n, pool, kHistogramParallelElements);
    if (guess_tail > 0) {
      sampled_guess.reset(new SampledCounts(pieces, bins, guess_tail));
      sampled_pass(path, x, n, sample, width, bins, pool, sampled_guess.get(), &lo, &hi);
    } else {
      guess.reset(new PieceCounts(pieces, bins));
      histogram_pass(path, x, n, width, bins, pool, guess.get(), &lo, &hi);
    }
  } else {
    min_max(path, x, n, &lo, &hi, pool);
  }
  if (!std::isfinite(lo) || !std::isfinite(hi)) return false;
  state[0] = js_min(state[0], lo);
  state[1] = js_max(state[1], hi);
  const double max_abs = std::max(std::fabs(static_cast<double>(lo)), std::fabs(static_cast<double>(hi)));
  if (max_abs == 0.0) return true;
  if (width == 0.0) width = max_abs / bins;
  if (max_abs > width * bins) {
    // Whole multiples of the old width, so old bins merge without re-binning data.
    const double factor = std::ceil(max_abs / (width * bins));
    std::vector<double> merged(bins, 0.0);
    for (uint32_t i = 0; i < bins; ++i) merged[static_cast<size_t>(std::floor(i / factor))] += counts[i];
    std::copy(merged.begin(), merged.end(), counts);
    width *= factor;
    guess.reset();  // binned with the old width: bin again
    sampled_guess.reset();
  }
  if (guess) {
    guess->add_to(counts, bins);
  } else if (sampled_guess) {
    sampled_guess->add_to(counts, bins, sample, width);
  } else {
    // The first batch with a nonzero value, or a widened range: the tail bin from the (merged) counts.
    const uint32_t tail = sample_x ? tail_bin(counts, bins) : 0;
    if (tail > 0) {
      SampledCounts sc(pieces_for(n, pool, kHistogramParallelElements), bins, tail);
      sampled_pass(path, x, n, sample, width, bins, pool, &sc, nullptr, nullptr);
      sc.add_to(counts, bins, sample, width);
    } else {
      abs_histogram_accumulate(path, x, n, width, bins, counts, pool);
    }
  }
  return true;
}

}  // namespace lowbit
