import Foundation
import LibRPM

extension RPMTransactionChild {
    /// Checks packages from repositories with `gpgcheck=1` against those
    /// repositories' own keys: one in-memory keyring per key list, never the
    /// target root's rpmdb (no gpg-pubkey package lands in the tree).
    struct SignatureChecker {
        private var keyrings: [[String]: RPMKeyring] = [:]

        /// Nil when the package needs no check or passes it; otherwise the
        /// failure naming the package, its repository and why.
        mutating func check(_ package: InstallPlan.Package) -> InstallEvent? {
            guard let keyFiles = package.signatureKeys else { return nil }
            let repo = "repo \(package.repository)"
            func failure(_ message: String) -> InstallEvent {
                .failed(message: message, package: package.nevra, details: keyFiles.map { "\(repo) gpgkey: \($0)" })
            }
            let keyring: RPMKeyring
            do {
                keyring = try self.keyring(keyFiles)
            } catch let error as RPMError {
                return failure("cannot check its signature: \(error.message) (a gpgkey of \(repo))")
            } catch {
                return failure("cannot check its signature: \(error) (a gpgkey of \(repo))")
            }
            let verdict: RPMSignatureVerdict
            do {
                verdict = try keyring.verify(packageAt: package.path)
            } catch {
                return failure("cannot check its signature: \(error)")
            }
            let known = keyring.keyIDs.joined(separator: ", ")
            switch verdict {
            case .valid:
                return nil
            case .unsigned:
                return failure("the package is not signed, but \(repo) asks for signature checks (gpgcheck=1)")
            case .unknownKey(let keyID):
                return failure("the package is signed with key \(keyID), which is not among the keys of \(repo)'s gpgkey (\(known))")
            case .untrustedKey(let keyID):
                return failure("the package is signed with key \(keyID) of \(repo)'s gpgkey, which librpm does not trust (expired, revoked or not a signing key)")
            case .bad(let message):
                return failure("the package does not verify with \(repo)'s gpgkey (a bad signature or digest): \(message)")
            }
        }

        private mutating func keyring(_ files: [String]) throws -> RPMKeyring {
            if let known = keyrings[files] { return known }
            let keyring = RPMKeyring()
            for file in files { try keyring.addKeys(fromArmoredFile: file) }
            keyrings[files] = keyring
            return keyring
        }
    }
}
