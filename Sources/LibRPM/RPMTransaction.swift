import CRpm
import Foundation

/// What librpm reports while a transaction runs.
public enum RPMTransactionEvent: Sendable {
    case installing(package: String, index: Int, total: Int)
    case scriptletStarted(package: String, scriptlet: String)
    /// The scriptlet returned (successfully or not: a failure follows as `scriptletFailed`).
    case scriptletFinished(package: String, scriptlet: String)
    /// librpm reports the scriptlet, not its exit status: that is in its log line.
    case scriptletFailed(package: String, scriptlet: String)
    case unpackFailed(package: String)
}

/// An rpm install transaction into a root directory.
///
/// `run` chroots the calling process into the root for parts of its work and
/// librpm keeps process-wide state: use this only in a process of its own,
/// one transaction at a time, as root.
public final class RPMTransaction {
    private let ts: OpaquePointer
    var handle: OpaquePointer { ts }
    public let root: String
    private var keys: [UnsafeMutablePointer<CChar>] = []
    private var nevras: [String: String] = [:]

    public init(root: String) throws {
        ts = rpmtsCreate()
        self.root = root
        guard rpmtsSetRootDir(ts, root) == 0 else {
            rpmtsFree(ts)
            throw RPMError(function: "rpmtsSetRootDir", message: "invalid root directory \(root)")
        }
        // Digests are always checked. Signatures are a per-repository policy
        // (gpgcheck, with that repository's keys only), checked before a
        // package is added (`RPMKeyring.verify`), not against one keyring
        // for the whole transaction.
        _ = rpmtsSetVSFlags(ts, CRPM_VSF_MASK_NOSIGNATURES)
    }

    deinit {
        rpmtsFree(ts)
        keys.forEach { free($0) }
    }

    /// Where scriptlets' stdout and stderr go (librpm's script fd): stderr
    /// unless the caller captures them.
    public var scriptOutputDescriptor: Int32 = STDERR_FILENO

    /// Leave out files marked %doc (rpm's --excludedocs).
    public var excludeDocumentation = false {
        didSet {
            let flags = rpmtsFlags(ts)
            let nodocs = rpmtransFlags(RPMTRANS_FLAG_NODOCS.rawValue)
            _ = rpmtsSetFlags(ts, excludeDocumentation ? flags | nodocs : flags & ~nodocs)
        }
    }

    /// Write the rpmdb only (rpm's --justdb): the files are in the root
    /// already. librpm then runs no scriptlet and no trigger either.
    public var databaseOnly = false {
        didSet {
            let flags = rpmtsFlags(ts)
            let justdb = rpmtransFlags(RPMTRANS_FLAG_JUSTDB.rawValue)
            _ = rpmtsSetFlags(ts, databaseOnly ? flags | justdb : flags & ~justdb)
        }
    }

    /// Creates an empty rpmdb in the root.
    public func initializeDatabase() throws {
        guard rpmtsInitDB(ts, 0o644) == 0 else {
            throw RPMError.fromLog("rpmtsInitDB", fallback: "cannot create the rpm database in \(root)")
        }
    }

    /// Reads the package's header (verifying its digests) and adds it to the
    /// transaction. Returns its NEVRA.
    @discardableResult
    public func addInstall(path: String) throws -> String {
        guard let fd = Fopen(path, "r.ufdio"), Ferror(fd) == 0 else {
            throw RPMError(function: "Fopen", package: path, message: "cannot open the package file")
        }
        defer { Fclose(fd) }
        var header: Header?
        let rc = rpmReadPackageFile(ts, fd, path, &header)
        guard rc == RPMRC_OK, let header else {
            header.map { _ = headerFree($0) }
            throw RPMError.fromLog("rpmReadPackageFile", package: path,
                                   fallback: "the package header is unreadable or its digest does not match")
        }
        defer { headerFree(header) }
        let nevra = Self.nevra(of: header)
        let key = strdup(path)!
        keys.append(key)
        nevras[path] = nevra
        guard rpmtsAddInstallElement(ts, header, UnsafeRawPointer(key), 1, nil) == 0 else {
            throw RPMError.fromLog("rpmtsAddInstallElement", package: nevra, fallback: "cannot add the package")
        }
        return nevra
    }

    /// Dependency check and ordering. Returns librpm's problems; with
    /// `ignoringDependencies` (a part of a set, whose dependencies the rest
    /// satisfies) only orders, as rpm's --nodeps.
    public func checkAndOrder(ignoringDependencies: Bool = false) throws -> [RPMProblem] {
        if !ignoringDependencies {
            _ = rpmtsCheck(ts)
            let problems = takeProblems()
            if !problems.isEmpty { return problems }
        }
        guard rpmtsOrder(ts) == 0 else {
            throw RPMError.fromLog("rpmtsOrder", fallback: "cannot order the transaction (dependency loop)")
        }
        return []
    }

    /// The package files in the transaction's order (after `checkAndOrder`).
    public func orderedPaths() -> [String] {
        guard let iterator = rpmtsiInit(ts) else { return [] }
        defer { rpmtsiFree(iterator) }
        var paths: [String] = []
        while let element = rpmtsiNext(iterator, rpmElementTypes(0)) {
            if let key = rpmteKey(element) { paths.append(String(cString: key.assumingMemoryBound(to: CChar.self))) }
        }
        return paths
    }

