// Statistics for calibration: every path's min/max and |x| histogram against
// ref, bit for bit, on random data with NaN, infinities, signed zeros and values
// exactly on bin edges, over lengths around every vector width; the threaded
// drivers against one thread; and abs_histogram_add against a line-by-line
// transcription of observers.ts AbsHistogram.add.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "harness.h"
#include "lowbit/stats.h"
#include "lowbit/thread_pool.h"

using namespace lowbit;
using namespace lowbit_test;

namespace {

ThreadPool& pool3() {
  static ThreadPool pool(3);
  return pool;
}

const float kInf = std::numeric_limits<float>::infinity();
const float kNaN = std::numeric_limits<float>::quiet_NaN();
const size_t kLengths[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 1000003};

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }
bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// mode 0: normal values; 1: with NaN, ±inf and signed zeros; 2: exactly on the
// edges k * width of a histogram of `bins` bins (and beyond it); 3: ReLU-like
// (half exact zeros, the rest positive).
std::vector<float> make_data(size_t n, int mode, float width, uint32_t bins) {
  std::vector<float> x(n);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  for (auto& v : x) {
    v = normal(rng());
    const uint32_t r = rng()() % 16;
    if (mode == 1) {
      if (r == 0) v = kNaN;
      if (r == 1) v = kInf;
      if (r == 2) v = -kInf;
      if (r == 3) v = 0.0f;
      if (r == 4) v = -0.0f;
    } else if (mode == 2) {
      const float edge = static_cast<float>(rng()() % (bins + 8)) * width;
      v = r < 8 ? edge : -edge;
      if (r == 9) v = std::nextafter(edge, 0.0f);
      if (r == 10) v = std::nextafter(edge, kInf);
    } else if (mode == 3) {
      v = r < 8 ? (r < 4 ? 0.0f : -0.0f) : std::fabs(v);
    }
  }
  return x;
}

// The histogram a kernel left in its copies, summed (the extra slot ignored).
std::vector<uint64_t> fold(const std::vector<uint32_t>& copies, uint32_t bins) {
  std::vector<uint64_t> out(bins, 0);
  for (size_t c = 0; c < kHistogramCopies; ++c) {
    for (uint32_t b = 0; b < bins; ++b) out[b] += copies[c * (bins + 1) + b];
  }
  return out;
}

}  // namespace

TEST(stats_bin_formula_by_hand) {
  // Width 1, 4 bins: edges land in the bin above, beyond the range in the last,
  // zeros and NaN nowhere.
  const float x[] = {0.5f, 1.0f, 3.99f, 4.0f, 100.0f, -2.0f, 0.0f, -0.0f, kNaN, -1.0f, kInf};
  std::vector<double> counts(4, 0.0);
  abs_histogram_accumulate(ref::kStatsPath, x, sizeof x / sizeof x[0], 1.0, 4, counts.data(), nullptr);
  CHECK_EQ(counts[0], 1.0);
  CHECK_EQ(counts[1], 2.0);
  CHECK_EQ(counts[2], 1.0);
  CHECK_EQ(counts[3], 4.0);
}

TEST(stats_abs_at_least_by_hand) {
  // |v| >= 2: the edge itself in, its neighbour below out, NaN out, infinities and denormals as numbers.
  const float x[] = {2.0f, -2.0f, std::nextafter(2.0f, 0.0f), kNaN, -kInf, 0.0f, 1e-45f, 3.0f, -0.0f, kInf};
  for (Isa isa : isas_under_test()) {
    float out[10], lo, hi;
    const size_t m = stats_path(isa).min_max_abs_at_least(x, 10, 2.0f, out, &lo, &hi);
    CHECK_EQ(m, size_t{5});
    CHECK(out[0] == 2.0f && out[1] == -2.0f && out[2] == -kInf && out[3] == 3.0f && out[4] == kInf);
    CHECK(lo == -kInf && hi == kInf);
    CHECK_EQ(stats_path(isa).min_max_abs_at_least(x, 10, 1e-45f, out, &lo, &hi), size_t{7});  // all but NaN and the zeros
  }
}

