import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TestSupport

/// A real `treeforge serve` (the executable, as a child process) on a
/// loopback port of its choosing, over a temporary repository and treefiles
/// folder, with a tokens file; and a client that talks to it as scripts do.
final class ServerHarness: @unchecked Sendable {
    let dir: TemporaryDirectory
    let repo: URL
    let treefiles: URL
    let tokensFile: URL
    let ref = "fixture/x86_64/test"
    private(set) var process: Process?
    private(set) var base: URL?
    private let output = LockedText()

    /// Tokens by name: their secrets.
    static let secrets = ["admin": "secret-admin", "nightly": "secret-nightly", "reader": "secret-reader",
                          "elsewhere": "secret-elsewhere", "revoked": "secret-revoked"]

    init(_ label: String) throws {
        dir = try TemporaryDirectory(label)
        repo = dir.path("repo")
        treefiles = dir.path("treefiles")
        tokensFile = dir.path("tokens.yaml")
        try writeTokens()
        // The fixture treefile, at `fixture/treefile.yaml` under the treefiles folder.
        try FixtureTreefile.write(packages: ["fixture-oldtool"], ref: ref, repository: try Fixtures.repository(),
                                  in: treefiles.appendingPathComponent("fixture"))
    }

    static func digest(_ secret: String) throws -> String {
        String(try Command.check(["sh", "-c", "printf %s '\(secret)' | sha256sum"]).prefix(64))
    }

    func writeTokens(extra: String = "") throws {
        let h = { (name: String) in try Self.digest(Self.secrets[name]!) }
        try """
            tokens:
              - name: admin
                sha256: "\(h("admin"))"
                scopes: [admin]
              - name: nightly
                sha256: "\(h("nightly"))"
                scopes: [submit, cancel, schedule]
                refs: ["fixture/"]
              - name: reader
                sha256: "\(h("reader"))"
                scopes: []
              - name: elsewhere
                sha256: "\(h("elsewhere"))"
                scopes: [submit, cancel, schedule]
                refs: ["fedora/"]
              - name: revoked
                sha256: "\(h("revoked"))"
                scopes: [admin]
                revoked: true
            \(extra)
            """.write(to: tokensFile, atomically: true, encoding: .utf8)
    }

    /// A treefile of its own under the treefiles folder, by name.
    @discardableResult
    func treefile(_ name: String, packages: [String] = ["fixture-oldtool"], ref: String? = nil, extra: String = "") throws -> String {
        try FixtureTreefile.write(packages: packages, ref: ref ?? self.ref, repository: try Fixtures.repository(), extra: extra,
                                  in: treefiles.appendingPathComponent(name))
        return "\(name)/treefile.yaml"
    }

    /// Starts the server and waits until it listens.
    func start(_ arguments: [String] = [], environment: [String: String] = [:]) throws {
        let process = Process()
        process.executableURL = Fixtures.treeforgeExecutable
        process.arguments = ["serve", "--listen", "127.0.0.1:0", "--repo", repo.path, "--treefiles", treefiles.path,
                             "--tokens", tokensFile.path, "--workdir", dir.path("work").path] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let stderr = Pipe()
        process.standardError = stderr
        process.standardOutput = stderr
        let output = self.output
        output.reset()
        // A thread of its own reads until the server's end closes the pipe.
        // (Not readabilityHandler: its dispatch source can outlive the
        // descriptor, which another test's pipe then reuses, and crash
        // libdispatch's event loop.)
        let reader = stderr.fileHandleForReading
        try process.run()
        Thread.detachNewThread {
            while true {
                let data = reader.availableData
                if data.isEmpty { break }
                output.append(String(decoding: data, as: UTF8.self))
            }
        }
        self.process = process
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let range = output.text.range(of: #"listening on (http://127\.0\.0\.1:[0-9]+/)"#, options: .regularExpression) {
                let line = String(output.text[range])
                base = URL(string: String(line.dropFirst("listening on ".count)))
                return
            }
            guard process.isRunning else { throw FixtureError("treeforge serve ended (\(process.terminationStatus)): \(output.text)") }
            usleep(20_000)
        }
        throw FixtureError("treeforge serve did not listen within 30 s: \(output.text)")
    }

    var log: String { output.text }

    /// Stops the server with `signal` and waits for it to end; its exit status.
    @discardableResult
    func stop(_ signal: Int32 = SIGTERM, timeout: TimeInterval = 90) throws -> Int32 {
        guard let process else { return 0 }
        kill(process.processIdentifier, signal)
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        guard !process.isRunning else {
            kill(process.processIdentifier, SIGKILL)
            throw FixtureError("treeforge serve did not end within \(Int(timeout)) s of signal \(signal): \(log)")
        }
        self.process = nil
        return process.terminationStatus
    }

    deinit {
        if let process, process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    // MARK: The client

    struct Reply {
        let status: Int
        let headers: [String: String]
        let body: Data

        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        var text: String { String(decoding: body, as: UTF8.self) }
        var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
        func header(_ name: String) -> String? { headers.first { $0.key.lowercased() == name.lowercased() }?.value }
    }

    func request(_ method: String, _ path: String, token: String? = nil, json: Any? = nil, body: Data? = nil,
                 headers: [String: String] = [:]) throws -> Reply {
        let base = try #require(base)
        var request = URLRequest(url: URL(string: path, relativeTo: base)!)
        request.httpMethod = method
        if let token { request.setValue("Bearer \(Self.secrets[token] ?? token)", forHTTPHeaderField: "Authorization") }
        if let json {
            request.httpBody = try JSONSerialization.data(withJSONObject: json)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        if let body { request.httpBody = body }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        // Blocking, on URLSession's own threads: a test waiting here never
        // depends on Swift's cooperative pool, which other suites' blocking
        // tests may hold for minutes.
        let done = DispatchSemaphore(value: 0)
        let outcome = LockedBox<(Data?, URLResponse?, (any Error)?)>((nil, nil, nil))
        URLSession.shared.dataTask(with: request) { data, response, error in
            outcome.value = (data, response, error)
            done.signal()
        }.resume()
        done.wait()
        let (data, response, error) = outcome.value
        if let error { throw error }
        let http = try #require(response as? HTTPURLResponse)
        var fields: [String: String] = [:]
        for (key, value) in http.allHeaderFields { fields["\(key)"] = "\(value)" }
        return Reply(status: http.statusCode, headers: fields, body: data ?? Data())
    }

    func get(_ path: String) throws -> Reply { try request("GET", path) }

    /// Queues a compose and returns its build id.
    func submit(_ treefile: String = "fixture/treefile.yaml", token: String = "nightly", force: Bool = false,
                key: String? = nil) throws -> Int {
        let reply = try request("POST", "/api/v1/composes", token: token, json: ["treefile": treefile, "force": force],
                                      headers: key.map { ["Idempotency-Key": $0] } ?? [:])
        guard reply.status == 202, let id = reply.json["id"] as? Int else {
            throw FixtureError("POST /api/v1/composes: \(reply.status) \(reply.text)")
        }
        return id
    }

    func build(_ id: Int) throws -> [String: Any] { try get("/api/v1/builds/\(id)").json }

    /// Waits until the build's status is one of `statuses`; returns the build.
    @discardableResult
    func waitFor(_ id: Int, _ statuses: Set<String>, timeout: TimeInterval = 120) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(timeout)
        var last: [String: Any] = [:]
        while Date() < deadline {
            last = try build(id)
            if let status = last["status"] as? String, statuses.contains(status) { return last }
            usleep(100_000)
        }
        throw FixtureError("build #\(id) is still \(last["status"] ?? "?") after \(Int(timeout)) s (waiting for \(statuses.sorted())): \(last)\n\(log)")
    }

    /// Waits until `condition` holds (checked every 100 ms).
    func waitUntil(_ what: String, timeout: TimeInterval = 60, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return }
            usleep(100_000)
        }
        throw FixtureError("timed out after \(Int(timeout)) s waiting for \(what)\n\(log)")
    }

    /// Rows of the build database, through the sqlite3 CLI (an independent reader).
    func sql(_ query: String) throws -> [String] {
        try Command.check(["sqlite3", "-separator", "|", dir.path("repo.builds.sqlite").path, query])
            .split(separator: "\n").map(String.init)
    }
}

