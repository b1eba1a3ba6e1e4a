#ifndef TREEFORGE_CCRYPTO_SHIM_H
#define TREEFORGE_CCRYPTO_SHIM_H

#include <openssl/evp.h>

#endif
