#ifndef TREEFORGE_COSTREE_SHIM_H
#define TREEFORGE_COSTREE_SHIM_H

#include <ostree.h>

/* syncfs(2) is a GNU extension: glibc declares it only under _GNU_SOURCE,
 * which must not be defined here (it changes system types other modules
 * import too). The commit flushes its staged objects with it, as libostree
 * does its own. */
extern int syncfs (int fd);
static inline int treeforge_syncfs (int fd) { return syncfs (fd); }

#endif
