import Foundation
import TreeforgeCore
import Yams

/// What a token may do. `admin` may do everything.
public enum TokenScope: String, Sendable, CaseIterable, Codable {
    case submit, cancel, schedule, admin
}

/// A token of the tokens file, by its name: the file keeps only the SHA-256
/// of each secret, never the secret.
public struct APIToken: Sendable, Equatable {
    public var name: String
    public var sha256: String
    public var scopes: Set<TokenScope>
    /// Ref prefixes the token may touch; nil: every ref.
    public var refs: [String]?
    /// A revoked token is refused as if unknown (kept in the file for the record).
    public var revoked = false

    public func allows(_ scope: TokenScope) -> Bool { scopes.contains(scope) || scopes.contains(.admin) }

    public func allows(ref: String) -> Bool { refs.map { $0.contains { ref.hasPrefix($0) } } ?? true }
}

/// The tokens file, loaded at start and again on SIGHUP (`reload`). A file
/// that does not load keeps the tokens loaded before, and says why.
///
/// ```yaml
/// tokens:
///   - name: nightly
///     sha256: "<hex sha256 of the secret token>"
///     scopes: [submit, cancel]        # submit, cancel, schedule, admin
///     refs: ["fedora/"]               # optional: ref prefixes this token may touch
/// ```
///
/// Threading: any thread; the tokens behind one lock.
public final class TokenRegistry: @unchecked Sendable {
    public let file: URL?
    private let lock = NSLock()
    private var byHash: [String: APIToken] = [:]

    public init(file: URL?) throws {
        self.file = file
        try reload()
    }

    /// Reads the file again; on an error the previous tokens stay.
    public func reload() throws {
        guard let file else { return }
        let tokens = try Self.parse(file)
        lock.withLock { byHash = Dictionary(tokens.map { ($0.sha256, $0) }, uniquingKeysWith: { first, _ in first }) }
    }

    public var count: Int { lock.withLock { byHash.count } }

    /// The token of that name, unless it is gone or revoked (a signed-in session's).
    public func token(named name: String) -> APIToken? {
        lock.withLock { byHash.values.first { $0.name == name } }.flatMap { $0.revoked ? nil : $0 }
    }

    /// The token an `Authorization: Bearer SECRET` header carries; nil when
    /// there is none, it is unknown or revoked.
    public func token(forAuthorization header: String?) -> APIToken? {
        guard let header, header.lowercased().hasPrefix("bearer ") else { return nil }
        let secret = header.dropFirst("bearer ".count).trimmingCharacters(in: .whitespaces)
        guard !secret.isEmpty else { return nil }
        let digest = SHA256Digest.hex(Data(secret.utf8))
        // Looked up by the digest of the secret: comparing digests leaks nothing of the secret.
        return lock.withLock { byHash[digest] }.flatMap { $0.revoked ? nil : $0 }
    }

    static func parse(_ file: URL) throws -> [APIToken] {
        let text: String
        do {
            text = try String(contentsOf: file, encoding: .utf8)
        } catch {
            throw ConfigurationError("cannot read the tokens file \(file.path): \(error.localizedDescription)")
        }
        guard let root = try? Yams.compose(yaml: text) else { throw ConfigurationError("\(file.path): not YAML") }
        guard let list = root.mapping?[Node("tokens")]?.sequence else {
            throw ConfigurationError("\(file.path): expected `tokens:` with a list of tokens")
        }
        var names = Set<String>()
        return try list.map { node in
            let at = "\(file.path):\(node.mark?.line ?? 0)"
            guard let mapping = node.mapping, let name = mapping[Node("name")]?.string,
                  let digest = mapping[Node("sha256")]?.string?.lowercased() else {
                throw ConfigurationError("\(at): a token needs a name and a sha256")
            }
            guard digest.count == 64, digest.allSatisfy(\.isHexDigit) else {
                throw ConfigurationError("\(at): token \(name): sha256 must be 64 hex digits (the SHA-256 of the secret, e.g. `printf %s SECRET | sha256sum`)")
            }
            guard names.insert(name).inserted else { throw ConfigurationError("\(at): two tokens are named \(name)") }
            let scopeNames = mapping[Node("scopes")]?.sequence?.compactMap(\.string) ?? []
            let scopes = try scopeNames.map { text -> TokenScope in
                guard let scope = TokenScope(rawValue: text) else {
                    throw ConfigurationError("\(at): token \(name): unknown scope \(text) (known: submit, cancel, schedule, admin)")
                }
                return scope
            }
            var token = APIToken(name: name, sha256: digest, scopes: Set(scopes),
                                 refs: mapping[Node("refs")]?.sequence?.compactMap(\.string))
            token.revoked = mapping[Node("revoked")]?.bool ?? false
            return token
        }
    }
}
