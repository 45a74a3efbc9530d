#include "lowbit/fixedpoint.h"

#include <cmath>

namespace lowbit {
namespace fixedpoint {

bool quantize_multiplier(double real_multiplier, int32_t* multiplier, int* shift) {
  if (!(real_multiplier >= 0.0) || !std::isfinite(real_multiplier)) return false;
  if (real_multiplier == 0.0) {
    *multiplier = 0;
    *shift = 0;
    return true;
  }
  int exponent = 0;
  const double q = std::frexp(real_multiplier, &exponent);  // q in [0.5, 1)
  int64_t q_fixed = static_cast<int64_t>(std::round(q * static_cast<double>(int64_t{1} << 31)));
  if (q_fixed == (int64_t{1} << 31)) {  // q rounded up to 1.0
    q_fixed /= 2;
    ++exponent;
  }
  if (exponent < -31) {  // too small to represent: the multiplier is zero
    exponent = 0;
    q_fixed = 0;
  }
  if (exponent > 30) {  // too large: saturate, as TFLite does
    exponent = 30;
    q_fixed = (int64_t{1} << 31) - 1;
  }
  *multiplier = static_cast<int32_t>(q_fixed);
  *shift = exponent;
  return true;
}

}  // namespace fixedpoint
}  // namespace lowbit
