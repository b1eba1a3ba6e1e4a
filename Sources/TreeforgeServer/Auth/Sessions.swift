import Foundation
import TreeforgeCore

/// Signed-in sessions for the pages. The session cookie is
/// `NAME.EXPIRES.MAC`: the token's name (base64url), when the session ends
/// (seconds since 1970), and an HMAC-SHA256 over both with a key the server
/// keeps in `<repo>/.treeforge/session.key` (made at the first start, mode
/// 0600). Nothing is stored per session; the token's scopes and prefixes are
/// looked up by name at each request, so a token revoked (and reloaded with
/// SIGHUP) ends its sessions. A form's CSRF token is an HMAC of the session
/// cookie: a page of another site can neither read it nor send the cookie
/// (SameSite=Strict).
struct SessionSigner: Sendable {
    static let cookieName = "treeforge_session"
    static let lifetime: TimeInterval = 12 * 3600
    let key: Data

    static func load(repo: URL) throws -> SessionSigner {
        let file = repo.appendingPathComponent(".treeforge/session.key")
        if let key = try? Data(contentsOf: file), key.count == 32 { return SessionSigner(key: key) }
        var key = Data(count: 32)
        let random = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/dev/urandom"))
        key = random.readData(ofLength: 32)
        try random.close()
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: file.path, contents: key, attributes: [.posixPermissions: 0o600]) else {
            throw ConfigurationError("cannot write the session key \(file.path)")
        }
        return SessionSigner(key: key)
    }

    func cookieValue(for name: String, now: Date = Date()) -> String {
        let payload = "\(Self.base64url(Data(name.utf8))).\(Int(now.addingTimeInterval(Self.lifetime).timeIntervalSince1970))"
        return "\(payload).\(mac(payload))"
    }

    /// The token name a cookie value was signed for, while it lasts.
    func verify(_ value: String, now: Date = Date()) -> String? {
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let expires = TimeInterval(parts[1]), expires > now.timeIntervalSince1970 else { return nil }
        let payload = "\(parts[0]).\(parts[1])"
        guard Self.constantTimeEqual(mac(payload), String(parts[2])), let name = Self.unbase64url(String(parts[0])) else { return nil }
        return String(decoding: name, as: UTF8.self)
    }

    func csrfToken(for cookieValue: String) -> String { mac("csrf:" + cookieValue) }

    /// HMAC-SHA256 (RFC 2104), hex.
    func mac(_ message: String) -> String {
        var block = key.count > 64 ? Self.digest(key) : key
        block.append(Data(count: 64 - block.count))
        let inner = Data(block.map { $0 ^ 0x36 }) + Data(message.utf8)
        let outer = Data(block.map { $0 ^ 0x5c }) + Self.digest(inner)
        return SHA256Digest.hex(outer)
    }

    private static func digest(_ data: Data) -> Data {
        let hex = Array(SHA256Digest.hex(data).utf8)
        return Data(stride(from: 0, to: hex.count, by: 2).map { UInt8(String(decoding: hex[$0..<$0 + 2], as: UTF8.self), radix: 16)! })
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    static func base64url(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func unbase64url(_ text: String) -> Data? {
        var base = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base.count % 4 != 0 { base += "=" }
        return Data(base64Encoded: base)
    }
}

/// `application/x-www-form-urlencoded`, as browsers send forms.
enum FormBody {
    static func decode(_ data: Data) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in String(decoding: data, as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func text(_ part: Substring) -> String { part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            fields[text(parts[0])] = parts.count > 1 ? text(parts[1]) : ""
        }
        return fields
    }
}
