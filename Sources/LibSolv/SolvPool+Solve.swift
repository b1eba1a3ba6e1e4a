import CSolv

/// What to ask the solver for.
public struct SolveRequest: Sendable {
    /// Each entry installs exactly one of its packages (the best by policy).
    public var installOneOf: [[SolvableID]] = []
    /// Install weak dependencies (Recommends/Supplements), as dnf does by default.
    public var installWeakDependencies = true
    /// Insist on the newest version of what is asked for, or fail (dnf's `best=True`).
    public var forceBest = true

    public init() {}
}

/// One problem the solver could not get around, in libsolv's own words.
public struct SolveProblem: Sendable, CustomStringConvertible {
    /// libsolv's summary of the problem ("nothing provides X needed by Y").
    public let summary: String
    /// Every rule that takes part in the problem, as libsolv states it.
    public let details: [String]
    /// Each proposed solution, as a list of steps.
    public let solutions: [[String]]

    public var description: String {
        var lines = ["problem: \(summary)"]
        for detail in details where detail != summary { lines.append("  - \(detail)") }
        for (index, steps) in solutions.enumerated() {
            lines.append("  solution \(index + 1): " + steps.joined(separator: "; "))
        }
        return lines.joined(separator: "\n")
    }
}

public enum SolveOutcome: Sendable {
    /// The packages to install, in the order libsolv's transaction lists them.
    case solved([SolvableID])
    case problems([SolveProblem])
}

extension SolvPool {
    /// Runs the solver over an empty system (a compose always starts from
    /// scratch). Call `prepareForSolving` first.
    public func solve(_ request: SolveRequest) -> SolveOutcome {
        var jobs = jobQueue(request)
        defer { queue_free(&jobs) }
        let solver = solver_create(raw)!
        defer { solver_free(solver) }
        solver_set_flag(solver, SOLVER_FLAG_IGNORE_RECOMMENDED, request.installWeakDependencies ? 0 : 1)
        if solver_solve(solver, &jobs) != 0 {
            return .problems(problems(of: solver))
        }
        let transaction = solver_create_transaction(solver)!
        defer { transaction_free(transaction) }
        transaction_order(transaction, 0)
        let steps = transaction.pointee.steps
        var installs: [SolvableID] = []
        for i in 0..<Int(steps.count) {
            let p = steps.elements[i]
            let type = transaction_type(transaction, p, SOLVER_TRANSACTION_SHOW_ACTIVE)
            if type == SOLVER_TRANSACTION_INSTALL || type == SOLVER_TRANSACTION_MULTIINSTALL {
                installs.append(SolvableID(rawValue: p))
            }
        }
        return .solved(installs)
    }

    /// The solver jobs for a request; the caller frees the queue.
    func jobQueue(_ request: SolveRequest) -> Queue {
        var jobs = Queue()
        queue_init(&jobs)
        let force = request.forceBest ? SOLVER_FORCEBEST : 0
        for group in request.installOneOf {
            var members = Queue()
            queue_init(&members)
            for id in group { queue_push(&members, id.rawValue) }
            let what = pool_queuetowhatprovides(raw, &members)
            queue_free(&members)
            queue_push2(&jobs, Id(SOLVER_INSTALL | SOLVER_SOLVABLE_ONE_OF | force), what)
        }
        return jobs
    }

    private func problems(of solver: UnsafeMutablePointer<Solver>) -> [SolveProblem] {
        var result: [SolveProblem] = []
        let count = solver_problem_count(solver)
        guard count > 0 else { return result }
        for problem in 1...count {
            let summary = String(cString: solver_problem2str(solver, Id(problem)))
            var rules = Queue()
            queue_init(&rules)
            solver_findallproblemrules(solver, Id(problem), &rules)
            var details: [String] = []
            for i in 0..<Int(rules.count) {
                var source: Id = 0, target: Id = 0, dep: Id = 0
                let type = solver_ruleinfo(solver, rules.elements[i], &source, &target, &dep)
                let text = String(cString: solver_problemruleinfo2str(solver, type, source, target, dep))
                if !details.contains(text) { details.append(text) }
            }
            queue_free(&rules)
            var solutions: [[String]] = []
            let solutionCount = solver_solution_count(solver, Id(problem))
            if solutionCount > 0 {
                for solution in 1...solutionCount {
                    var steps: [String] = []
                    var element: Id = 0, p: Id = 0, rp: Id = 0
                    while true {
                        element = solver_next_solutionelement(solver, Id(problem), Id(solution), element, &p, &rp)
                        if element == 0 { break }
                        steps.append(String(cString: solver_solutionelement2str(solver, p, rp)))
                    }
                    solutions.append(steps)
                }
            }
            result.append(SolveProblem(summary: summary, details: details, solutions: solutions))
        }
        return result
    }
}

