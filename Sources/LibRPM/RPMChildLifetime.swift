import CRpm
import Foundation
import Glibc

/// Ties the process that runs librpm (and every scriptlet it forks) to the
/// process that started it: when the parent dies, even by SIGKILL, the
/// kernel sends SIGTERM here, and SIGTERM kills this process's whole group.
///
/// Foundation starts each child in a process group of its own, so a signal
/// to treeforge's group (Ctrl-C) or treeforge's death alone would otherwise
/// leave the transaction and its scriptlets running.
public enum RPMChildLifetime {
    /// Leads a process group of its own (so the group kill never reaches the
    /// parent), installs the SIGTERM handler, then asks for SIGTERM on the
    /// parent's death. Returns false when `parent` (the pid the parent passed
    /// along) is already gone: the request came too late to fire.
    public static func endWithParent(_ parent: pid_t?) -> Bool {
        if getpgrp() != getpid() { setpgid(0, 0) }
        signal(SIGTERM) { _ in
            // Async-signal-safe: the group is this process and what it forked.
            kill(0, SIGKILL)
        }
        // librpm blocks nearly every signal in its thread while it waits for
        // a scriptlet, which would keep SIGTERM pending for as long as the
        // scriptlet runs; this thread unblocks it, so the kernel delivers it here.
        Thread.detachNewThread {
            var terminate = sigset_t()
            sigemptyset(&terminate)
            sigaddset(&terminate, SIGTERM)
            pthread_sigmask(SIG_UNBLOCK, &terminate, nil)
            while true { pause() }
        }
        _ = crpm_set_parent_death_signal(SIGTERM)
        if let parent, getppid() != parent { return false }
        return true
    }
}

/// `PR_SET_PDEATHSIG` for treeforge's other child processes (a compose the
/// server started): the kernel sends `signal` when the parent dies. It lives
/// beside the rpm child's lifetime because the only shim for the variadic
/// `prctl` is this module's.
public enum ParentDeathSignal {
    /// Returns false when `parent` is already gone: the request came too late to fire.
    public static func request(_ signal: Int32, parent: pid_t) -> Bool {
        _ = crpm_set_parent_death_signal(signal)
        return getppid() == parent
    }
}
