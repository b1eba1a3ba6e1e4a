#ifndef TREEFORGE_COSTREE_SHIM_H
#define TREEFORGE_COSTREE_SHIM_H

#include <ostree.h>

#endif
