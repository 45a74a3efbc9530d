#include "harness.h"

#include <cstdlib>
#include <cstring>
#include <functional>

#include "lowbit/gemm.h"

namespace lowbit_test {
namespace {
int g_case_failures = 0;
bool g_case_skipped = false;
std::string g_skip_reason;
std::mt19937 g_rng;
}  // namespace

std::vector<Case>& registry() {
  static std::vector<Case> cases;
  return cases;
}

void record_failure(const char* file, int line, const std::string& what) {
  if (++g_case_failures <= 10) std::fprintf(stderr, "    %s:%d: %s\n", file, line, what.c_str());
}

void skip(const std::string& why) {
  g_case_skipped = true;
  g_skip_reason = why;
}

int failures_in_current_case() { return g_case_failures; }

std::mt19937& rng() { return g_rng; }

std::vector<lowbit::Isa> isas_under_test() {
  std::vector<lowbit::Isa> out;
  const char* forced = std::getenv("LOWBIT_ISA");
  for (int i = 0; i < static_cast<int>(lowbit::Isa::kCount); ++i) {
    const auto isa = static_cast<lowbit::Isa>(i);
    if (forced && *forced && std::strcmp(forced, lowbit::isa_name(isa)) != 0) continue;
    if (lowbit::gemm_path(isa) != nullptr && lowbit::cpu_supports(isa)) out.push_back(isa);
  }
  return out;
}

}  // namespace lowbit_test

int main(int argc, char** argv) {
  using namespace lowbit_test;
  const char* filter = argc > 1 ? argv[1] : nullptr;
  const char* seed_env = std::getenv("LOWBIT_TEST_SEED");
  int passed = 0, failed = 0, skipped = 0;
  std::printf("lowbit kernel tests; paths under test:");
  for (auto isa : isas_under_test()) std::printf(" %s", lowbit::isa_name(isa));
  std::printf("\n");
  for (const Case& c : registry()) {
    if (filter && std::strstr(c.name, filter) == nullptr) continue;
    g_case_failures = 0;
    g_case_skipped = false;
    const uint32_t seed = seed_env ? static_cast<uint32_t>(std::strtoul(seed_env, nullptr, 10))
                                   : static_cast<uint32_t>(std::hash<std::string>{}(c.name));
    g_rng.seed(seed);
    try {
      c.body();
    } catch (const std::exception& e) {
      record_failure(__FILE__, __LINE__, std::string("exception: ") + e.what());
    }
    if (g_case_failures > 0) {
      ++failed;
      std::printf("  FAIL %s (%d failures, seed %u)\n", c.name, g_case_failures, seed);
    } else if (g_case_skipped) {
      ++skipped;
      std::printf("  skip %s: %s\n", c.name, g_skip_reason.c_str());
    } else {
      ++passed;
      std::printf("  ok   %s\n", c.name);
    }
  }
  std::printf("native: %d passed, %d failed, %d skipped\n", passed, failed, skipped);
  return failed == 0 ? 0 : 1;
}
