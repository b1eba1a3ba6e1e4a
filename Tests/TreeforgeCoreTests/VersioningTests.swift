import Foundation
import Testing
@testable import TreeforgeCore

@Suite struct VersioningTests {
    let day = Date(timeIntervalSince1970: 1_700_000_000)  // 2023-11-14 UTC

    @Test func firstVersionOfTheDay() {
        #expect(Versioning.next(after: nil, now: day) == "20231114.0")
        #expect(Versioning.next(after: "20231113.7", now: day) == "20231114.0")
        #expect(Versioning.next(after: "custom-1", now: day) == "20231114.0")
    }

    @Test func countsUpWithinADay() {
        #expect(Versioning.next(after: "20231114.0", now: day) == "20231114.1")
        #expect(Versioning.next(after: "20231114.41", now: day) == "20231114.42")
    }
}

/// rpm-ostree's `automatic-version-prefix` rule, case by case as its own tests state it.
@Suite struct AutomaticVersionTests {
    let now = Date(timeIntervalSince1970: 1_700_000_000)  // 2023-11-14 UTC

    @Test(arguments: [
        ("10", "", "10"), ("10", "xyz", "10"), ("10", "9", "10"), ("10", "11", "10"),
        ("10", "10", "10.1"), ("10.1", "10.1", "10.1.1"), ("10", "10.0", "10.1"), ("10", "10.3", "10.4"),
        ("10", "10.1.5", "10.2"), ("10.1", "10.1.5", "10.1.6"), ("10.1", "10.1.1.5", "10.1.2"),
        ("10", "10001", "10"), ("10", "101.1", "10"), ("10", "10x.1", "10"), ("10.1", "10", "10.1"),
        ("10.1", "10.", "10.1"), ("10.1", "10.2", "10.1"), ("10.1", "10.1x", "10.1"), ("10.1", "10.1.x", "10.1.1"),
        ("10.1", "10.1.2x", "10.1.3"),
        ("10.<date:%Y%m%d>", "10.20001010", "10.20231114.0"), ("10.<date:%Y%m%d>", "10.20001010.5", "10.20231114.0"),
        ("10.<date:%Y%m%d>", "10.20231114.1", "10.20231114.2"), ("10.<date:%Y%m%d>", "", "10.20231114.0"),
        ("10.<date:%Y%m%d>.0", "10.20231114", "10.20231114.0.0"), ("10.<date:%Y%m%d>.0", "10.20231114.0", "10.20231114.0.0"),
        ("10.<date:%Y%m%d>", "10.20231114.x", "10.20231114.1"), ("10.<date: %Y%m%d>", "10.20001010", "10. 20231114.0"),
        ("10.<date:%Y%m%d>.", "10.20001010.", "10.20231114..0"),
    ])
    func next(prefix: String, last: String, expected: String) {
        #expect(Versioning.next(prefix: prefix, suffix: ".", after: last, now: now) == expected)
    }

    @Test func suffix() {
        #expect(Versioning.next(prefix: "10", suffix: "-", after: "10", now: now) == "10-1")
        #expect(Versioning.next(prefix: "10", suffix: "-", after: "10-1", now: now) == "10-2")
        #expect(Versioning.next(prefix: "10.1", suffix: "-", after: "10.1-5", now: now) == "10.1-6")
    }
}