final class LockedBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}

final class LockedText: @unchecked Sendable {
    private let lock = NSLock()
    private var value = ""
    func append(_ text: String) { lock.withLock { value += text } }
    func reset() { lock.withLock { value = "" } }
    var text: String { lock.withLock { value } }
}

extension ServerHarness {
    /// One request written byte for byte (no client normalizes its path):
    /// the status code of the answer.
    func rawStatus(_ requestLine: String) throws -> Int {
        let parts = requestLine.split(separator: " ", maxSplits: 1)
        return try raw(String(parts[0]), String(parts[1])).status
    }
}

/// A TCP connection to a loopback port, its receive timeout set.
func connectLoopback(port: Int, timeout seconds: Int) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw FixtureError("socket: \(errno)") }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else {
        close(fd)
        throw FixtureError("connect to 127.0.0.1:\(port): \(errno)")
    }
    var timeout = timeval(tv_sec: seconds, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    return fd
}

extension ServerHarness {
    /// One request on a connection of its own, nothing followed (no
    /// redirects, no cookie jar): what a browser's form post gets back.
    func raw(_ method: String, _ path: String, headers: [String: String] = [:], body: String = "") throws -> Reply {
        let base = try #require(base)
        let fd = try connectLoopback(port: base.port ?? 0, timeout: 10)
        defer { close(fd) }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(base.port ?? 0)\r\nConnection: close\r\nContent-Length: \(body.utf8.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        let message = head + "\r\n" + body
        _ = message.withCString { send(fd, $0, strlen($0), 0) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            data.append(contentsOf: buffer[0..<count])
        }
        let text = String(decoding: data, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw FixtureError("no answer to \(method) \(path): \(text)") }
        let lines = text[..<split.lowerBound].split(separator: "\r\n")
        let status = Int(lines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
        var fields: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return Reply(status: status, headers: fields, body: Data(text[split.upperBound...].utf8))
    }

    /// Signs in on the pages with a token; the session cookie (`name=value`).
    func signIn(_ token: String) throws -> String {
        let secret = Self.secrets[token] ?? token
        let reply = try raw("POST", "/signin", headers: ["Content-Type": "application/x-www-form-urlencoded"],
                            body: "token=\(secret)&next=%2F")
        guard reply.status == 303, let cookie = reply.header("Set-Cookie")?.split(separator: ";").first else {
            throw FixtureError("sign-in as \(token): \(reply.status) \(reply.text)")
        }
        return String(cookie)
    }

    /// The CSRF token a page's forms carry for this session.
    func csrf(_ path: String, cookie: String) throws -> String {
        let page = try raw("GET", path, headers: ["Cookie": cookie]).text
        guard let range = page.range(of: #"name="csrf" value="([0-9a-f]+)""#, options: .regularExpression) else {
            throw FixtureError("no CSRF token on \(path): \(page)")
        }
        return String(page[range].split(separator: "\"")[3])
    }
}