/// Why the solver put a package into the transaction.
public enum DecisionReason: Sendable, Equatable {
    /// A job asked for it.
    case requested
    /// Another package's hard requirement.
    case required(by: SolvableID, dependency: String)
    /// Another package's weak dependency (Recommends, Supplements).
    case recommended(by: SolvableID, dependency: String)
    /// Anything else, in libsolv's words.
    case other(String)
}

extension SolvPool {
    /// Solves again and walks back from `package` to the job that caused it:
    /// each step is one package and why it is there. Nil when the request
    /// has problems or the package is not in the result.
    public func explain(_ request: SolveRequest, package: SolvableID) -> [(SolvableID, DecisionReason)]? {
        withSolver(request) { solver in
            var chain: [(SolvableID, DecisionReason)] = []
            var current = package
            var seen = Set<SolvableID>()
            while seen.insert(current).inserted {
                let reason = decisionReason(solver, current)
                chain.append((current, reason))
                switch reason {
                case .required(let by, _), .recommended(let by, _): current = by
                default: return chain
                }
            }
            return chain
        }
    }

    private func withSolver<T>(_ request: SolveRequest, _ body: (UnsafeMutablePointer<Solver>) -> T?) -> T? {
        var jobs = jobQueue(request)
        defer { queue_free(&jobs) }
        let solver = solver_create(raw)!
        defer { solver_free(solver) }
        solver_set_flag(solver, SOLVER_FLAG_IGNORE_RECOMMENDED, request.installWeakDependencies ? 0 : 1)
        guard solver_solve(solver, &jobs) == 0 else { return nil }
        return body(solver)
    }

    private func decisionReason(_ solver: UnsafeMutablePointer<Solver>, _ p: SolvableID) -> DecisionReason {
        var info: Id = 0
        let reason = solver_describe_decision(solver, p.rawValue, &info)
        switch reason {
        case SOLVER_REASON_RESOLVE_JOB:
            return .requested
        case SOLVER_REASON_UNIT_RULE, SOLVER_REASON_RESOLVE:
            var source: Id = 0, target: Id = 0, dep: Id = 0
            let type = solver_ruleinfo(solver, info, &source, &target, &dep)
            if type == SOLVER_RULE_PKG_REQUIRES {
                return .required(by: SolvableID(rawValue: source), dependency: String(cString: pool_dep2str(raw, dep)))
            }
            // A job rule, or the "best candidate for the job" rule (SOLVER_FORCEBEST).
            let family = type.rawValue & UInt32(SOLVER_RULE_TYPEMASK)
            if family == SOLVER_RULE_JOB.rawValue || family == SOLVER_RULE_BEST.rawValue {
                return .requested
            }
            return .other(String(cString: solver_ruleinfo2str(solver, type, source, target, dep)))
        case SOLVER_REASON_WEAKDEP:
            var why = Queue()
            queue_init(&why)
            defer { queue_free(&why) }
            solver_describe_weakdep_decision(solver, p.rawValue, &why)
            // (reason, package, dependency) triples.
            if why.count >= 3 {
                return .recommended(by: SolvableID(rawValue: why.elements[1]), dependency: String(cString: pool_dep2str(raw, why.elements[2])))
            }
            return .other("a weak dependency")
        default:
            return .other("libsolv decision reason \(reason)")
        }
    }
}
