import Foundation
import Testing
import TestSupport

/// Headless Chromium (Debian's `chromium`) driven over the DevTools
/// protocol on a pipe (`--remote-debugging-pipe`: the browser reads
/// NUL-terminated JSON commands on fd 3 and writes replies and events on
/// fd 4), so that a page test loads the server's real pages, runs their
/// script, and sees what a release engineer would: no WebSocket client, no
/// driver to install.
final class Browser: @unchecked Sendable {
    static let executable = "/usr/bin/chromium"
    static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: executable) }

    private let pid: pid_t
    private let commands: Int32
    private let replies: Int32
    private let profile: TemporaryDirectory
    private let inbox = Inbox()
    private let nextID = LockedCounter()

    /// What the browser sent: answers by command id, events in order. The
    /// reading thread holds this, not the browser, so that dropping the
    /// browser closes its pipe and ends the thread.
    private final class Inbox: @unchecked Sendable {
        let state = NSCondition()
        var answered: [Int: [String: Any]] = [:]
        var events: [[String: Any]] = []
        var ended = false

        func read(from descriptor: Int32) {
            var pending = Data()
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let count = Glibc.read(descriptor, &buffer, buffer.count)
                if count < 0, errno == EINTR { continue }
                guard count > 0 else { break }
                pending.append(contentsOf: buffer[0..<count])
                while let end = pending.firstIndex(of: 0) {
                    let message = pending[pending.startIndex..<end]
                    pending = Data(pending[(end + 1)...])
                    guard let object = try? JSONSerialization.jsonObject(with: message) as? [String: Any] else { continue }
                    state.lock()
                    if let id = object["id"] as? Int { answered[id] = object } else { events.append(object) }
                    state.broadcast()
                    state.unlock()
                }
            }
            state.lock()
            ended = true
            state.broadcast()
            state.unlock()
        }
    }

    private final class LockedCounter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func next() -> Int { lock.withLock { value += 1; return value } }
    }

    init() throws {
        profile = try TemporaryDirectory("chromium-profile")
        // The browser's ends, placed on high descriptors first so that the
        // dup2 onto 3 and 4 never lands on one of them.
        var toBrowser: [Int32] = [0, 0], fromBrowser: [Int32] = [0, 0]
        guard pipe(&toBrowser) == 0, pipe(&fromBrowser) == 0 else { throw FixtureError("pipe: \(errno)") }
        for descriptor in toBrowser + fromBrowser { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        let browserReads = fcntl(toBrowser[0], F_DUPFD_CLOEXEC, 100), browserWrites = fcntl(fromBrowser[1], F_DUPFD_CLOEXEC, 100)
        close(toBrowser[0]); close(fromBrowser[1])
        defer { close(browserReads); close(browserWrites) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, browserReads, 3)
        posix_spawn_file_actions_adddup2(&actions, browserWrites, 4)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, profile.path("chromium.log").path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Root needs --no-sandbox; the rest keeps a test run quiet and alone.
        let arguments = [Self.executable, "--headless=new", "--no-sandbox", "--remote-debugging-pipe",
                         "--user-data-dir=\(profile.path("data").path)", "--no-first-run", "--no-default-browser-check",
                         "--disable-gpu", "--disable-extensions", "--disable-background-networking", "--disable-sync",
                         "--disable-component-update", "--metrics-recording-only", "--mute-audio", "about:blank"]
        var argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, Self.executable, &actions, nil, &argv, environ)
        guard status == 0 else { throw FixtureError("cannot start \(Self.executable): \(String(cString: strerror(status)))") }
        pid = child
        commands = toBrowser[1]
        replies = fromBrowser[0]
        let (inbox, descriptor) = (inbox, replies)
        let reader = Thread { inbox.read(from: descriptor) }
        reader.name = "chromium devtools pipe"
        reader.start()
    }

    /// Closing the command pipe ends the browser; one that lingers past five
    /// seconds is killed.
    deinit {
        close(commands)
        var status: Int32 = 0
        let deadline = Date().addingTimeInterval(5)
        while waitpid(pid, &status, WNOHANG) == 0 {
            guard Date() < deadline else {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                break
            }
            usleep(50_000)
        }
        close(replies)
    }

    /// What the browser printed (crashes, its own errors), for a failure message.
    var log: String { (try? String(contentsOf: profile.path("chromium.log"), encoding: .utf8)) ?? "" }

    /// Sends one command and waits for its answer; the protocol's error as a thrown error.
    @discardableResult
    func send(_ method: String, _ parameters: [String: Any] = [:], session: String? = nil, timeout: TimeInterval = 30) throws -> [String: Any] {
        let id = nextID.next()
        var message: [String: Any] = ["id": id, "method": method, "params": parameters]
        if let session { message["sessionId"] = session }
        var data = try JSONSerialization.data(withJSONObject: message)
        data.append(0)
        try data.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(commands, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0, errno == EINTR { continue }
                guard written > 0 else { throw FixtureError("chromium's pipe closed (\(method)): \(log)") }
                offset += written
            }
        }
        let deadline = Date().addingTimeInterval(timeout)
        inbox.state.lock()
        defer { inbox.state.unlock() }
        while inbox.answered[id] == nil {
            guard !inbox.ended else { throw FixtureError("chromium ended during \(method): \(log)") }
            guard inbox.state.wait(until: deadline) else { throw FixtureError("chromium did not answer \(method) within \(Int(timeout)) s") }
        }
        let reply = inbox.answered.removeValue(forKey: id)!
        if let error = reply["error"] as? [String: Any] {
            throw FixtureError("\(method): \(error["message"] as? String ?? "\(error)")")
        }
        return reply["result"] as? [String: Any] ?? [:]
    }

    /// The events received so far for a page's session.
    func events(of session: String) -> [[String: Any]] {
        inbox.state.lock()
        defer { inbox.state.unlock() }
        return inbox.events.filter { $0["sessionId"] as? String == session }
    }

    /// Waits until an event `method` of `session` arrives after the first `skipping` of them.
    func waitForEvent(_ method: String, session: String, after skipping: Int, timeout: TimeInterval) throws {
        let deadline = Date().addingTimeInterval(timeout)
        inbox.state.lock()
        defer { inbox.state.unlock() }
        while inbox.events.filter({ $0["sessionId"] as? String == session && $0["method"] as? String == method }).count <= skipping {
            guard !inbox.ended else { throw FixtureError("chromium ended waiting for \(method): \(log)") }
            guard inbox.state.wait(until: deadline) else { throw FixtureError("no \(method) within \(Int(timeout)) s") }
        }
    }

    /// A new tab, its page, console and log domains on.
    func newPage() throws -> Page {
        let target = try send("Target.createTarget", ["url": "about:blank"])
        let targetID = try #require(target["targetId"] as? String)
        let attached = try send("Target.attachToTarget", ["targetId": targetID, "flatten": true])
        let session = try #require(attached["sessionId"] as? String)
        let page = Page(browser: self, session: session)
        for domain in ["Page", "Runtime", "Log"] { try page.send("\(domain).enable") }
        return page
    }

    struct Page {
        let browser: Browser
        let session: String

        @discardableResult
        func send(_ method: String, _ parameters: [String: Any] = [:]) throws -> [String: Any] {
            try browser.send(method, parameters, session: session)
        }

        private func count(_ method: String) -> Int {
            browser.events(of: session).filter { $0["method"] as? String == method }.count
        }

        /// Loads `url` and waits for its load event.
        func open(_ url: URL, timeout: TimeInterval = 30) throws {
            let loads = count("Page.loadEventFired")
            let reply = try send("Page.navigate", ["url": url.absoluteString])
            if let error = reply["errorText"] as? String { throw FixtureError("cannot open \(url): \(error)") }
            try browser.waitForEvent("Page.loadEventFired", session: session, after: loads, timeout: timeout)
        }

        /// Runs `action` (a click, a form's submit) and waits for the page it leads to.
        func navigating(timeout: TimeInterval = 30, _ action: String) throws {
            let loads = count("Page.loadEventFired")
            try evaluate(action)
            try browser.waitForEvent("Page.loadEventFired", session: session, after: loads, timeout: timeout)
        }

        /// The value of a JavaScript expression (a promise awaited); a thrown exception as an error.
        @discardableResult
        func evaluate(_ expression: String) throws -> Any? {
            let reply = try send("Runtime.evaluate", ["expression": expression, "returnByValue": true, "awaitPromise": true])
            if let exception = reply["exceptionDetails"] as? [String: Any] {
                let description = (exception["exception"] as? [String: Any])?["description"] as? String
                throw FixtureError("\(expression): \(description ?? exception["text"] as? String ?? "exception")")
            }
            return (reply["result"] as? [String: Any])?["value"]
        }

        func text(_ selector: String) throws -> String {
            try evaluate("document.querySelector(\(Self.quote(selector)))?.textContent ?? ''") as? String ?? ""
        }

        /// Polls `expression` until it is true; `what` names the wait in the failure.
        func waitUntil(_ what: String, timeout: TimeInterval = 30, _ expression: () -> String) throws {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if try evaluate("Boolean(\(expression()))") as? Bool == true { return }
                usleep(100_000)
            }
            throw FixtureError("\(what): not within \(Int(timeout)) s; the page says: \(try text("main").prefix(2000))")
        }

        /// Errors the page reported: console errors, uncaught exceptions, and
        /// the browser's own log entries at error level (a failed request).
        var errors: [String] {
            browser.events(of: session).compactMap { event in
                let parameters = event["params"] as? [String: Any] ?? [:]
                switch event["method"] as? String {
                case "Runtime.consoleAPICalled" where ["error", "assert"].contains(parameters["type"] as? String):
                    let arguments = parameters["args"] as? [[String: Any]] ?? []
                    return "console: " + arguments.map { "\($0["value"] ?? $0["description"] ?? "")" }.joined(separator: " ")
                case "Runtime.exceptionThrown":
                    let details = parameters["exceptionDetails"] as? [String: Any] ?? [:]
                    return "exception: " + ((details["exception"] as? [String: Any])?["description"] as? String ?? details["text"] as? String ?? "")
                case "Log.entryAdded":
                    let entry = parameters["entry"] as? [String: Any] ?? [:]
                    guard entry["level"] as? String == "error" else { return nil }
                    return "log: \(entry["text"] ?? "") \(entry["url"] ?? "")"
                default:
                    return nil
                }
            }
        }

        /// The whole page as PNG, at `width` × `height` CSS pixels (`mobile`: a phone's viewport and touch).
        func screenshot(width: Int, height: Int, mobile: Bool) throws -> Data {
            try send("Emulation.setDeviceMetricsOverride", ["width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile])
            let shot = try send("Page.captureScreenshot", ["format": "png", "captureBeyondViewport": true])
            return try #require(Data(base64Encoded: shot["data"] as? String ?? ""))
        }

        /// `text` as a JavaScript string literal.
        static func quote(_ text: String) -> String {
            String(decoding: try! JSONSerialization.data(withJSONObject: text, options: .fragmentsAllowed), as: UTF8.self)
        }
    }
}
