#ifndef GENOMIC_ULMFIT_COPENBLAS_SHIM_H
#define GENOMIC_ULMFIT_COPENBLAS_SHIM_H
#include <cblas.h>
// Declared by OpenBLAS's cblas.h on Debian; repeated here so the intent is visible:
// each worker calls BLAS single-threaded, parallelism comes from our own workers.
void openblas_set_num_threads(int num_threads);
char *openblas_get_config(void);
int openblas_get_num_threads(void);
#endif