TEST(stats_min_max_keeps_first_zero_sign) {
  for (Isa isa : isas_under_test()) {
    const StatsPath& path = stats_path(isa);
    std::vector<float> x(40, 1.0f);
    x[3] = -0.0f;
    x[30] = 0.0f;
    float lo, hi;
    min_max(path, x.data(), x.size(), &lo, &hi, nullptr);
    CHECK(lo == 0.0f && std::signbit(lo));
    CHECK_EQ(hi, 1.0f);
    x[3] = 0.0f;
    x[30] = -0.0f;
    for (auto& v : x) v = -v;  // now max is the zero; the first zero is x[3] = -0
    min_max(path, x.data(), x.size(), &lo, &hi, nullptr);
    CHECK(hi == 0.0f && std::signbit(hi));
    CHECK_EQ(lo, -1.0f);
    const float nan_only[] = {kNaN, kNaN, kNaN};
    min_max(path, nan_only, 3, &lo, &hi, nullptr);
    CHECK(lo == kInf && hi == -kInf);
  }
}

TEST(stats_paths_match_ref) {
  for (Isa isa : isas_under_test()) {
    const StatsPath& path = stats_path(isa);
    for (size_t n : kLengths) {
      for (int mode = 0; mode < 4; ++mode) {
        const uint32_t bins = mode == 2 ? 64 : 2048;
        const double width = mode == 2 ? 0.125 : 10.0 / bins;
        const std::vector<float> x = make_data(n, mode, static_cast<float>(width), bins);
        const std::string where = std::string(isa_name(isa)) + " n=" + std::to_string(n) + " mode=" + std::to_string(mode);
        // The kernels: min/max equal (a zero's sign is the driver's job), histograms equal.
        float want_lo, want_hi, lo, hi;
        ref::min_max(x.data(), n, &want_lo, &want_hi);
        path.min_max(x.data(), n, &lo, &hi);
        if (!(lo == want_lo && hi == want_hi)) record_failure(__FILE__, __LINE__, where + " kernel min/max");
        std::vector<uint32_t> want_c(kHistogramCopies * (bins + 1), 0), got_c(want_c.size(), 0);
        ref::abs_histogram(x.data(), n, 1.0 / width, bins, want_c.data());
        path.abs_histogram(x.data(), n, 1.0 / width, bins, got_c.data());
        if (fold(want_c, bins) != fold(got_c, bins)) record_failure(__FILE__, __LINE__, where + " kernel histogram");
        std::vector<uint32_t> fused_c(want_c.size(), 0);
        path.abs_histogram_min_max(x.data(), n, 1.0 / width, bins, fused_c.data(), &lo, &hi);
        if (fold(want_c, bins) != fold(fused_c, bins) || !(lo == want_lo && hi == want_hi)) {
          record_failure(__FILE__, __LINE__, where + " kernel histogram + min/max");
        }
        // The tail copy: the same values in the same order, cutoffs on and between
        // the data's own values (bin edges in mode 2), tiny (denormal) and huge.
        for (float cutoff : {static_cast<float>(width) * 3, std::nextafter(static_cast<float>(width) * 3, kInf), 1e-40f,
                             1.0f, std::numeric_limits<float>::max(), kInf}) {
          std::vector<float> want_t(n + 1, -1.0f), got_t(n + 1, -1.0f);
          float tlo, thi;
          const size_t wm = ref::abs_at_least(x.data(), n, cutoff, want_t.data());
          const size_t gm = path.min_max_abs_at_least(x.data(), n, cutoff, got_t.data(), &tlo, &thi);
          // Past the count a path may leave anything, but nothing past out[n).
          if (wm != gm || std::memcmp(want_t.data(), got_t.data(), wm * sizeof(float)) != 0 || !same_bits(got_t[n], -1.0f) ||
              !(tlo == want_lo && thi == want_hi)) {
            record_failure(__FILE__, __LINE__, where + " abs_at_least cutoff " + std::to_string(cutoff));
          }
        }
        // The drivers, threaded, against ref on one thread: bit for bit.
        min_max(ref::kStatsPath, x.data(), n, &want_lo, &want_hi, nullptr);
        min_max(path, x.data(), n, &lo, &hi, &pool3());
        if (!same_bits(lo, want_lo) || !same_bits(hi, want_hi)) record_failure(__FILE__, __LINE__, where + " min_max");
        std::vector<double> want_h(bins, 0.0), got_h(bins, 0.0);
        abs_histogram_accumulate(ref::kStatsPath, x.data(), n, width, bins, want_h.data(), nullptr);
        abs_histogram_accumulate(path, x.data(), n, width, bins, got_h.data(), &pool3());
        if (want_h != got_h) record_failure(__FILE__, __LINE__, where + " abs_histogram_accumulate");
        double total = 0;
        size_t counted = 0;
        for (double c : want_h) total += c;
        for (float v : x) counted += abs_histogram_counts(v) ? 1 : 0;
        if (total != static_cast<double>(counted)) record_failure(__FILE__, __LINE__, where + " histogram total");
        RETURN_IF_FAILED();
      }
    }
  }
}

