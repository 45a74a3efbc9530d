// QuantizeLinear / DequantizeLinear row kernels: every path bit-identical to ref
// on random rows of every tail length, with exact ties, NaN, infinities, -0 and
// values far outside the range.
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "harness.h"
#include "lowbit/quantize.h"

namespace {

std::vector<float> row(std::mt19937& rng, size_t n, float scale) {
  std::uniform_real_distribution<float> u(-300.0f, 300.0f);
  std::uniform_int_distribution<int> kind(0, 9), k(-300, 300);
  std::vector<float> x(n);
  for (auto& v : x) {
    switch (kind(rng)) {
      case 0: v = (static_cast<float>(k(rng)) + 0.5f) * scale; break;  // an exact tie
      case 1: v = std::numeric_limits<float>::quiet_NaN(); break;
      case 2: v = k(rng) % 2 ? std::numeric_limits<float>::infinity() : -std::numeric_limits<float>::infinity(); break;
      case 3: v = k(rng) % 2 ? -0.0f : 1e30f; break;
      default: v = u(rng) * scale; break;
    }
  }
  return x;
}

}  // namespace

TEST(quantize_rows_match_ref_on_every_path) {
  std::mt19937 rng(17);
  const float scales[] = {0.02f, 1.0f, 0.3f, 7.5f, 1e-3f};
  for (lowbit::Isa isa : lowbit_test::isas_under_test()) {
    const lowbit::QuantizePath& path = lowbit::quantize_path(isa);
    for (size_t n : {0, 1, 7, 8, 15, 16, 17, 31, 33, 64, 65, 1000}) {
      for (float scale : scales) {
        for (bool out_signed : {false, true}) {
          for (int32_t zp : out_signed ? std::vector<int32_t>{-128, -3, 0, 127} : std::vector<int32_t>{0, 1, 128, 255}) {
            const std::vector<float> x = row(rng, n, scale);
            std::vector<uint8_t> want(n + 1, 0xAB), got(n + 1, 0xAB);
            lowbit::ref::quantize_row(x.data(), n, scale, zp, out_signed, want.data());
            path.quantize_row(x.data(), n, scale, zp, out_signed, got.data());
            CHECK(want == got);
          }
        }
      }
    }
  }
}

TEST(dequantize_rows_match_ref_on_every_path) {
  std::mt19937 rng(23);
  std::uniform_int_distribution<int> byte(0, 255);
  for (lowbit::Isa isa : lowbit_test::isas_under_test()) {
    const lowbit::QuantizePath& path = lowbit::quantize_path(isa);
    for (size_t n : {0, 1, 7, 8, 9, 16, 17, 33, 1000}) {
      for (auto type : {lowbit::ElementType::kUint8, lowbit::ElementType::kInt8}) {
        for (int32_t zp : {0, 1, 127, -128, 255}) {
          if (type == lowbit::ElementType::kUint8 && zp < 0) continue;
          std::vector<uint8_t> x(n);
          for (auto& v : x) v = static_cast<uint8_t>(byte(rng));
          std::vector<float> want(n + 1, 7.0f), got(n + 1, 7.0f);
          lowbit::ref::dequantize_row(x.data(), type, n, 0.0371f, zp, want.data());
          path.dequantize_row(x.data(), type, n, 0.0371f, zp, got.data());
          CHECK(std::memcmp(want.data(), got.data(), sizeof(float) * (n + 1)) == 0);
        }
      }
    }
  }
}
