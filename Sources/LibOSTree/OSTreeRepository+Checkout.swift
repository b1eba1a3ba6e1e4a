import COSTree
import Foundation

extension OSTreeRepository {
    /// Checks `commit` out into the folder `destination` (created when
    /// missing): a layer of a union of several commits. Folders already
    /// there are kept and filled. Files get the caller's owner (user mode)
    /// and the object's permission bits, which in a `bare-user` repository
    /// never include setuid, setgid or sticky: the caller sets those, and
    /// other owners, on a copy.
    ///
    /// With `hardlinks` (the repository and the destination on one
    /// filesystem) each file is a hardlink to its object, and a file already
    /// there must be the same object (libostree's union-identical mode), else
    /// the checkout fails naming the path. Without, each file is a copy and
    /// a later layer's replaces an earlier one's.
    public func checkoutLayer(commit: String, into destination: String, hardlinks: Bool) throws {
        var options = OstreeRepoCheckoutAtOptions()
        options.mode = OSTREE_REPO_CHECKOUT_MODE_USER
        options.overwrite_mode = hardlinks ? OSTREE_REPO_CHECKOUT_OVERWRITE_UNION_IDENTICAL : OSTREE_REPO_CHECKOUT_OVERWRITE_UNION_FILES
        options.no_copy_fallback = hardlinks ? 1 : 0
        options.force_copy = hardlinks ? 0 : 1
        try gcall("ostree_repo_checkout_at") {
            ostree_repo_checkout_at(raw, &options, AT_FDCWD, destination, commit, nil, $0)
        }
    }
}

extension OSTreeRepository {
    /// Stops libostree syncing the filesystem when a transaction commits: for
    /// a caller that syncs once itself (`syncFilesystem`) before committing
    /// many transactions.
    public func disableFsync() {
        ostree_repo_set_disable_fsync(raw, 1)
    }

    /// Flushes everything written to the repository's filesystem (syncfs).
    public func syncFilesystem() throws {
        guard treeforge_syncfs(directoryFD) == 0 else {
            throw OSTreeError(function: "syncfs", message: "cannot sync \(path): \(String(cString: strerror(errno)))")
        }
    }
}