namespace {

// observers.ts AbsHistogram.add, transcribed line by line (scalar, doubles).
// With sample > 1, large batches follow stats.h's rule written per value, not
// as the driver's chunked passes: a value whose bin reaches the tail bin counts
// once; below it, x[i] counts `sample` times when i lies in its group's picked
// block, else not at all.
struct JsAbsHistogram {
  std::vector<double> counts;
  double width = 0, lo = kInf, hi = -kInf;
  uint32_t sample = 1;
  explicit JsAbsHistogram(uint32_t bins, uint32_t s = 1) : counts(bins, 0.0), sample(s) {}
  bool picked(size_t i, size_t /*n*/) const {
    const size_t group = kSampleBlock * sample;
    return (i % group) / kSampleBlock == sampled_block(i / group, sample);
  }
  void add(const std::vector<float>& x) {
    double l = kInf, h = -kInf;
    for (float v : x) {
      if (v < l) l = v;
      if (v > h) h = v;
    }
    if (!std::isfinite(l) || !std::isfinite(h)) return;
    lo = (l < lo || (l == lo && std::signbit(l))) ? l : lo;
    hi = (h > hi || (h == hi && !std::signbit(h))) ? h : hi;
    const double max_abs = std::max(std::fabs(l), std::fabs(h));
    if (max_abs == 0) return;
    const double bins = static_cast<double>(counts.size());
    if (width == 0) width = max_abs / bins;
    if (max_abs > width * bins) {
      const double factor = std::ceil(max_abs / (width * bins));
      std::vector<double> merged(counts.size(), 0.0);
      for (size_t i = 0; i < counts.size(); ++i) merged[static_cast<size_t>(std::floor(i / factor))] += counts[i];
      counts = merged;
      width *= factor;
    }
    const double inv = 1 / width, last = bins - 1;
    // The tail bin: the least t with counts[t..) <= the share of the total; 0 (every value) with no counts.
    double total = 0, acc = 0;
    for (double c : counts) total += c;
    size_t t = counts.size();
    while (t > 0 && acc + counts[t - 1] <= total * kSampleTailShare) acc += counts[--t];
    const bool sampling = sample > 1 && x.size() >= kSampleFromElements && total > 0;
    for (size_t i = 0; i < x.size(); ++i) {
      const float v = x[i];
      if (v == 0) continue;
      if (v != v) continue;  // JS: c[NaN]++ touches no bin
      const double b = std::floor(std::fabs(static_cast<double>(v)) * inv);
      const size_t bin = static_cast<size_t>(b > last ? last : b);
      if (!sampling || (t < counts.size() && b >= static_cast<double>(t))) {
        counts[bin]++;
      } else if (picked(i, x.size())) {
        counts[bin] += sample;
      }
    }
  }
};

}  // namespace

TEST(stats_abs_histogram_add_matches_observer_algorithm) {
  for (Isa isa : isas_under_test()) {
    const StatsPath& path = stats_path(isa);
    for (uint32_t bins : {1u, 7u, 2048u}) {
      JsAbsHistogram want(bins);
      std::vector<double> state(kAbsHistogramHeader + bins, 0.0);
      state[0] = kInf;
      state[1] = -kInf;
      // Growing ranges (re-binning), a batch with inf (skipped), all zeros, all NaN, empty.
      const float scales[] = {1.0f, 0.5f, 3.0f, 3.1f, 40.0f, 1e-3f, 1000.0f};
      for (int batch = 0; batch < 12; ++batch) {
        std::vector<float> x = make_data(batch == 3 ? 1000003 : 1 + rng()() % 5000, batch % 4 == 1 ? 3 : 0, 1.0f, bins);
        for (auto& v : x) v *= scales[batch % 7];
        if (batch == 5) x.push_back(kInf);
        if (batch == 7) x.assign(100, 0.0f);
        if (batch == 8) x.assign(100, kNaN);
        if (batch == 9) x.clear();
        if (batch == 10) x[0] = kNaN;
        want.add(x);
        abs_histogram_add(path, x.data(), x.size(), bins, state.data(), &pool3());
      }
      const std::string where = std::string(isa_name(isa)) + " bins=" + std::to_string(bins);
      if (!same_bits(state[0], want.lo) || !same_bits(state[1], want.hi) || !same_bits(state[2], want.width)) {
        record_failure(__FILE__, __LINE__, where + " lo/hi/width");
      }
      for (uint32_t b = 0; b < bins; ++b) {
        if (state[kAbsHistogramHeader + b] != want.counts[b]) {
          record_failure(__FILE__, __LINE__, where + " bin " + std::to_string(b));
          break;
        }
      }
    }
  }
}

