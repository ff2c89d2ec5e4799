// libFuzzer's driver, for executables whose `main` SwiftPM owns (it links every executable
// target's entry point as `main`), so libFuzzer's own `main` cannot be used.
#ifndef FUZZ_DRIVER_H
#define FUZZ_DRIVER_H
#include <stddef.h>
#include <stdint.h>

/// Parses libFuzzer's command-line flags and fuzzes `callback` (defined in libclang_rt.fuzzer).
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

/// Runs the driver on the process's arguments with `callback`; returns libFuzzer's exit status.
int fuzz_driver_run(int argc, char **argv, int (*callback)(const uint8_t *data, size_t size));
#endif
