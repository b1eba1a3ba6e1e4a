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
    let deltaGracePeriod: TimeInterval
    let fileIO = FileIO()
    /// The repository's real path, symlinks resolved, once.
    let root: String
    /// Files up to this size are read in one `pread` (from the page cache,
    /// microseconds); larger ones stream through NIO's thread pool.
    static let wholeReadLimit = 1 << 20

    init(repo: URL, traffic: RepositoryTraffic, deltaGracePeriod: TimeInterval = RetiredDeltas.defaultGracePeriod) {
        self.repo = repo
        self.traffic = traffic
        self.deltaGracePeriod = deltaGracePeriod
        root = (repo.path as NSString).resolvingSymlinksInPath
    }

    /// The file that `path` (below `/repo/`, raw from the request line) names.
    func locate(_ rawPath: Substring) throws -> (path: String, info: FileInfo) {
        let components = rawPath.split(separator: "/", omittingEmptySubsequences: false)
        var decoded: [String] = []
        for component in components {
            let raw = String(component)
            guard let text = raw.contains("%") ? raw.removingPercentEncoding : raw, !text.isEmpty, text != ".", text != "..",
                  !text.hasPrefix("."), !text.contains("/"), !text.contains("\0") else {
                throw APIError.notFound("no such file in the repository")
            }
            decoded.append(text)
        }
        // ostree's own scratch space, never for clients.
        guard let first = decoded.first, first != "tmp" else { throw APIError.notFound("no such file in the repository") }
        let candidate = root + "/" + decoded.joined(separator: "/")
        guard let real = Self.realPath(candidate) ?? retiredDelta(decoded), real.hasPrefix(root + "/") else {
            throw APIError.notFound("no such file in the repository")
        }
        // Where a symlink inside the repository leads is held to the same rules (a `bare` repository
        // stores real symlinks); a retired delta is the one way into `.treeforge/`.
        let inside = real.dropFirst(root.count + 1).split(separator: "/")
        let retired = inside.starts(with: [".treeforge", "retired-deltas"]) && candidate != real && decoded.first == "deltas"
        guard retired || (!inside.contains { $0.hasPrefix(".") } && inside.first != "tmp") else {
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
              let file = RetiredDeltas(repo: URL(fileURLWithPath: root))
                .file(forDeltaPath: components.dropFirst().joined(separator: "/"), gracePeriod: deltaGracePeriod) else { return nil }
        return Self.realPath(file.path)
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    func respond(_ request: Request, context: ServerContext, rawPath: Substring) async throws -> Response {
        let server = self
        let raw = String(rawPath)
        // Path checks and small reads block (realpath, stat, pread): on threads of their own.
        let (path, info) = try await Blocking.run { try server.locate(Substring(raw)) }
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
        if length <= Self.wholeReadLimit, let bytes = try await Blocking.run({ Self.read(path, range) }) {
            return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: bytes))
        }
        let body = try await fileIO.loadFile(path: path, range: range, context: context)
        return Response(status: status, headers: headers, body: body)
    }

    /// The bytes of `range` of a small file; nil when it cannot be read whole
    /// (then it streams, and says why if it fails).
    private static func read(_ path: String, _ range: ClosedRange<Int>) -> ByteBuffer? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = ByteBufferAllocator().buffer(capacity: range.count)
        let read = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: range.count) { target in
            var done = 0
            while done < range.count {
                let count = pread(fd, target.baseAddress! + done, range.count - done, off_t(range.lowerBound + done))
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                done += count
            }
            return done
        }
        return read == range.count ? buffer : nil
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

    /// RFC 9110's IMF-fixdate, through the C library (a DateFormatter per
    /// request cost more than reading the file).
    static func httpDate(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var text = [CChar](repeating: 0, count: 64)
        let count = strftime(&text, text.count, "%a, %d %b %Y %H:%M:%S GMT", &parts)
        return String(decoding: text.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form clients send back.
    static func parseHTTPDate(_ text: String) -> Date? {
        let fields = text.split(separator: " ")
        guard fields.count == 6, fields[5] == "GMT", let day = Int(fields[1]), let month = months.firstIndex(of: String(fields[2])),
              let year = Int(fields[3]) else { return nil }
        let time = fields[4].split(separator: ":").compactMap { Int($0) }
        guard time.count == 3 else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(time[0])
        parts.tm_min = Int32(time[1])
        parts.tm_sec = Int32(time[2])
        return Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))
    }
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
