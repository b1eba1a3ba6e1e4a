import Foundation
import Hummingbird
import TreeforgeCore

/// The release engineer's pages: what is queued, running and failing, each
/// build with its stages, live log and package diff, each ref's history
/// with charts, the schedules. Read-only views of the same services the API
/// answers from.
extension ServerServices {
    /// How far a running build is: its stage, and package n of N in install.
    struct Progress: Sendable {
        var stage: String?
        var package: (index: Int, total: Int, nevra: String)?

        var text: String {
            guard let stage else { return "starting" }
            if stage == "install", let package { return "install \(package.index)/\(package.total) \(package.nevra)" }
            return stage
        }
    }

    static func progress(_ records: [EventRecord]) -> Progress {
        var progress = Progress()
        for record in records {
            guard let object = try? JSONSerialization.jsonObject(with: Data(record.line.utf8)) as? [String: Any] else { continue }
            switch record.type {
            case "stageStarted": progress.stage = object["stage"] as? String
            case "package":
                if let index = object["index"] as? Int, let total = object["total"] as? Int {
                    progress.package = (index, total, object["nevra"] as? String ?? "")
                }
            default: break
            }
        }
        return progress
    }

    func homePage(session: PageSession?) async throws -> String {
        let store = self.store
        let repo = configuration.repo
        let (running, recent, queued, failures, overview, progress) = try await Blocking.run {
            let running = try store.builds(BuildFilter(status: .running, limit: 50))
            var progress: [Int64: Progress] = [:]
            for build in running {
                guard let id = build.id else { continue }
                let count = try store.eventCounts(of: id).values.reduce(0, +)
                progress[id] = Self.progress(try store.eventRecords(of: id, from: max(0, count - 200), limit: 200))
            }
            return (running, try store.builds(BuildFilter(limit: 25)), try store.builds(BuildFilter(status: .queued, limit: 100)),
                    try store.builds(BuildFilter(status: .failed, limit: 5)), try RepositoryOverview.read(repo: repo), progress)
        }
        let health = await health()
        let runningRows = running.map { build in
            let id = build.id ?? 0
            return """
                <tr data-build="\(id)"><td><a href="/builds/\(id)">#\(id)</a></td><td>\(HTML.escape(build.ref ?? "—"))</td>\
                <td data-progress>\(HTML.escape(progress[id]?.text ?? "starting"))</td><td>\(HTML.age(build.startedAt))</td></tr>
                """
        }
        let recentRows = recent.map { build in
            let id = build.id ?? 0
            return """
                <tr data-build="\(id)"><td><a href="/builds/\(id)">#\(id)</a></td><td>\(HTML.status(build.status.rawValue))</td>\
                <td>\(HTML.escape(build.ref ?? "—"))</td><td data-version>\(HTML.escape(build.version ?? "—"))</td>\
                <td>\(HTML.escape(build.trigger))</td><td>\(HTML.time(build.startedAt))</td></tr>
                """
        }
        let queueRows = queued.reversed().map { build in
            "<tr><td><a href=\"/builds/\(build.id ?? 0)\">#\(build.id ?? 0)</a></td><td>\(HTML.escape(build.ref ?? "—"))</td><td>\(HTML.age(build.startedAt))</td></tr>"
        }
        let failureRows = failures.map { build in
            """
            <tr><td><a href="/builds/\(build.id ?? 0)">#\(build.id ?? 0)</a></td><td>\(HTML.escape(build.ref ?? "—"))</td>\
            <td>\(HTML.escape(build.failedStage ?? "—"))</td><td class="error">\(HTML.escape(String((build.error ?? "").prefix(300))))</td></tr>
            """
        }
        let refRows = overview.refs.map { ref in
            """
            <tr><td><a href="/refs/\(HTML.pathSegment(ref.ref))">\(HTML.escape(ref.ref))</a></td><td>\(HTML.escape(ref.version ?? "—"))</td>\
            <td>\(HTML.age(ref.timestamp))</td><td>\(ref.published ? "published" : "<strong>not published</strong>")</td></tr>
            """
        }
        let checks = health.checks.sorted { $0.key < $1.key }.map { name, check in
            "<li class=\"\(check.ok ? "ok" : "failing")\">\(HTML.escape(name)): \(HTML.escape(check.detail))</li>"
        }.joined()
        let body = """
            <h1>Builds</h1>
            <section aria-labelledby="running"><h2 id="running">Running</h2>
            \(HTML.table(["Build", "Ref", "Progress", "Started"], runningRows, empty: "Nothing is running.", id: "running-builds"))
            </section>
            <section aria-labelledby="queue"><h2 id="queue">Queue</h2>
            \(HTML.table(["Build", "Ref", "Waiting since"], queueRows, empty: "The queue is empty."))
            </section>
            <section aria-labelledby="recent"><h2 id="recent">Recent builds</h2>
            \(HTML.table(["Build", "Status", "Ref", "Version", "Trigger", "Started"], recentRows, empty: "No builds yet.", id: "recent-builds"))
            </section>
            <section aria-labelledby="failures"><h2 id="failures">Last failures</h2>
            \(HTML.table(["Build", "Ref", "Stage", "Error"], failureRows, empty: "No failures."))
            </section>
            <section aria-labelledby="refs"><h2 id="refs">Refs</h2>
            \(HTML.table(["Ref", "Version", "Committed", "Published"], refRows, empty: "No refs yet."))
            </section>
            <section aria-labelledby="health"><h2 id="health">Repository</h2>
            <ul class="checks">\(checks)</ul>
            <p>Summary written \(HTML.age(overview.summaryWrittenAt))\(overview.summarySigned ? ", signed" : "").</p>
            </section>
            """
        return HTML.page(title: "Builds", current: "/", session: session, body)
    }

