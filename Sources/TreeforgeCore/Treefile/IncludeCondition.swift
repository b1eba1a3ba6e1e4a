/// A `conditional-include` condition: `NAME OP VALUE`, with OP one of
/// `== != < <= > >=` and VALUE `true`, `false`, an unsigned integer or a
/// double-quoted string. Numbers order; booleans and strings only compare
/// for (in)equality.
struct IncludeCondition: Sendable, Equatable {
    enum Operator: String, Sendable, CaseIterable {
        case equal = "==", notEqual = "!=", lessOrEqual = "<=", greaterOrEqual = ">=", less = "<", greater = ">"
    }

    let variable: String
    let op: Operator
    let value: JSONValue
    let text: String

    /// Nil with a reason when the text is not a condition.
    static func parse(_ text: String) -> Result<IncludeCondition, ConditionError> {
        var rest = Substring(text).drop(while: \.isWhitespace)
        let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        guard !name.isEmpty, name.allSatisfy(\.isASCII) else { return .failure(.syntax) }
        rest = rest.dropFirst(name.count).drop(while: \.isWhitespace)
        let symbol = rest.prefix { "<>=!".contains($0) }
        guard let op = Operator(rawValue: String(symbol)) else {
            let word = symbol.isEmpty ? rest.prefix { !$0.isWhitespace } : symbol
            return .failure(word.isEmpty ? .syntax : .unknownOperator(String(word)))
        }
        rest = rest.dropFirst(op.rawValue.count).drop(while: \.isWhitespace)
        var literal = String(rest)
        while let last = literal.last, last.isWhitespace { literal.removeLast() }
        let value: JSONValue
        switch literal {
        case "true": value = .bool(true)
        case "false": value = .bool(false)
        case _ where !literal.isEmpty && literal.allSatisfy(\.isASCIIDigit):
            guard let number = UInt64(literal) else { return .failure(.syntax) }
            value = .uint(number)
        case _ where literal.count >= 2 && literal.hasPrefix("\"") && literal.hasSuffix("\""):
            value = .string(String(literal.dropFirst().dropLast()))
        default:
            return .failure(.badValue(literal))
        }
        return .success(IncludeCondition(variable: String(name), op: op, value: value, text: text))
    }

    enum ConditionError: Error, Equatable {
        case syntax
        case unknownOperator(String)
        case badValue(String)

        var message: String {
            let shape = "expected `NAME OP VALUE` with OP one of ==, !=, <, <=, >, >= and VALUE true, false, a number or a \"quoted string\""
            switch self {
            case .syntax: return shape
            case .unknownOperator(let op): return "unknown operator `\(op)`: \(shape)"
            case .badValue(let value): return "`\(value)` is not a value: \(shape)"
            }
        }
    }

    /// Evaluates against the variables defined so far; the error says why it cannot.
    func evaluate(_ variables: [String: JSONValue]) -> Result<Bool, EvaluationError> {
        guard let actual = variables[variable] else { return .failure(.undefined(variable)) }
        switch (actual, value) {
        case let (.uint(a), .uint(b)):
            switch op {
            case .equal: return .success(a == b)
            case .notEqual: return .success(a != b)
            case .less: return .success(a < b)
            case .lessOrEqual: return .success(a <= b)
            case .greater: return .success(a > b)
            case .greaterOrEqual: return .success(a >= b)
            }
        case (.bool, .bool), (.string, .string):
            switch op {
            case .equal: return .success(actual == value)
            case .notEqual: return .success(actual != value)
            default: return .failure(.notOrdered(variable, op.rawValue))
            }
        default:
            return .failure(.typeMismatch(variable, actual, value))
        }
    }

    enum EvaluationError: Error {
        case undefined(String)
        case notOrdered(String, String)
        case typeMismatch(String, JSONValue, JSONValue)

        var message: String {
            switch self {
            case .undefined(let name):
                return "undefined variable `\(name)` (define it in `variables` of this file or a file that includes it, or with --var)"
            case .notOrdered(let name, let op):
                return "`\(op)` compares numbers only, and `\(name)` is not a number"
            case .typeMismatch(let name, let actual, let expected):
                return "`\(name)` is \(actual.canonicalString), which is not the same type as \(expected.canonicalString)"
            }
        }
    }
}

private extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
