import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Fetches files over HTTP(S) into place: a bounded number of attempts with
/// a pause between them, a timeout per attempt, and `AtomicFile.move` (a
/// temporary name of its own, fsync, rename) so a failed or killed download
/// never leaves a partial file where a good one belongs.
///
/// Blocks the calling thread; call it from the compose's own thread, never
/// from Swift's cooperative pool.
final class HTTPDownloader: @unchecked Sendable {
    let attempts: Int
    let pause: TimeInterval
    private let session: URLSession

    init(timeout: TimeInterval, attempts: Int = 3, pause: TimeInterval = 0.5) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        session = URLSession(configuration: configuration)
        self.attempts = attempts
        self.pause = pause
    }

    struct Failure: Error, CustomStringConvertible {
        let url: URL
        let reason: String
        let attempts: Int
        var description: String { "cannot fetch \(url.absoluteString): \(reason) (\(attempts) attempt\(attempts == 1 ? "" : "s"))" }
    }

    func download(_ url: URL, to destination: URL) throws {
        var reason = ""
        for attempt in 1...attempts {
            switch fetch(url, to: destination) {
            case .success:
                return
            case .failure(let failure):
                reason = failure.reason
                // A missing file will not appear by asking again.
                guard failure.retryable, attempt < attempts else {
                    throw Failure(url: url, reason: reason, attempts: attempt)
                }
                Thread.sleep(forTimeInterval: pause * Double(attempt))
            }
        }
        throw Failure(url: url, reason: reason, attempts: attempts)
    }

    private struct AttemptFailure: Error {
        let reason: String
        let retryable: Bool
    }

    private final class Outcome: @unchecked Sendable {
        var result: Result<Void, AttemptFailure> = .failure(AttemptFailure(reason: "no answer", retryable: true))
    }

    private func fetch(_ url: URL, to destination: URL) -> Result<Void, AttemptFailure> {
        let done = DispatchSemaphore(value: 0)
        let outcome = Outcome()
        let task = session.downloadTask(with: url) { location, response, error in
            defer { done.signal() }
            // An error page (a 404's body) is left in the temporary folder otherwise.
            defer { if let location { try? FileManager.default.removeItem(at: location) } }
            if let error {
                outcome.result = .failure(AttemptFailure(reason: error.localizedDescription, retryable: true))
                return
            }
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            guard status == 200, let location else {
                outcome.result = .failure(AttemptFailure(reason: "HTTP status \(status)", retryable: status >= 500 || status == 429))
                return
            }
            do {
                // The temporary file is gone once this handler returns: move it now.
                try AtomicFile.move(location, to: destination)
                // What an older treeforge, killed mid-download, left under a fixed name.
                try? FileManager.default.removeItem(at: destination.appendingPathExtension("part"))
                outcome.result = .success(())
            } catch {
                outcome.result = .failure(AttemptFailure(reason: "cannot store \(destination.path): \(error)", retryable: false))
            }
        }
        task.resume()
        done.wait()
        return outcome.result
    }
}