    func buildPage(_ id: Int64, host: String, session: PageSession?) async throws -> String {
        let store = self.store
        let repo = configuration.repo
        let (build, job, diff, previous, deltas, inputs, metadata) = try await Blocking.run {
            guard let build = try store.builds.build(id) else { throw APIError.notFound("no build #\(id)") }
            // The package diff against the build that made its parent, or the ref's build before it.
            let previous = try build.parent.flatMap { try store.builds.build(commit: $0) }
                ?? store.builds(BuildFilter(ref: build.ref, limit: 1, before: id)).first
            let diff = try previous.flatMap { previous in
                try previous.id.map { BuildDiff(from: try store.builds.packages(of: $0), to: try store.builds.packages(of: id)) }
            }
            let metadata = try build.commit.flatMap { try RepositoryOverview.commitMetadata(repo: repo, commit: $0) }
            return (build, try store.job(id), diff, previous, try store.builds.deltas(of: id), try store.builds.inputs(of: id), metadata)
        }
        let stages = Stage.allCases.compactMap { stage -> String? in
            guard let seconds = build.stageSeconds[stage.rawValue] else { return nil }
            return "<tr><td>\(stage.rawValue)</td><td>\(HTML.seconds(seconds))</td><td><code>\(HTML.escape(String((build.stageInputs[stage.rawValue] ?? "").prefix(16))))</code></td></tr>"
        }
        let facts: [(String, String)] = [
            ("Status", HTML.status(build.status.rawValue)),
            ("Ref", HTML.escape(build.ref ?? "—")),
            ("Version", HTML.escape(build.version ?? "—")),
            ("Commit", build.commit.map { "<code>\(HTML.escape($0))</code>" } ?? "—"),
            ("Parent", build.parent.map { "<code>\(HTML.escape($0))</code>" } ?? "—"),
            ("Compose id", HTML.escape(build.composeId ?? "—")),
            ("Treefile", HTML.escape(job?.treefileName ?? build.treefilePath)),
            ("Trigger", HTML.escape(build.trigger) + (job.map { " by " + HTML.escape($0.submittedBy) } ?? "")),
            ("Started", HTML.time(build.startedAt)),
            ("Finished", HTML.time(build.finishedAt)),
            ("Published", HTML.time(build.publishedAt)),
            ("Pull check", HTML.escape(build.pullCheck ?? "—")),
            ("Input hash", build.inputHash.map { "<code>\(HTML.escape($0))</code>" } ?? "—"),
        ]
        let factList = facts.map { "<dt>\($0.0)</dt><dd>\($0.1)</dd>" }.joined(separator: "\n")
        let error = build.error.map { "<p class=\"error\" role=\"alert\">\(HTML.escape(build.failedStage ?? "")): \(HTML.escape($0))</p>" } ?? ""
        let diffText: String
        if let diff, let previous {
            diffText = "<p>Against <a href=\"/builds/\(previous.id ?? 0)\">build #\(previous.id ?? 0)</a>:</p>" + Self.render(diff)
        } else {
            diffText = "<p>No earlier build of this ref to compare with.</p>"
        }
        let deltaRows = deltas.map { "<tr><td><code>\(HTML.escape(String(($0.from ?? "scratch").prefix(12))))</code></td><td>\($0.size)</td><td>\($0.parts)</td></tr>" }
        let pull = build.commit.flatMap { commit in
            build.ref.map { ref in
                "<pre>ostree remote add --no-gpg-verify --set=http2=false compose http://\(HTML.escape(host))/repo/\nostree pull compose \(HTML.escape(ref))\nostree show \(HTML.escape(commit))</pre>"
            }
        } ?? "<p>Nothing to pull yet.</p>"
        let inputList = inputs.map { input -> String in
            let lines = input.text.split(separator: "\n", omittingEmptySubsequences: false).count
            return """
                <details data-input="\(HTML.escape(input.name))"><summary>The \(HTML.escape(input.name)) (\(lines) lines, \
                <a href="/api/v1/builds/\(id)/\(HTML.pathSegment(input.name))">download</a>)</summary>
                <pre>\(HTML.escape(input.text))</pre></details>
                """
        }.joined(separator: "\n")
        let metadataText: String
        if let metadata {
            let rows = metadata.map { key, value in
                let lines = value.split(separator: "\n", omittingEmptySubsequences: false)
                let shown = lines.count > 12 ? lines.prefix(12).joined(separator: "\n") + "\n… (\(lines.count) in all)" : value
                return "<tr><td><code>\(HTML.escape(key))</code></td><td><pre class=\"value\">\(HTML.escape(shown))</pre></td></tr>"
            }
            metadataText = HTML.table(["Key", "Value"], rows, empty: "The commit has no metadata.")
        } else {
            metadataText = build.commit == nil ? "<p>No commit yet.</p>" : "<p>The repository no longer holds this commit (pruned).</p>"
        }
        let size = build.treeSize.map { bytes in "<p>Tree: \(HTML.bytes(bytes)) in \(build.treeFiles ?? 0) files.</p>" } ?? ""
        let packages = build.packages.map { "<li>\(HTML.escape($0))</li>" }.joined()
        let actions = session.map { session in
            build.status.isFinished ? "" : """
                <form method="post" action="/builds/\(id)/cancel">\(session.field)<button>Cancel build #\(id)</button></form>
                """
        } ?? (build.status.isFinished ? "" : "<p><a href=\"/signin?next=/builds/\(id)\">Sign in</a> to cancel it.</p>")
        let body = """
            <h1>Build #\(id)</h1>
            \(error)
            \(actions)
            <dl class="facts" data-build="\(id)" data-live="\(build.status.isFinished ? "no" : "yes")">
            \(factList)
            </dl>
            <section aria-labelledby="stages"><h2 id="stages">Stages</h2>
            \(HTML.table(["Stage", "Seconds", "Stage id"], stages, empty: "No stage has finished yet."))
            </section>
            <section aria-labelledby="log"><h2 id="log">Log</h2>
            <pre id="build-log" data-log="/api/v1/builds/\(id)/log">Events: <a href="/api/v1/builds/\(id)/events">/api/v1/builds/\(id)/events</a></pre>
            </section>
            <section aria-labelledby="diff"><h2 id="diff">Package changes</h2>
            \(diffText)
            <form method="get" action="/builds/\(id)/diff"><label>Compare with build <input name="other" type="number" min="1" required></label> <button>Compare</button></form>
            </section>
            <section aria-labelledby="deltas"><h2 id="deltas">Static deltas</h2>
            \(HTML.table(["From", "Bytes", "Parts"], deltaRows, empty: "None."))
            </section>
            <section aria-labelledby="pull"><h2 id="pull">Pull it</h2>
            \(pull)
            </section>
            <section aria-labelledby="inputs"><h2 id="inputs">Treefile and lockfile</h2>
            \(inputList.isEmpty ? "<p>Not recorded: the build ended before it read its treefile.</p>" : inputList)
            </section>
            <section aria-labelledby="metadata"><h2 id="metadata">Commit metadata</h2>
            \(size)
            \(metadataText)
            </section>
            <section aria-labelledby="packages"><h2 id="packages">Packages (\(build.packages.count))</h2>
            <ul class="packages">\(packages)</ul>
            </section>
            """
        return HTML.page(title: "Build #\(id)", current: "", session: session, body)
    }

