import Foundation
import Hummingbird
import NIOCore
import TreeforgeCore

/// The OSTree repository, read-only, at `/repo/`, for `ostree pull` and
/// mirrors: files only (no listings), with ETag and Last-Modified, HEAD,
/// conditional requests and single byte ranges (libcurl resumes with them).
/// Nothing outside the repository is served: each path component is
/// percent-decoded and checked (no `..`, `.`, empty, NUL, or dot-files such
/// as `.lock` and treeforge's `.treeforge/`), and the file's real path,
/// symlinks resolved, must lie inside the repository's real path.
struct RepositoryFileServer: Sendable {
    let repo: URL
    let traffic: RepositoryTraffic
    /// Deltas pruned out of the summary are served this long after.
    var deltaGracePeriod = RetiredDeltas.defaultGracePeriod
    let fileIO = FileIO()

    /// The file that `path` (below `/repo/`, raw from the request line) names.
    func locate(_ rawPath: Substring) throws -> (path: String, info: FileInfo) {
        let components = rawPath.split(separator: "/", omittingEmptySubsequences: false)
        var decoded: [String] = []
        for component in components {
            guard let text = String(component).removingPercentEncoding, !text.isEmpty, text != ".", text != "..",
                  !text.hasPrefix("."), !text.contains("/"), !text.contains("\0") else {
                throw APIError.notFound("no such file in the repository")
            }
            decoded.append(text)
        }
        // ostree's own scratch space, never for clients.
        guard let first = decoded.first, first != "tmp" else { throw APIError.notFound("no such file in the repository") }
        let root = (repo.path as NSString).resolvingSymlinksInPath
        let candidate = root + "/" + decoded.joined(separator: "/")
        guard let real = Self.realPath(candidate) ?? retiredDelta(decoded), real.hasPrefix(root + "/") else {
            throw APIError.notFound("no such file in the repository")
        }
        var stats = stat()
        guard stat(real, &stats) == 0, (stats.st_mode & S_IFMT) == S_IFREG else {
            throw APIError.notFound("no such file in the repository")
        }
        let modified = Date(timeIntervalSince1970: TimeInterval(stats.st_mtim.tv_sec) + TimeInterval(stats.st_mtim.tv_nsec) / 1e9)
        return (real, FileInfo(size: Int(stats.st_size), modified: modified, inode: UInt64(stats.st_ino)))
    }

    struct FileInfo: Sendable {
        var size: Int
        var modified: Date
        var inode: UInt64

        /// Changes whenever the file is replaced (ostree writes by rename) or rewritten.
        var etag: String {
            let nanoseconds = UInt64(modified.timeIntervalSince1970 * 1e9)
            return "\"\(String(inode, radix: 16))-\(String(size, radix: 16))-\(String(nanoseconds, radix: 16))\""
        }
    }

    /// A delta `treeforge prune` retired, within its grace period.
    private func retiredDelta(_ components: [String]) -> String? {
        guard components.count == 4, components[0] == "deltas",
              let file = RetiredDeltas(repo: URL(fileURLWithPath: (repo.path as NSString).resolvingSymlinksInPath))
                .file(forDeltaPath: components.dropFirst().joined(separator: "/"), gracePeriod: deltaGracePeriod) else { return nil }
        return Self.realPath(file.path)
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    func respond(_ request: Request, context: ServerContext, rawPath: Substring) async throws -> Response {
        let (path, info) = try locate(rawPath)
        var headers: HTTPFields = [
            .contentType: Self.contentType(path),
            .eTag: info.etag,
            .lastModified: Self.httpDate(info.modified),
            .acceptRanges: "bytes",
            // Objects and deltas are named by their content; refs and the summary change.
            .cacheControl: Self.isImmutable(path) ? "public, max-age=31536000, immutable" : "no-cache",
        ]
        if let tags = request.headers[.ifNoneMatch] {
            if tags.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == info.etag || $0.trimmingCharacters(in: .whitespaces) == "*" }) {
                traffic.record(bytes: 0)
                return Response(status: .notModified, headers: headers)
            }
        } else if let since = request.headers[.ifModifiedSince].flatMap(Self.parseHTTPDate),
                  Int(info.modified.timeIntervalSince1970) <= Int(since.timeIntervalSince1970) {
            traffic.record(bytes: 0)
            return Response(status: .notModified, headers: headers)
        }
        var range = info.size > 0 ? 0...(info.size - 1) : nil
        var status = HTTPResponse.Status.ok
        if let header = request.headers[.range], request.headers[.ifRange].map({ $0 == info.etag }) ?? true {
            guard let requested = Self.parseRange(header, size: info.size) else {
                headers[.contentRange] = "bytes */\(info.size)"
                throw RangeNotSatisfiable(size: info.size)
            }
            range = requested
            status = .partialContent
            headers[.contentRange] = "bytes \(requested.lowerBound)-\(requested.upperBound)/\(info.size)"
        }
        let length = range.map { $0.count } ?? 0
        headers[.contentLength] = String(length)
        traffic.record(bytes: request.method == .head ? 0 : length)
        guard request.method != .head, let range else { return Response(status: status, headers: headers) }
        let body = try await fileIO.loadFile(path: path, range: range, context: context)
        return Response(status: status, headers: headers, body: body)
    }

    /// One range, `bytes=a-b`, `bytes=a-` or `bytes=-n`; nil when it is not
    /// satisfiable or not one range.
    static func parseRange(_ header: String, size: Int) -> ClosedRange<Int>? {
        guard header.hasPrefix("bytes="), size > 0 else { return nil }
        let spec = header.dropFirst("bytes=".count).trimmingCharacters(in: .whitespaces)
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return nil }
        let first = spec[..<dash], last = spec[spec.index(after: dash)...]
        if first.isEmpty {
            guard let count = Int(last), count > 0 else { return nil }
            return max(0, size - count)...(size - 1)
        }
        guard let start = Int(first), start >= 0, start < size else { return nil }
        if last.isEmpty { return start...(size - 1) }
        guard let end = Int(last), end >= start else { return nil }
        return start...min(end, size - 1)
    }

    static func contentType(_ path: String) -> String {
        let name = (path as NSString).lastPathComponent
        if name == "config" { return "text/plain; charset=utf-8" }
        if path.contains("/refs/") { return "text/plain; charset=utf-8" }
        return "application/octet-stream"
    }

    static func isImmutable(_ path: String) -> Bool {
        path.contains("/objects/") || path.contains("/deltas/")
    }

    private static let dateFormat: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter
    }()
    private static let dateLock = NSLock()

    static func httpDate(_ date: Date) -> String { dateLock.withLock { dateFormat.string(from: date) } }
    static func parseHTTPDate(_ text: String) -> Date? { dateLock.withLock { dateFormat.date(from: text) } }
}

/// 416 with the size, as RFC 9110 asks.
struct RangeNotSatisfiable: HTTPResponseError {
    let size: Int
    var status: HTTPResponse.Status { .rangeNotSatisfiable }
    func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: status, headers: [.contentRange: "bytes */\(size)", .contentLength: "0"])
    }
}

/// Requests and bytes served under `/repo/`, for `/metrics`.
final class RepositoryTraffic: @unchecked Sendable {
    private let lock = NSLock()
    private var requests = 0
    private var bytes = 0

    func record(bytes count: Int) {
        lock.withLock {
            requests += 1
            bytes += count
        }
    }

    var totals: (requests: Int, bytes: Int) { lock.withLock { (requests, bytes) } }
}
