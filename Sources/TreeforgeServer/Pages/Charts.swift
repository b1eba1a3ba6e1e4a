import Foundation
import TreeforgeCore

/// Charts as inline SVG, drawn on the server: no chart library, readable
/// without script, and labelled for screen readers.
enum Charts {
    static let width = 640.0
    static let height = 220.0
    static let margin = (left: 48.0, right: 12.0, top: 12.0, bottom: 28.0)
    static let stageColours: [Stage: String] = [
        .load: "#8c8c8c", .resolve: "#6f42c1", .lock: "#adb5bd", .download: "#17a2b8", .install: "#2c7be5",
        .postprocess: "#fd7e14", .commit: "#28a745", .publish: "#e83e8c", .record: "#343a40",
    ]

    /// Stacked bars, one per build (oldest first), one segment per stage.
    static func stageDurations(_ builds: [BuildRecord]) -> String {
        let totals = builds.map { $0.stageSeconds.values.reduce(0, +) }
        guard let top = totals.max(), top > 0 else { return "<p>No finished compose yet.</p>" }
        let plotWidth = width - margin.left - margin.right
        let plotHeight = height - margin.top - margin.bottom
        let slot = plotWidth / Double(builds.count)
        var shapes = axis(top: top, unit: "s")
        for (index, build) in builds.enumerated() {
            var y = height - margin.bottom
            let x = margin.left + Double(index) * slot + slot * 0.15
            for stage in Stage.allCases {
                guard let seconds = build.stageSeconds[stage.rawValue], seconds > 0 else { continue }
                let h = seconds / top * plotHeight
                y -= h
                shapes += "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(slot * 0.7))\" height=\"\(f(h))\" fill=\"\(stageColours[stage] ?? "#999")\">"
                    + "<title>build #\(build.id ?? 0) \(stage.rawValue): \(String(format: "%.2f", seconds)) s</title></rect>"
            }
            shapes += "<text x=\"\(f(x + slot * 0.35))\" y=\"\(f(height - 8))\" text-anchor=\"middle\" font-size=\"10\">#\(build.id ?? 0)</text>"
        }
        let legend = Stage.allCases.filter { stage in builds.contains { $0.stageSeconds[stage.rawValue] != nil } }.map { stage in
            "<span class=\"swatch\" style=\"background:\(stageColours[stage] ?? "#999")\"></span>\(stage.rawValue)"
        }.joined(separator: " ")
        return svg(shapes, label: "Compose duration by stage for the last \(builds.count) builds") + "<p class=\"legend\">\(legend)</p>"
    }

    /// A line of values, one point per label, oldest first.
    static func line(_ points: [(label: String, value: Double)], unit: String, label: String) -> String {
        guard let top = points.map(\.value).max(), top > 0 else { return "<p>No data yet.</p>" }
        let plotWidth = width - margin.left - margin.right
        let plotHeight = height - margin.top - margin.bottom
        let step = points.count > 1 ? plotWidth / Double(points.count - 1) : 0
        let coordinates = points.enumerated().map { index, point in
            (x: margin.left + Double(index) * step, y: height - margin.bottom - point.value / top * plotHeight, point: point)
        }
        var shapes = axis(top: top, unit: unit)
        shapes += "<polyline fill=\"none\" stroke=\"#2c7be5\" stroke-width=\"2\" points=\"\(coordinates.map { "\(f($0.x)),\(f($0.y))" }.joined(separator: " "))\"/>"
        for c in coordinates {
            shapes += "<circle cx=\"\(f(c.x))\" cy=\"\(f(c.y))\" r=\"3\" fill=\"#2c7be5\"><title>\(HTML.escape(c.point.label)): \(f(c.point.value)) \(unit)</title></circle>"
        }
        return svg(shapes, label: label)
    }

    private static func axis(top: Double, unit: String) -> String {
        let bottom = height - margin.bottom
        return "<line x1=\"\(f(margin.left))\" y1=\"\(f(margin.top))\" x2=\"\(f(margin.left))\" y2=\"\(f(bottom))\" stroke=\"#666\"/>"
            + "<line x1=\"\(f(margin.left))\" y1=\"\(f(bottom))\" x2=\"\(f(width - margin.right))\" y2=\"\(f(bottom))\" stroke=\"#666\"/>"
            + "<text x=\"\(f(margin.left - 4))\" y=\"\(f(margin.top + 10))\" text-anchor=\"end\" font-size=\"10\">\(f(top)) \(unit)</text>"
            + "<text x=\"\(f(margin.left - 4))\" y=\"\(f(bottom))\" text-anchor=\"end\" font-size=\"10\">0</text>"
    }

    private static func svg(_ shapes: String, label: String) -> String {
        "<svg class=\"chart\" viewBox=\"0 0 \(f(width)) \(f(height))\" role=\"img\" aria-label=\"\(HTML.escape(label))\"><title>\(HTML.escape(label))</title>\(shapes)</svg>"
    }

    private static func f(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
    }
}