TEST(stats_abs_histogram_add_sampled_matches_per_index_rule) {
  // Lengths below, at and above kSampleFromElements, partial last groups, and one
  // large enough to split over the pool; NaN/inf/zeros, bin edges and ReLU-like data.
  const size_t lengths[] = {kSampleFromElements - 1, kSampleFromElements, kSampleFromElements + 7,
                            kSampleFromElements + 16 * 3 * 5 + 9, 1000003};
  for (Isa isa : isas_under_test()) {
    const StatsPath& path = stats_path(isa);
    for (uint32_t sample : {1u, 2u, 3u, 8u, 64u}) {
      for (ThreadPool* pool : {static_cast<ThreadPool*>(nullptr), &pool3()}) {
        const uint32_t bins = 2048;
        JsAbsHistogram want(bins, sample);
        std::vector<double> state(kAbsHistogramHeader + bins, 0.0);
        state[0] = kInf;
        state[1] = -kInf;
        const float scales[] = {1.0f, 0.5f, 3.0f, 40.0f, 1e-3f};
        for (int batch = 0; batch < 10; ++batch) {
          const int mode = batch % 4 == 1 ? 3 : batch % 4 == 2 ? 2 : 0;
          std::vector<float> x = make_data(lengths[batch % 5], mode, 1.0f / 64, bins);
          for (auto& v : x) v *= scales[batch % 5];
          if (batch == 6) x[x.size() / 2] = kNaN;
          if (batch == 8) x[17] = kInf;  // skipped whole
          want.add(x);
          abs_histogram_add(path, x.data(), x.size(), bins, state.data(), pool, sample);
        }
        const std::string where = std::string(isa_name(isa)) + " sample=" + std::to_string(sample) +
                                  (pool != nullptr ? " pool" : " inline");
        if (!same_bits(state[0], want.lo) || !same_bits(state[1], want.hi) || !same_bits(state[2], want.width)) {
          record_failure(__FILE__, __LINE__, where + " lo/hi/width");
        }
        for (uint32_t b = 0; b < bins; ++b) {
          if (state[kAbsHistogramHeader + b] != want.counts[b]) {
            record_failure(__FILE__, __LINE__, where + " bin " + std::to_string(b));
            break;
          }
        }
        RETURN_IF_FAILED();
      }
    }
  }
}

TEST(stats_sampled_extremes_come_from_every_value) {
  // The largest |x| sits in a block the sampling skips: the width still follows
  // it, and being in the tail it is counted all the same.
  const uint32_t sample = 8, bins = 16;
  const size_t n = 4 * kSampleFromElements;
  std::vector<float> x(n, 1.0f);
  const size_t group = kSampleBlock * sample;
  size_t skipped = 0;
  while ((skipped % group) / kSampleBlock == sampled_block(skipped / group, sample)) skipped += kSampleBlock;
  x[skipped] = -64.0f;
  for (Isa isa : isas_under_test()) {
    std::vector<double> state(kAbsHistogramHeader + bins, 0.0);
    state[0] = kInf;
    state[1] = -kInf;
    // The first batch has no counts to find a tail in: every value counts.
    std::vector<float> first(n, 2.0f);
    first[0] = 64.0f;
    abs_histogram_add(stats_path(isa), first.data(), n, bins, state.data(), &pool3(), sample);
    CHECK_EQ(state[kAbsHistogramHeader + 0], static_cast<double>(n - 1));
    CHECK_EQ(state[kAbsHistogramHeader + bins - 1], 1.0);
    abs_histogram_add(stats_path(isa), x.data(), n, bins, state.data(), &pool3(), sample);
    CHECK_EQ(state[0], -64.0);
    CHECK_EQ(state[1], 64.0);
    CHECK_EQ(state[2], 4.0);
    // x's ones are bulk (bin 0, below the tail bin 1): the n / sample picked ones count `sample`
    // times; its -64 is tail (the last bin) and counts once although no picked block holds it.
    CHECK_EQ(state[kAbsHistogramHeader + 0], static_cast<double>(n - 1) + static_cast<double>(n));
    CHECK_EQ(state[kAbsHistogramHeader + bins - 1], 2.0);
  }
}

