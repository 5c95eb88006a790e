import Foundation
import IncidentCore
import TerminalCore

/// `(shown)` or `(shown/all)` when a filter hides rows.
func paneCount(_ state: AppState, _ pane: Pane) -> String {
    switch pane {
    case .servers:
        return state.filters[.servers] == nil ? "(\(state.servers.count))" : "(\(state.servers.count)/\(state.allServers.count))"
    case .hits:
        let shown = state.hitsOfSelectedServer.count
        guard state.filters[.hits] != nil, let server = state.selectedServer else { return "(\(shown))" }
        return "(\(shown)/\(state.hitCount(ofServer: server.name)))"
    case .checklist:
        return ""
    }
}

/// The filter (`/text`) and a sort other than the default (`by name`), for a pane's title.
func paneSuffix(_ state: AppState, _ pane: Pane, ascii: Bool) -> String {
    var parts: [String] = []
    switch pane {
    case .servers: if state.serverSort != .verdict { parts.append("by \(state.serverSort.rawValue)") }
    case .hits: if state.hitSort != .severity { parts.append("by \(state.hitSort.rawValue)") }
    case .checklist: break
    }
    if let f = state.filters[pane] { parts.append("/" + Sanitizer.sanitize(f, ascii: ascii)) }
    return parts.isEmpty ? "" : " " + parts.joined(separator: " ")
}

/// The lines around a hit in its evidence file (detail view), the hit's line marked `▶`; each
/// line sanitised, cut lines say how many bytes were left out.
func addExcerpt(_ state: AppState, hit: Hit, add: (String, Role, Bool) -> Void) {
    guard let excerpt = state.excerpt, excerpt.path == hit.evidence, excerpt.centre == hit.line else {
        add("Reading the lines around line \(hit.line)…", .muted, false)
        return
    }
    add("Around line \(hit.line) of the evidence file:", .header, false)
    if let problem = excerpt.problem { add(problem, .severityMedium, false) }
    for line in excerpt.lines {
        let mark = line.number == hit.line ? "▶" : " "
        let cut = line.droppedBytes > 0 ? " … (\(line.droppedBytes) more bytes)" : ""
        add("\(mark)\(line.number): \(line.text)\(cut)", line.number == hit.line ? .normal : .muted, true)
    }
}

/// A centred yes/no box; the selected button is drawn in the selection role, cancel first.
func drawConfirmation(_ c: Confirmation, into grid: inout CellGrid, _ body: Rect) {
    let width = min(body.width - 4, 72)
    guard width > 20 else { return }
    let innerWidth = width - 4
    var text: [String] = []
    for line in c.lines { text += wrap(line, width: innerWidth) }
    let height = min(body.height - 2, text.count + 5)
    let r = Rect(x: (body.width - width) / 2, y: max(1, (body.height - height) / 2), width: width, height: height)
    grid.fill(r, role: .normal)
    let frameTitle = c.title + (c.confirmSelected ? "" : " (Enter cancels)")
    drawBox(&grid, r, title: frameTitle)
    for (i, line) in text.prefix(max(0, height - 5)).enumerated() {
        grid.put(line, x: r.x + 2, y: r.y + 2 + i, maxWidth: innerWidth, role: .normal)
    }
    let cancel = " Cancel (n) "
    let go = " \(c.confirmLabel) (y) "
    let y = r.maxY - 2
    var x = r.x + 2
    x += grid.put("[", x: x, y: y, role: .normal)
    x += grid.put(cancel, x: x, y: y, role: c.confirmSelected ? .normal : .selection)
    x += grid.put("]  [", x: x, y: y, role: .normal)
    x += grid.put(go, x: x, y: y, maxWidth: r.maxX - 3 - x, role: c.confirmSelected ? .selection : .normal)
    grid.put("]", x: x, y: y, role: .normal)
}

private func drawBox(_ grid: inout CellGrid, _ r: Rect, title: String) {
    guard r.width >= 2, r.height >= 2 else { return }
    for x in (r.x + 1)..<(r.maxX - 1) {
        grid.put("─", x: x, y: r.y, role: .borderFocused)
        grid.put("─", x: x, y: r.maxY - 1, role: .borderFocused)
    }
    for y in (r.y + 1)..<(r.maxY - 1) {
        grid.put("│", x: r.x, y: y, role: .borderFocused)
        grid.put("│", x: r.maxX - 1, y: y, role: .borderFocused)
    }
    grid.put("┌", x: r.x, y: r.y, role: .borderFocused)
    grid.put("┐", x: r.maxX - 1, y: r.y, role: .borderFocused)
    grid.put("└", x: r.x, y: r.maxY - 1, role: .borderFocused)
    grid.put("┘", x: r.maxX - 1, y: r.maxY - 1, role: .borderFocused)
    grid.put(" " + title + " ", x: r.x + 2, y: r.y, maxWidth: r.width - 4, role: .titleFocused)
}

/// The mark of a triage decision in the hits list (nil when untriaged): `✓` confirmed,
/// `?` needs review, `✗` false positive; in ASCII `+`, `?`, `-`.
func triageMark(_ decision: TriageDecision.Decision?, ascii: Bool) -> String? {
    switch decision {
    case .confirmed?: ascii ? "+" : "✓"
    case .needsReview?: "?"
    case .falsePositive?: ascii ? "-" : "✗"
    case .untriaged?, nil: nil
    }
}
