// Names the compiler that built the benchmarks in the run's JSON context ("pulse_compiler"), so
// that the report says which compiler its numbers belong to: coroutine code differs between them
// by 1.2-1.3x here.
#include <benchmark/benchmark.h>

namespace {

#if defined(__clang__)
constexpr const char* compiler = "clang " __clang_version__;
#elif defined(__GNUC__)
constexpr const char* compiler = "g++ " __VERSION__;
#else
constexpr const char* compiler = "unknown";
#endif

// Before main: benchmark_main reads the context when it reports.
[[maybe_unused]] const bool registered = (benchmark::AddCustomContext("pulse_compiler", compiler), true);

}  // namespace
