// Process-wide addon state: the active kernel path.
#pragma once

#include "lowbit/cpu.h"
#include "lowbit/gemm.h"

namespace lowbit_addon {

const lowbit::GemmPath& active_gemm_path();
lowbit::Isa active_isa();
// The best path this binary has and this CPU runs.
lowbit::Isa best_isa();
// Returns an empty string on success, else why the path cannot be used.
std::string select_isa(lowbit::Isa isa);

}  // namespace lowbit_addon
