// Softmax rows with neon: the shared vector code (../../common/f32-softmax-impl.h).
#include "../../common/f32-softmax-impl.h"

namespace lowbit {
namespace neon {

extern const SoftmaxPath kSoftmaxPath = {Isa::kNeon, simd::softmax_row<simd::VecNeon>};

}  // namespace neon
}  // namespace lowbit
