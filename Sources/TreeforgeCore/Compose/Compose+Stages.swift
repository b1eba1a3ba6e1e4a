import Foundation
import LibOSTree

/// Each stage configured from the request, the environment and the publish
/// policy: the one place that maps what was asked for onto the stages.
extension Compose {
    func loader() -> TreefileLoader {
        TreefileLoader(basearch: request.basearch, variables: request.variables)
    }

    func resolver() throws -> Resolver {
        var resolver = Resolver(basearch: request.basearch, access: environment.access)
        if !request.lockfiles.isEmpty {
            resolver.lockfile = try Lockfile.load(request.lockfileURLs)
            resolver.lockfileStrict = request.lockfileStrict
        }
        return resolver
    }

    func fetcher() -> PackageFetcher {
        PackageFetcher(access: environment.access)
    }

    func installer(_ plan: ComposePlan, workdir: URL) -> Installer {
        var installer = Installer(helperExecutable: environment.helperExecutable, workdir: workdir)
        installer.documentation = plan.treefile.config.documentation
        installer.installLanguages = plan.treefile.config.installLangs
        installer.ignoreDevices = plan.treefile.config.ignoreDevices
        installer.removeFromPackages = plan.treefile.config.removeFromPackages
        installer.sandboxMode = environment.sandbox
        installer.scriptletTimeout = environment.scriptletTimeout
        installer.sourceDateEpoch = Installer.sourceDateEpoch(startedAt: startedAt)
        installer.packageCache = environment.packageCache ? environment.cachedir.map(PackageCache.init(cachedir:)) : nil
        return installer
    }

    func postprocess(_ plan: ComposePlan, previous: PreviousCommit?, version: String, workdir: URL,
                     sourceDateEpoch: Int) throws -> Postprocess {
        var shaping = TreeShaping(treefile: plan.treefile, version: version,
                                  scriptLog: workdir.appendingPathComponent("postprocess.log"), events: events)
        if let folder = scriptFolder(plan.treefile) {
            shaping.confinement = try environment.sandbox.resolve(sourceDateEpoch: sourceDateEpoch)
            shaping.scriptFolder = folder
        }
        shaping.scriptTimeout = environment.scriptletTimeout
        shaping.sourceDateEpoch = sourceDateEpoch
        shaping.cancellation = context.cancellation
        var postprocess = Postprocess(treefile: plan.treefile, previous: previous)
        postprocess.shaping = shaping
        postprocess.kernel = KernelProcessing(
            confinement: try environment.sandbox.resolve(sourceDateEpoch: sourceDateEpoch), timeout: environment.scriptletTimeout,
            sourceDateEpoch: sourceDateEpoch, cache: environment.cachedir.map { InitramfsCache(folder: $0.appendingPathComponent("initramfs")) },
            logFile: shaping.scriptLog, events: events, cancellation: context.cancellation)
        return postprocess
    }

    func committer(_ repository: OSTreeRepository, version: String?) -> Committer {
        var committer = Committer(repository: repository, version: version ?? request.version)
        committer.moveRef = request.outputs.commitID == nil
        committer.addedMetadata = request.addMetadata
        committer.previousVersion = request.previousVersion
        committer.parentChoice = request.parent
        committer.gpgKey = policy.gpgKey
        committer.writer = environment.commitWriter
        committer.threads = environment.commitThreads
        return committer
    }

    /// The treefile's folder as its postprocess scripts see it (nil without
    /// scripts): what they can read is an input, the compose's own output
    /// folders are not.
    func scriptFolder(_ treefile: Treefile) -> TreefileFolder? {
        guard !treefile.config.postprocess.isEmpty || treefile.config.postprocessScript != nil else { return nil }
        return TreefileFolder(treefile.directory, excluding: [environment.repo, environment.workdir, environment.cachedir].compactMap { $0 })
    }
}
