#ifndef TREEFORGE_CSOLV_SHIM_H
#define TREEFORGE_CSOLV_SHIM_H

/* libsolv's repo headers use FILE without including stdio.h. */
#include <stdio.h>
#include <solv/pool.h>
#include <solv/poolarch.h>
#include <solv/repo.h>
#include <solv/repodata.h>
#include <solv/repo_rpmmd.h>
#include <solv/repo_repomdxml.h>
#include <solv/repo_solv.h>
#include <solv/repo_write.h>
#include <solv/solver.h>
#include <solv/solverdebug.h>
#include <solv/selection.h>
#include <solv/transaction.h>
#include <solv/problems.h>
#include <solv/policy.h>
#include <solv/chksum.h>
#include <solv/solv_xfopen.h>
#include <solv/evr.h>
#include <solv/solvversion.h>

/* The repomd.xml entry of one data type ("primary", "filelists", …) after
 * repo_add_repomdxml: where the file is, the checksum it must have and its
 * size (0 when repomd.xml gives none). Returns 0 when repomd.xml has no such
 * entry. The strings belong to the repo and stay valid while it lives. */
static inline int csolv_repomd_entry(Repo *repo, const char *type,
                                     const char **location,
                                     Id *checksum_type,
                                     const unsigned char **checksum,
                                     unsigned long long *size)
{
    Pool *pool = repo->pool;
    Dataiterator di;
    int found = 0;
    dataiterator_init(&di, pool, repo, SOLVID_META, REPOSITORY_REPOMD_TYPE, type, SEARCH_STRING);
    dataiterator_prepend_keyname(&di, REPOSITORY_REPOMD);
    if (dataiterator_step(&di)) {
        dataiterator_setpos_parent(&di);
        *location = pool_lookup_str(pool, SOLVID_POS, REPOSITORY_REPOMD_LOCATION);
        *checksum = pool_lookup_bin_checksum(pool, SOLVID_POS, REPOSITORY_REPOMD_CHECKSUM, checksum_type);
        *size = pool_lookup_num(pool, SOLVID_POS, REPOSITORY_REPOMD_SIZE, 0);
        found = *location != NULL;
    }
    dataiterator_free(&di);
    return found;
}

/* Makes these packages invisible to the solver (pool->considered), as dnf's
 * excludes do. Call before pool_createwhatprovides. */
static inline void csolv_exclude(Pool *pool, const Id *ids, int count)
{
    if (!pool->considered) {
        pool->considered = solv_calloc(1, sizeof(Map));
        map_init(pool->considered, pool->nsolvables);
        MAPSETALL(pool->considered);
    }
    for (int i = 0; i < count; i++)
        MAPCLR(pool->considered, ids[i]);
}

/* Indexes file provides and builds whatprovides, then lists the file
 * dependencies (e.g. /usr/share/foo) that no loaded package provides: with
 * primary.xml alone these are the ones that need filelists.xml. */
static inline void csolv_prepare(Pool *pool, Queue *unprovided_files)
{
    Queue files;
    queue_init(&files);
    pool_addfileprovides_queue(pool, &files, 0);
    pool_createwhatprovides(pool);
    for (int i = 0; i < files.count; i++)
        if (!pool->whatprovidesdata[pool_whatprovides(pool, files.elements[i])])
            queue_push(unprovided_files, files.elements[i]);
    queue_free(&files);
}

/* The capability names a package provides (versions dropped). */
static inline void csolv_provide_names(Pool *pool, Id p, Queue *names)
{
    Queue deps;
    queue_init(&deps);
    solvable_lookup_deparray(pool->solvables + p, SOLVABLE_PROVIDES, &deps, -1);
    for (int i = 0; i < deps.count; i++) {
        Id dep = deps.elements[i];
        while (ISRELDEP(dep)) dep = GETRELDEP(pool, dep)->name;
        queue_push(names, dep);
    }
    queue_free(&deps);
}

static inline const char *csolv_repomd_revision(Repo *repo)
{
    return repo_lookup_str(repo, SOLVID_META, REPOSITORY_REVISION);
}

/* The version of the libsolv loaded at run time (it may differ from the
 * headers': a `.solv` file is only read by the libsolv that wrote it). */
static inline const char *csolv_runtime_version(void)
{
    return solv_version;
}

#endif
