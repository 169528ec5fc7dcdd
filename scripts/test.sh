#!/usr/bin/env bash
# One command from a fresh clone: installs the Debian packages, builds everything and
# runs the whole test suite (CTest). Exits non-zero if anything fails.
#   scripts/test.sh          Release build in ./build, every test, then the plugin path
#   scripts/test.sh --asan   the whole suite built with AddressSanitizer + UBSan
#                            (-fno-sanitize-recover) in ./build-asan
#   scripts/test.sh --tsan   ThreadSanitizer over the threaded code (VecEnv, thread pool,
#                            live viewer sources, multi-process training) in ./build-tsan
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}
jobs=${LUDUS_JOBS:-$(nproc)}
# Test data that .gitignore hides passes here and fails in a fresh clone: refuse it.
if [ -d .git ] && command -v git >/dev/null; then
  hidden=$(git ls-files --others --ignored --exclude-standard -- tests python configs envs || true)
  if [ -n "$hidden" ]; then
    echo "test.sh: these files are ignored by .gitignore, so a fresh clone lacks them:" >&2
    echo "$hidden" >&2
    exit 1
  fi
fi
bash scripts/install-deps.sh
case "$mode" in
  "")
    bash scripts/build.sh -DLUDUS_BUILD_TESTS=ON -DLUDUS_BUILD_BENCH=ON
    ctest --test-dir build -j "$jobs" --output-on-failure --timeout 900
    # The custom-environment path: install, build envs/examples/plugin against the package,
    # check-env / run / train / watch its games (docs/custom-env.md).
    bash scripts/plugin-example.sh build
    ;;
  --asan)
    LUDUS_BUILD_DIR=build-asan bash scripts/build.sh -DLUDUS_BUILD_TESTS=ON -DLUDUS_BUILD_BENCH=OFF \
      -DLUDUS_SANITIZE=address,undefined
    # Leaks inside libraries we do not build (libtorch's and OpenBLAS's one-time
    # allocations) are listed in scripts/sanitizers/lsan.supp; ours are not suppressed.
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1
    export LSAN_OPTIONS=suppressions=$PWD/scripts/sanitizers/lsan.supp:print_suppressions=0
    export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
    # SDL's offscreen video driver loads Mesa's EGL driver and unloads it at exit, so LSan
    # cannot name that driver's one-time allocations ("unknown module") and no suppression
    # matches them: the window tests run on SDL's dummy driver here (same loop, software
    # framebuffer; tests/viz reads LUDUS_TEST_VIDEODRIVER).
    export LUDUS_TEST_VIDEODRIVER=dummy
    ctest --test-dir build-asan -j "$jobs" --output-on-failure --timeout 1800
    ;;
  --tsan)
    LUDUS_BUILD_DIR=build-tsan bash scripts/build.sh -DLUDUS_BUILD_TESTS=ON -DLUDUS_BUILD_BENCH=OFF \
      -DLUDUS_SANITIZE=thread
    export LUDUS_TEST_VIDEODRIVER=dummy
    export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/scripts/sanitizers/tsan.supp
    ctest --test-dir build-tsan -j "$jobs" --output-on-failure --timeout 1800 \
      -R 'VecEnv|ThreadPool|Conformance|LiveSource|Viewer|Watch|Dist'
    ;;
  *)
    echo "usage: $0 [--asan|--tsan]" >&2
    exit 2
    ;;
esac
