#ifndef GENOMIC_ULMFIT_CZLIB_SHIM_H
#define GENOMIC_ULMFIT_CZLIB_SHIM_H
#include <zlib.h>
#endif
