#ifndef GENOMIC_ULMFIT_CLIBCRYPTO_SHIM_H
#define GENOMIC_ULMFIT_CLIBCRYPTO_SHIM_H
// OpenSSL's libcrypto, for SHA-256 only (Sources/Checkpoint/SHA256.swift): the EVP digest API.
#include <openssl/evp.h>
#endif
