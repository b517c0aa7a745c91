# shellcheck shell=bash disable=SC2034 # (the package lists are used by the sourcing scripts)
# Sourced by scripts/demo, scripts/test and scripts/bench: the Debian packages each needs, and a
# function that installs the missing ones. A fresh machine keeps nothing installed by hand, so
# every entry point installs what it uses rather than assuming an earlier session did.

# Everything the release preset configures and builds: toolchain, pulse's own dependencies, and
# what its tests (Catch2, nlohmann-json to read traces back) and benchmarks (Google Benchmark, oneTBB) link against.
PULSE_DEMO_PACKAGES="cmake ninja-build pkg-config g++ liburing-dev libhwloc-dev libfmt-dev catch2 nlohmann-json3-dev libbenchmark-dev libtbb-dev"
# Plus what the bench preset builds with (clang-19, and libomp for its OpenMP peers) and matplotlib
# for the benchmark report's plots (scripts/bench-report --plots); the tables alone need nothing
# beyond Python's standard library.
PULSE_BENCH_PACKAGES="$PULSE_DEMO_PACKAGES clang-19 libomp-19-dev python3-matplotlib"
# Plus what only the full test matrix needs: clang-19 with its sanitizer runtimes and lld for the
# asan/tsan presets, and the extra libraries and tools the test suite uses.
PULSE_TEST_PACKAGES="$PULSE_DEMO_PACKAGES clang-19 libclang-rt-19-dev lld-19 relacy-dev libseccomp-dev util-linux"

# pulse_require_packages PKG...: installs whichever of PKG... dpkg does not list as installed.
# Without root it cannot, so it prints the command to run and exits the calling script.
pulse_require_packages() {
  local pkg missing=()
  for pkg in "$@"; do
    if [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" != "install ok installed" ]]; then
      missing+=("$pkg")
    fi
  done
  if ((${#missing[@]} == 0)); then
    return 0
  fi

  if ((EUID != 0)); then
    echo "pulse: missing Debian packages; run this as root, then try again:" >&2
    echo "apt-get install -y ${missing[*]}" >&2
    exit 1
  fi

  echo "pulse: installing ${missing[*]}" >&2
  # A failed refresh (e.g. one unreachable mirror) is not fatal by itself: the install below
  # may still succeed from the existing lists, and fails loudly if it cannot.
  apt-get update || echo "pulse: warning: apt-get update failed; trying the install anyway" >&2
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"; then
    echo "pulse: ERROR: could not install: ${missing[*]}" >&2
    exit 1
  fi
}
