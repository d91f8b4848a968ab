/* Functions whose work is a side effect on the system (attaching loop devices, mounting,
 * running helper programs) are defined as SILO_SEAM. In a fuzzing build (SILO_FUZZ) they are
 * weak symbols, which the fuzz targets replace with fakes: a request is fuzzed through all
 * of its checks up to its first such side effect, and never reaches the host's devices. */
#pragma once

#if SILO_FUZZ
#define SILO_SEAM __attribute__((weak))
#else
#define SILO_SEAM
#endif
