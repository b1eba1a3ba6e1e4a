import Foundation
import TreeforgeCore

/// SIGINT and SIGTERM cancel the running compose: the rpm child and its
/// scriptlets are stopped, libostree's call returns, the build is recorded
/// `cancelled` (exit status 128 + the signal). A second signal ends the
/// process at once, as a user pressing Ctrl-C twice expects (the next compose
/// reconciles what it left).
///
/// The handler only writes the signal's number to a pipe; a thread of its
/// own reads it and cancels. A handler (unlike SIG_IGN) is reset by exec, so
/// the children treeforge starts get the default dispositions.
enum SignalCancellation {
    static func install(_ cancellation: Cancellation) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        signalPipeWriteEnd = fds[1]
        var cancelling = sigset_t()
        sigemptyset(&cancelling)
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, { number in
                var byte = UInt8(truncatingIfNeeded: number)
                _ = write(signalPipeWriteEnd, &byte, 1)
            })
            sigaddset(&cancelling, signalNumber)
        }
        // The signal mask is inherited through exec: a compose started from
        // a thread that blocks these (any Dispatch worker does — the server's
        // job runner, a test) would keep them pending and never cancel. The
        // threads and children started from here on inherit the unblocking.
        pthread_sigmask(SIG_UNBLOCK, &cancelling, nil)
        let readEnd = fds[0]
        let thread = Thread {
            var byte: UInt8 = 0
            while read(readEnd, &byte, 1) == 1 {
                let number = Int32(byte)
                if cancellation.isCancelled {
                    signal(number, SIG_DFL)
                    kill(getpid(), number)
                }
                cancellation.cancel(reason: number == SIGINT ? "SIGINT" : "SIGTERM", signal: number)
            }
        }
        thread.name = "treeforge.signals"
        thread.start()
    }
}

/// Written by the signal handler, which can capture nothing.
nonisolated(unsafe) private var signalPipeWriteEnd: Int32 = -1
