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