    /// Runs the transaction: unpacks every package and runs its scriptlets.
    /// Returns librpm's problems (empty on success).
    public func run(onEvent: @escaping (RPMTransactionEvent) -> Void) throws -> [RPMProblem] {
        let context = CallbackContext(nevras: nevras, total: nevras.count, onEvent: onEvent)
        let unmanaged = Unmanaged.passRetained(context)
        defer { unmanaged.release() }
        rpmtsSetNotifyCallback(ts, rpmNotify, unmanaged.toOpaque())
        let scriptFd = fdDup(scriptOutputDescriptor)
        rpmtsSetScriptFd(ts, scriptFd)
        defer { rpmtsSetScriptFd(ts, nil); Fclose(scriptFd) }
        let rc = rpmtsRun(ts, nil, rpmprobFilterFlags(0))
        var problems = takeProblems()
        if rc != 0 && problems.isEmpty && context.failures.isEmpty {
            let message = RPMError.fromLog("rpmtsRun", fallback: "the transaction failed (rpmtsRun returned \(rc))").message
            problems.append(RPMProblem(package: nil, message: message))
        }
        return problems
    }

    private func takeProblems() -> [RPMProblem] {
        guard let set = rpmtsProblems(ts) else { return [] }
        defer { rpmpsFree(set) }
        var lines: [RPMProblem] = []
        let iterator = rpmpsInitIterator(set)
        while let problem = rpmpsiNext(iterator) {
            if let text = rpmProblemString(problem) {
                let package = rpmProblemGetPkgNEVR(problem).map { String(cString: $0) }
                lines.append(RPMProblem(package: package, message: String(cString: text)))
                free(text)
            }
        }
        rpmpsFreeIterator(iterator)
        return lines
    }

    static func nevra(of header: Header) -> String {
        guard let text = headerGetAsString(header, rpmTagVal(RPMTAG_NEVRA.rawValue)) else { return "?" }
        defer { free(text) }
        return String(cString: text)
    }
}

/// One problem librpm found with a transaction, and the package it concerns.
public struct RPMProblem: Sendable, Equatable {
    public let package: String?
    public let message: String
}

/// State shared with the C callback through its `data` pointer.
final class CallbackContext {
    let nevras: [String: String]
    let total: Int
    let onEvent: (RPMTransactionEvent) -> Void
    var openFiles: [String: FD_t] = [:]
    var started = 0
    var failures: [String] = []

    init(nevras: [String: String], total: Int, onEvent: @escaping (RPMTransactionEvent) -> Void) {
        self.nevras = nevras
        self.total = total
        self.onEvent = onEvent
    }

    func package(key: UnsafeRawPointer?, header: UnsafeRawPointer?) -> String {
        if let key, let nevra = nevras[String(cString: key.assumingMemoryBound(to: CChar.self))] {
            return nevra
        }
        if let header { return RPMTransaction.nevra(of: OpaquePointer(header)) }
        return "?"
    }
}

private func scriptletName(_ tag: rpm_loff_t) -> String {
    guard let name = rpmTagGetName(rpmTagVal(tag)) else { return "scriptlet" }
    // RPMTAG_POSTIN → %post, as rpm's own messages name them.
    switch String(cString: name).lowercased() {
    case "prein": return "%pre"
    case "postin": return "%post"
    case "preun": return "%preun"
    case "postun": return "%postun"
    case "pretrans": return "%pretrans"
    case "posttrans": return "%posttrans"
    case "triggerin", "triggerscripts": return "%triggerin"
    case let other: return "%" + other
    }
}

private let rpmNotify: rpmCallbackFunction = { header, what, amount, total, key, data in
    let context = Unmanaged<CallbackContext>.fromOpaque(data!).takeUnretainedValue()
    switch what {
    case RPMCALLBACK_INST_OPEN_FILE:
        guard let key else { return nil }
        let path = String(cString: key.assumingMemoryBound(to: CChar.self))
        let fd = Fopen(path, "r.ufdio")
        context.openFiles[path] = fd
        return fd.map { UnsafeMutableRawPointer($0) }
    case RPMCALLBACK_INST_CLOSE_FILE:
        if let key, let fd = context.openFiles.removeValue(forKey: String(cString: key.assumingMemoryBound(to: CChar.self))) {
            Fclose(fd)
        }
    case RPMCALLBACK_INST_START:
        context.started += 1
        context.onEvent(.installing(package: context.package(key: key, header: header), index: context.started, total: context.total))
    case RPMCALLBACK_SCRIPT_START:
        context.onEvent(.scriptletStarted(package: context.package(key: key, header: header), scriptlet: scriptletName(amount)))
    case RPMCALLBACK_SCRIPT_STOP:
        context.onEvent(.scriptletFinished(package: context.package(key: key, header: header), scriptlet: scriptletName(amount)))
    case RPMCALLBACK_SCRIPT_ERROR:
        let package = context.package(key: key, header: header)
        context.failures.append(package)
        context.onEvent(.scriptletFailed(package: package, scriptlet: scriptletName(amount)))
    case RPMCALLBACK_UNPACK_ERROR, RPMCALLBACK_CPIO_ERROR:
        let package = context.package(key: key, header: header)
        context.failures.append(package)
        context.onEvent(.unpackFailed(package: package))
    default:
        break
    }
    return nil
}
