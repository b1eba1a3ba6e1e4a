import Foundation

/// Server-rendered pages: plain Swift building HTML5 strings, every value
/// escaped on the way in, no template engine and no JavaScript build step.
/// Each page works without script; `/assets/live.js` makes it update itself
/// from the API and the log stream.
enum HTML {
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// A value for a URL path segment (a ref has slashes: each part is kept).
    static func pathSegment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? text
    }

    static func page(title: String, current: String, session: PageSession? = nil, _ body: String) -> String {
        let links = [("/", "Builds"), ("/schedules", "Schedules")].map { href, name in
            "<a href=\"\(href)\"\(href == current ? " class=\"current\"" : "")>\(name)</a>"
        }.joined(separator: " ")
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title)) · treeforge</title>
            <link rel="icon" href="data:,">
            <link rel="stylesheet" href="/assets/app.css">
            <script src="/assets/live.js" defer></script>
            </head>
            <body>
            <header><strong>treeforge</strong> <nav>\(links)</nav> \(session.map { session in
                "<form class=\"session\" method=\"post\" action=\"/signout\">Signed in as \(escape(session.name)) \(session.field)<button>Sign out</button></form>"
            } ?? "<a class=\"session\" href=\"/signin\">Sign in</a>")</header>
            <main>
            \(body)
            </main>
            </body>
            </html>

            """
    }

    static func table(_ headers: [String], _ rows: [String], empty: String, id: String? = nil) -> String {
        // A table the page's script fills keeps its element even when empty.
        guard !rows.isEmpty || id != nil else { return "<p class=\"empty\">\(escape(empty))</p>" }
        let rows = rows.isEmpty ? ["<tr class=\"empty\"><td colspan=\"\(headers.count)\">\(escape(empty))</td></tr>"] : rows
        // Wide tables scroll inside their box on a phone, not the page.
        return """
            <div class="scroll"><table\(id.map { " id=\"\($0)\"" } ?? "")>
            <thead><tr>\(headers.map { "<th>\(escape($0))</th>" }.joined())</tr></thead>
            <tbody>
            \(rows.joined(separator: "\n"))
            </tbody>
            </table></div>
            """
    }

    static func time(_ date: Date?) -> String {
        guard let date else { return "—" }
        let text = ISO8601DateFormatter().string(from: date)
        return "<time datetime=\"\(text)\">\(escape(text.replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "Z", with: " UTC")))</time>"
    }

    static func age(_ date: Date?, now: Date = Date()) -> String {
        guard let date else { return "—" }
        let seconds = Int(now.timeIntervalSince(date))
        switch seconds {
        case ..<60: return "\(max(0, seconds)) s ago"
        case ..<3600: return "\(seconds / 60) min ago"
        case ..<86400: return "\(seconds / 3600) h ago"
        default: return "\(seconds / 86400) d ago"
        }
    }

    static func seconds(_ value: Double?) -> String {
        guard let value else { return "—" }
        return value < 10 ? String(format: "%.2f s", value) : String(format: "%.1f s", value)
    }

    /// Bytes in binary units: `216.4 MiB`.
    static func bytes(_ count: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024, unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(count) B" : String(format: "%.1f ", value) + units[unit]
    }

    static func status(_ status: String) -> String {
        "<span class=\"status status-\(escape(status))\" data-status>\(escape(status))</span>"
    }
}

/// Who is signed in on a page, and the CSRF token its forms carry.
struct PageSession: Sendable {
    let name: String
    let token: APIToken
    let csrf: String

    /// The hidden field every form of the page sends back.
    var field: String { "<input type=\"hidden\" name=\"csrf\" value=\"\(HTML.escape(csrf))\">" }
}
