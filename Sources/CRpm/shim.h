#ifndef TREEFORGE_CRPM_SHIM_H
#define TREEFORGE_CRPM_SHIM_H

#include <rpm/rpmlib.h>
#include <rpm/rpmts.h>
#include <rpm/rpmte.h>
#include <rpm/rpmds.h>
#include <rpm/rpmps.h>
#include <rpm/rpmprob.h>
#include <rpm/rpmlog.h>
#include <rpm/rpmmacro.h>
#include <rpm/rpmio.h>
#include <rpm/header.h>
#include <rpm/rpmtag.h>
#include <rpm/rpmcallback.h>
#include <rpm/rpmkeyring.h>
#include <rpm/rpmdb.h>
#include <rpm/rpmfiles.h>
#include <rpm/rpmfi.h>
#include <rpm/rpmarchive.h>

/* Macros that OR enum constants do not import into Swift. */
static const rpmVSFlags CRPM_VSF_MASK_NOSIGNATURES = RPMVSF_MASK_NOSIGNATURES;
static const rpmVSFlags CRPM_VSF_MASK_NODIGESTS = RPMVSF_MASK_NODIGESTS;
static const rpmfiFlags CRPM_FI_FLAGS_QUERY = RPMFI_FLAGS_QUERY;
static const rpmfiFlags CRPM_FI_FLAGS_INSTALL = RPMFI_FLAGS_INSTALL;

/* prctl is variadic, which Swift does not import. The rpm child asks for a
   signal when its parent dies (its scriptlets must not outlive treeforge). */
#include <sys/prctl.h>
static inline int crpm_set_parent_death_signal(int signal) {
    return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0UL, 0UL, 0UL);
}

#endif
