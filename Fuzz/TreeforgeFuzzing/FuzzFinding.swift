/// A fuzz target's verdict on a thrown error: the parsers promise that every
/// failure a user can cause is a `ComposeError` naming where it is (see
/// docs/architecture.md, "Errors"), so any other error type escaping them is
/// a finding, reported as a crash so libFuzzer keeps the input.
enum FuzzFinding {
    static func unexpected(_ error: any Error, from entryPoint: String) -> Never {
        fatalError("\(entryPoint) threw \(type(of: error)), not a ComposeError: \(error)")
    }
}
