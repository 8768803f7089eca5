#ifndef CKERNELS_H
#define CKERNELS_H
/// Hand-vectorised C kernels. Pure, output-first functions; see Tests/KernelsTests for naive references.
#include <stddef.h>
#include <stdint.h>

#endif
