// Declarations only (see include/CFuzzerDriver.h); the definition comes from libFuzzer in fuzz builds.
#include "CFuzzerDriver.h"
