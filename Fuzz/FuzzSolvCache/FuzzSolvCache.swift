import TreeforgeFuzzing

// Under scripts/fuzz (-D FUZZING) libFuzzer's main drives this entry; in a
// normal build the executable replays the inputs it is given.
#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ bytes: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    SolvCacheFuzzer.fuzz(fuzzData(bytes, size))
    return 0
}
#else
@main
enum Replay {
    static func main() { FuzzReplayer.main(SolvCacheFuzzer.fuzz) }
}
#endif
