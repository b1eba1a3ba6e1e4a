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
        var jobs = Queue()
        queue_init(&jobs)
        defer { queue_free(&jobs) }
        let force = request.forceBest ? SOLVER_FORCEBEST : 0
        for group in request.installOneOf {
            var members = Queue()
            queue_init(&members)
            for id in group { queue_push(&members, id.rawValue) }
            let what = pool_queuetowhatprovides(raw, &members)
            queue_free(&members)
            queue_push2(&jobs, Id(SOLVER_INSTALL | SOLVER_SOLVABLE_ONE_OF | force), what)
        }

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