    /// A package diff as a list, upgrades first.
    static func render(_ diff: BuildDiff) -> String {
        let change = { (verb: String, change: BuildDiff.Change) in
            "<li>\(verb) \(HTML.escape(change.name)) \(HTML.escape(change.from)) → \(HTML.escape(change.to))</li>"
        }
        let lines = diff.upgraded.map { change("upgraded", $0) } + diff.downgraded.map { change("downgraded", $0) }
            + diff.added.map { "<li>added \(HTML.escape($0))</li>" } + diff.removed.map { "<li>removed \(HTML.escape($0))</li>" }
        return lines.isEmpty ? "<p>The same packages.</p>" : "<ul class=\"diff\">\(lines.joined())</ul>"
    }

    func diffPage(_ id: Int64, _ other: Int64, session: PageSession?) async throws -> String {
        let response = try await diff(other, id)
        let body = """
            <h1>Build #\(id) against build #\(other)</h1>
            \(Self.render(response.diff))
            <p><a href="/builds/\(id)">Back to build #\(id)</a></p>
            """
        return HTML.page(title: "Build #\(id) against #\(other)", current: "", session: session, body)
    }

    func refPage(_ ref: String, session: PageSession?) async throws -> String {
        let store = self.store
        let repo = configuration.repo
        let (builds, overview) = try await Blocking.run {
            (try store.builds(BuildFilter(ref: ref, limit: 50)), try RepositoryOverview.read(repo: repo))
        }
        let state = overview.refs.first { $0.ref == ref }
        guard state != nil || !builds.isEmpty else { throw APIError.notFound("no ref \(ref)") }
        let committed = builds.filter { $0.commit != nil && [.succeeded, .publishing].contains($0.status) }
        let history = committed.map { build in
            """
            <tr><td><a href="/builds/\(build.id ?? 0)">#\(build.id ?? 0)</a></td><td>\(HTML.escape(build.version ?? "—"))</td>\
            <td><code>\(HTML.escape(String((build.commit ?? "").prefix(12))))</code></td><td>\(HTML.time(build.finishedAt))</td>\
            <td>\(build.packages.count)</td><td>\(build.treeSize.map(HTML.bytes) ?? "—")</td></tr>
            """
        }
        let deltas = (state?.deltas ?? []).map { "<li><code>\(HTML.escape($0))</code></li>" }.joined()
        let chronological = Array(committed.reversed())
        let body = """
            <h1>\(HTML.escape(ref))</h1>
            <p>Head \(state.map { "<code>\(HTML.escape($0.head))</code>" } ?? "—"), version \(HTML.escape(state?.version ?? "—")), \
            \(state?.published == true ? "published" : "<strong>not published</strong>").</p>
            <section aria-labelledby="durations"><h2 id="durations">Compose duration by stage</h2>
            \(Charts.stageDurations(chronological))
            </section>
            <section aria-labelledby="sizes"><h2 id="sizes">Tree size</h2>
            \(Charts.line(chronological.compactMap { build in build.treeSize.map { ("#\(build.id ?? 0)", Double($0) / 1_048_576) } },
                          unit: "MiB", label: "Tree size per build"))
            </section>
            <section aria-labelledby="counts"><h2 id="counts">Package count</h2>
            \(Charts.line(chronological.map { ("#\($0.id ?? 0)", Double($0.packages.count)) }, unit: "packages", label: "Package count per build"))
            </section>
            <section aria-labelledby="history"><h2 id="history">Versions</h2>
            \(HTML.table(["Build", "Version", "Commit", "Published", "Packages", "Tree"], history, empty: "No version yet."))
            </section>
            <section aria-labelledby="ref-deltas"><h2 id="ref-deltas">Static deltas to the head</h2>
            \(deltas.isEmpty ? "<p>None.</p>" : "<ul>\(deltas)</ul>")
            </section>
            """
        return HTML.page(title: ref, current: "", session: session, body)
    }

