#ifndef CFUZZERDRIVER_H
#define CFUZZERDRIVER_H
#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver entry (compiler-rt, linked by -sanitize=fuzzer). SwiftPM links every executable
/// with `main` aliased to `<Module>_main`, so a fuzz target defines that symbol and hands its arguments
/// and its test function to this driver. Only referenced in FUZZING builds.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