TEST(stats_sampled_block_spreads_evenly) {
  // Every block of a group is picked about equally often, also over groups a
  // layout stride apart (every 2nd, 3rd, 4th group: channel counts that are
  // multiples of the group length).
  for (uint32_t sample : {2u, 3u, 8u, 64u}) {
    for (size_t step : {size_t{1}, size_t{2}, size_t{3}, size_t{4}}) {
      const size_t groups = 2000 * sample;
      std::vector<size_t> hits(sample, 0);
      for (size_t g = 0; g < groups * step; g += step) {
        const size_t b = sampled_block(g, sample);
        if (b >= sample) {
          record_failure(__FILE__, __LINE__, "sampled_block out of range");
          return;
        }
        ++hits[b];
      }
      for (size_t h : hits) {
        if (h < 1800 || h > 2200) {
          record_failure(__FILE__, __LINE__, "sample=" + std::to_string(sample) + " step=" + std::to_string(step) +
                                                 ": a block picked " + std::to_string(h) + " times of ~2000");
          break;
        }
      }
    }
  }
}

TEST(stats_sampled_tail_edge_is_exact) {
  // Width 1, 64 bins; the first batch puts the tail bin at 40 (bins 40.. hold 31
  // of 40000 values, bin 39 another 500: more than 1/1024 together). The second
  // batch sits on that edge: 40 is tail (counted wherever it is), the float just
  // below it is bulk (counted `sample` times when picked).
  const uint32_t bins = 64, sample = 8;
  std::vector<float> first(40000, 0.5f);
  static_assert(kSampleTailShare == 1.0 / 1024, "the counts below are for this share");
  for (size_t i = 0; i < 30; ++i) first[i] = 40.5f + static_cast<float>(i % 23);
  for (size_t i = 1000; i < 1500; ++i) first[i] = 39.5f;
  first[1500] = 64.0f;
  std::vector<float> x(50000);
  for (auto& v : x) v = rng()() % 2 ? 40.0f : std::nextafter(40.0f, 0.0f);
  x[0] = 64.0f;
  for (Isa isa : isas_under_test()) {
    JsAbsHistogram want(bins, sample);
    std::vector<double> state(kAbsHistogramHeader + bins, 0.0);
    state[0] = kInf;
    state[1] = -kInf;
    for (const auto* batch : {&first, &x}) {
      want.add(*batch);
      abs_histogram_add(stats_path(isa), batch->data(), batch->size(), bins, state.data(), &pool3(), sample);
    }
    CHECK_EQ(state[2], 1.0);
    CHECK(state[kAbsHistogramHeader + 40] > 20000.0);  // every 40 of x, not only the picked ones
    for (uint32_t b = 0; b < bins; ++b) {
      if (state[kAbsHistogramHeader + b] != want.counts[b]) {
        record_failure(__FILE__, __LINE__, std::string(isa_name(isa)) + " bin " + std::to_string(b));
        break;
      }
    }
  }
}

TEST(stats_abs_at_least_every_length) {
  // The tail copy takes two vectors a step, then one: every length 0..100, a
  // few around 8 and 16 vectors and a kernel chunk, one large; cutoffs that pass
  // no lane, some lanes, lanes in one vector of a pair, or every lane; a canary
  // past out[n) must stay untouched.
  std::vector<size_t> lengths;
  for (size_t n = 0; n <= 100; ++n) lengths.push_back(n);
  for (size_t n : {127, 128, 129, 143, 144, 160, 255, 256, 300, 4095, 4096, 4097, 4111, 65557}) lengths.push_back(n);
  for (Isa isa : isas_under_test()) {
    const StatsPath& path = stats_path(isa);
    for (size_t n : lengths) {
      for (int mode = 0; mode < 5; ++mode) {
        // mode 4: zeros, with a large value in every 17th place (lanes pass in one vector of a pair, then the other).
        std::vector<float> x = mode < 4 ? make_data(n, mode, 0.125f, 64) : std::vector<float>(n, 0.0f);
        if (mode == 4) {
          for (size_t i = 0; i < n; i += 17) x[i] = i % 2 ? 100.0f : -100.0f;
        }
        float want_lo, want_hi;
        ref::min_max(x.data(), n, &want_lo, &want_hi);
        for (float cutoff : {1e-40f, 0.5f, 3.0f, 99.0f, kInf}) {
          std::vector<float> want(n + 17, -1.0f), got(n + 17, -1.0f);
          float lo, hi;
          const size_t wm = ref::abs_at_least(x.data(), n, cutoff, want.data());
          const size_t gm = path.min_max_abs_at_least(x.data(), n, cutoff, got.data(), &lo, &hi);
          if (wm != gm || std::memcmp(want.data(), got.data(), wm * sizeof(float)) != 0 ||
              !std::all_of(got.begin() + static_cast<std::ptrdiff_t>(n), got.end(), [](float v) { return same_bits(v, -1.0f); }) ||
              !(lo == want_lo && hi == want_hi)) {
            record_failure(__FILE__, __LINE__, std::string(isa_name(isa)) + " n=" + std::to_string(n) + " mode=" +
                                                   std::to_string(mode) + " cutoff " + std::to_string(cutoff));
            return;
          }
        }
      }
    }
  }
}