    func schedulesPage(session: PageSession?) async throws -> String {
        let list = try await schedules()
        func actions(_ schedule: ScheduleView) -> String {
            guard let session else { return "<a href=\"/signin?next=/schedules\">Sign in</a>" }
            let name = HTML.pathSegment(schedule.name)
            let toggle = schedule.paused ? "resume" : "pause"
            return """
                <form method="post" action="/schedules/\(name)/run">\(session.field)<button>Run now</button></form> \
                <form method="post" action="/schedules/\(name)/\(toggle)">\(session.field)<button>\(schedule.paused ? "Resume" : "Pause")</button></form>
                """
        }
        let rows = list.schedules.map { schedule in
            """
            <tr><td>\(HTML.escape(schedule.name))</td><td>\(HTML.escape(schedule.treefile))</td><td><code>\(HTML.escape(schedule.cron))</code> \
            \(HTML.escape(schedule.timeZone))</td><td>\(schedule.paused ? "paused" : HTML.time(schedule.nextRunAt))</td>\
            <td>\(schedule.lastBuildId.map { "<a href=\"/builds/\($0)\">#\($0)</a> " } ?? "")\(schedule.lastBuildStatus.map(HTML.status) ?? "—")</td>\
            <td>\(HTML.escape(schedule.missedRuns))</td><td>\(HTML.escape(schedule.origin))</td><td>\(actions(schedule))</td></tr>
            """
        }
        let body = """
            <h1>Schedules</h1>
            \(HTML.table(["Name", "Treefile", "When", "Next run", "Last result", "Missed runs", "Defined in", "Actions"], rows, empty: "No schedules."))
            """
        return HTML.page(title: "Schedules", current: "/schedules", session: session, body)
    }
}

extension ServerServices {
    /// The request's signed-in session: its cookie verified, its token still in the tokens file.
    func session(_ request: Request) -> PageSession? {
        guard let value = request.cookies[SessionSigner.cookieName]?.value, let name = sessions.verify(value),
              let token = tokens.token(named: name) else { return nil }
        return PageSession(name: name, token: token, csrf: sessions.csrfToken(for: value))
    }

    func signInPage(next: String?, message: String?) -> String {
        let body = """
            <h1>Sign in</h1>
            \(message.map { "<p class=\"error\" role=\"alert\">\(HTML.escape($0))</p>" } ?? "")
            <p>Sign in with an API token to cancel builds and run or pause schedules, as the token's scopes and refs allow.</p>
            <form method="post" action="/signin">
            <input type="hidden" name="next" value="\(HTML.escape(DashboardRoutes.safeNext(next)))">
            <label>Token <input type="password" name="token" autocomplete="current-password" required></label>
            <button>Sign in</button>
            </form>
            """
        return HTML.page(title: "Sign in", current: "", body)
    }
}
