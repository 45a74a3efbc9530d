// ARM GEMM paths at the edges of their buffers: A's last row ends right before
// an inaccessible page (a K tail must not load past it), and a call over a
// sub-block writes nothing outside that block.
#if defined(__aarch64__)

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "harness.h"
#include "lowbit/gemm.h"

using namespace lowbit;
using namespace lowbit_test;

namespace {

bool is_arm_path(Isa isa) { return isa == Isa::kNeon || isa == Isa::kNeonDot; }

// A buffer whose usable bytes end exactly where a PROT_NONE page begins.
class GuardedBuffer {
 public:
  explicit GuardedBuffer(size_t bytes) {
    page_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    const size_t data_pages = (bytes + page_ - 1) / page_;
    size_ = (data_pages + 1) * page_;
    void* p = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    base_ = p == MAP_FAILED ? nullptr : static_cast<uint8_t*>(p);
    if (base_ != nullptr) mprotect(base_ + data_pages * page_, page_, PROT_NONE);
    data_ = base_ == nullptr ? nullptr : base_ + data_pages * page_ - bytes;
  }
  ~GuardedBuffer() {
    if (base_ != nullptr) munmap(base_, size_);
  }
  GuardedBuffer(const GuardedBuffer&) = delete;
  GuardedBuffer& operator=(const GuardedBuffer&) = delete;
  uint8_t* data() { return data_; }

 private:
  size_t page_ = 0, size_ = 0;
  uint8_t* base_ = nullptr;
  uint8_t* data_ = nullptr;
};

}  // namespace

TEST(arm_gemm_k_tail_stops_at_end_of_a) {
  bool any = false;
  for (Isa isa : isas_under_test()) {
    if (!is_arm_path(isa)) continue;
    any = true;
    const GemmPath* path = gemm_path(isa);
    for (size_t m : {1, 2, 3, 4, 5, 7}) {
      for (size_t k = 0; k <= 70; ++k) {
        for (size_t n : {1, 5, 17}) {
          // The last row is exactly k bytes long: no stride padding after it.
          const size_t a_stride = k + (m % 2);
          const size_t a_bytes = (m - 1) * a_stride + k;
          GuardedBuffer a(a_bytes);
          CHECK(a.data() != nullptr);
          RETURN_IF_FAILED();
          for (size_t i = 0; i < a_bytes; ++i) a.data()[i] = static_cast<uint8_t>(rng()());
          std::vector<uint8_t> b(k * n);
          for (auto& v : b) v = static_cast<uint8_t>(rng()());
          const std::vector<int32_t> zb = {3};
          PackedMatrix packed;
          pack_matrix(*path, b.data(), false, k, n, n, zb, &packed);
          std::vector<int32_t> expect(m * n), got(m * n, 0x5A5A5A5A);
          ref::gemm_s32(m, n, k, a.data(), false, a_stride, 7, b.data(), false, n, zb.data(), 1,
                        expect.data(), n);
          GemmArgs args;
          args.m = m;
          args.a = a.data();
          args.a_stride = a_stride;
          args.a_signed = false;
          args.a_zero_point = 7;
          args.b = &packed;
          args.c = got.data();
          args.c_stride = n;
          gemm(*path, args);  // a load past the end faults here
          for (size_t i = 0; i < m * n; ++i) CHECK_EQ(got[i], expect[i]);
          RETURN_IF_FAILED();
        }
      }
    }
  }
  if (!any) skip("no ARM path under test");
}

TEST(arm_gemm_writes_only_its_block) {
  bool any = false;
  for (Isa isa : isas_under_test()) {
    if (!is_arm_path(isa)) continue;
    any = true;
    const GemmPath* path = gemm_path(isa);
    const size_t m = 11, n = 3 * path->nr + 5, k = 37;
    std::vector<uint8_t> a(m * k), b(k * n);
    for (auto& v : a) v = static_cast<uint8_t>(rng()());
    for (auto& v : b) v = static_cast<uint8_t>(rng()());
    PackedMatrix packed;
    pack_matrix(*path, b.data(), true, k, n, n, {}, &packed);
    Requantization rq;
    rq.mode = RequantMode::kFixedpoint;
    rq.multiplier = {1 << 30};
    rq.shift = {-8};
    for (bool requant : {false, true}) {
      const size_t elem = requant ? 1 : 4;
      // Row blocks of every size at every start; column blocks on panel boundaries,
      // the last one ending at n (a partial panel).
      for (size_t m0 = 0; m0 < m; ++m0) {
        for (size_t m1 = m0 + 1; m1 <= m; m1 += 2) {
          for (size_t n0 = 0; n0 < n; n0 += path->nr) {
            for (size_t n1 : {std::min(n0 + path->nr, n), n}) {
              std::vector<uint8_t> c(m * n * elem, 0xEE);
              GemmArgs args;
              args.m = m;
              args.a = a.data();
              args.a_stride = k;
              args.a_signed = false;
              args.a_zero_point = 0;
              args.b = &packed;
              args.rq = requant ? &rq : nullptr;
              args.c = c.data();
              args.c_stride = n;
              path->run(args, m0, m1, n0, n1);
              for (size_t i = 0; i < m; ++i) {
                for (size_t j = 0; j < n; ++j) {
                  const bool inside = i >= m0 && i < m1 && j >= n0 && j < n1;
                  if (inside) continue;
                  for (size_t e = 0; e < elem; ++e) {
                    CHECK_EQ(c[(i * n + j) * elem + e], uint8_t{0xEE});
                  }
                }
              }
              RETURN_IF_FAILED();
            }
          }
        }
      }
    }
  }
  if (!any) skip("no ARM path under test");
}

#endif  // __aarch64__