TEST(stats_sampled_tail_bin_on_long_sparse_tails) {
  // The tail bin found from counts set by hand: a bulk in the low bins and a
  // long sparse tail, with the tail's share landing exactly on, just under and
  // just over the allowed count, at block edges and inside blocks, for bin
  // counts that are and are not multiples of the walk's block. A sampled batch
  // then counts every value from that bin up: compared with the per-value rule.
  const uint32_t sample = 8;
  for (uint32_t bins : {15u, 16u, 17u, 33u, 40u, 1000u, 2047u, 2048u}) {
    for (int layout = 0; layout < 9; ++layout) {
      std::vector<double> counts(bins, 0.0);
      if (layout >= 6) {
        // The top `edge` bins hold the allowed count exactly (layout 7), one less
        // or one more; a few empty bins below them (absorbed into the tail when
        // it is exactly full), then bulk. total = 1024 * 1000: allowed = 1000.
        const uint32_t edge = bins >= 40 ? 32 : bins >= 24 ? 16 : 8;
        const double in_tail = 1000.0 + (layout - 7);
        for (uint32_t k = 0; k < edge; ++k) counts[bins - 1 - k] = std::floor(in_tail / edge);
        counts[bins - edge] += in_tail - edge * std::floor(in_tail / edge);
        counts[bins - edge - 4] = 5000.0;
        counts[0] = 1024.0 * 1000 - in_tail - 5000.0;
      } else {
        // 1024 * 1000 in the bulk: the allowed tail is 1000 counts plus the tail's own share.
        for (uint32_t b = 0; b < std::min(bins, 4u); ++b) counts[b] = 256.0 * 1000;
        const uint32_t span = bins / 2;
        double tail = 0;
        for (uint32_t k = 0; k < span; k += 1 + layout) {
          const uint32_t b = bins - 1 - k;
          if (b < 4) break;
          counts[b] = static_cast<double>(1 + (k * 7 + static_cast<uint32_t>(layout)) % 5);
          tail += counts[b];
        }
        // Nudge the total so the allowed count meets a tail prefix exactly (layouts 0-2) or misses by one.
        if (layout < 3) counts[0] += std::fmod(1024.0 - std::fmod(tail * 1024, 1024.0), 1024.0) + layout;
      }
      std::vector<float> x(kSampleFromElements + 333);
      for (auto& v : x) v = (static_cast<float>(rng()() % (bins * 4)) + 0.5f) * 0.25f;
      x[5] = static_cast<float>(bins) - 0.5f;  // keeps the width (bins * 1.0 wide)
      for (Isa isa : isas_under_test()) {
        JsAbsHistogram want(bins, sample);
        want.counts = counts;
        want.width = 1.0;
        want.lo = 0.0;
        want.hi = static_cast<double>(bins) - 0.5;
        std::vector<double> state(kAbsHistogramHeader + bins);
        state[0] = want.lo;
        state[1] = want.hi;
        state[2] = want.width;
        std::copy(counts.begin(), counts.end(), state.begin() + kAbsHistogramHeader);
        want.add(x);
        abs_histogram_add(stats_path(isa), x.data(), x.size(), bins, state.data(), &pool3(), sample);
        for (uint32_t b = 0; b < bins; ++b) {
          if (state[kAbsHistogramHeader + b] != want.counts[b]) {
            record_failure(__FILE__, __LINE__, std::string(isa_name(isa)) + " bins=" + std::to_string(bins) + " layout=" +
                                                   std::to_string(layout) + " bin " + std::to_string(b));
            return;
          }
        }
      }
    }
  }
}
