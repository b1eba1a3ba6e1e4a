#ifndef TREEFORGE_CDEFLATE_SHIM_H
#define TREEFORGE_CDEFLATE_SHIM_H

#include <libdeflate.h>

#endif
