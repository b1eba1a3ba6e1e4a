#ifndef TREEFORGE_COSTREE_SHIM_H
#define TREEFORGE_COSTREE_SHIM_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <unistd.h>
#include <ostree.h>

/* syncfs(2) is a GNU extension Glibc's Swift module does not export; the
 * commit flushes its staged objects with it, as libostree does its own. */
static inline int treeforge_syncfs(int fd) { return syncfs(fd); }

#endif
