#ifndef GENOMIC_ULMFIT_CHWLOC_SHIM_H
#define GENOMIC_ULMFIT_CHWLOC_SHIM_H
#include <hwloc.h>
// glibc declares sched_getcpu only under _GNU_SOURCE; declare it so Swift can verify placement.
extern int sched_getcpu(void);
#endif
