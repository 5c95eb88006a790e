import Foundation
import IncidentCore
import TerminalCore

/// Draws the audit trail view over the whole body (all rows but the status line). Every
/// entry's text comes from the case file and is drawn sanitised.
func drawAuditView(_ state: AppState, into grid: inout CellGrid) {
    guard let view = state.audit else { return }
    let r = Rect(x: 0, y: 0, width: state.size.cols, height: state.size.rows - 1)
    let entries = auditEntries(state)
    let total = state.snapshot?.caseFile.audit.count ?? 0
    var title = "Audit trail: \(entries.count) of \(total), newest first"
    if !view.filter.isEmpty { title += ", filter \"" + Sanitizer.sanitize(view.filter, ascii: grid.ascii) + "\"" }
    title += " (/ filter, Esc close)"
    drawFrame(&grid, r, title: title, focused: true)
    let inner = r.inset(1)
    guard inner.height > 1, inner.width > 10 else { return }
    grid.put("When (UTC)                Who  Action  Field  Before → After", x: inner.x, y: inner.y, maxWidth: inner.width, role: .header)
    let rows = auditVisibleRows(state.size)
    let scroll = min(view.scroll, max(0, entries.count - rows))
    if entries.isEmpty {
        grid.put(total == 0 ? "No changes recorded yet." : "No audit entry matches the filter.", x: inner.x, y: inner.y + 1, maxWidth: inner.width, role: .muted)
    }
    for (i, e) in entries.dropFirst(scroll).prefix(rows).enumerated() {
        let y = inner.y + 1 + i
        guard y < inner.maxY else { break }
        let role: Role = e.action == "evidence.altered" ? .severityHigh : .normal
        grid.putUntrusted(auditLine(e), x: inner.x, y: y, maxWidth: inner.width, role: role)
    }
    if scroll + rows < entries.count {
        let more = " ↓ \(entries.count - scroll - rows) older (j/PgDn) "
        grid.put(more, x: inner.maxX - TextWidth.width(of: more), y: r.maxY - 1, role: .muted)
    }
    if scroll > 0 {
        let up = " ↑ \(scroll) newer "
        grid.put(up, x: inner.x + 1, y: r.maxY - 1, role: .muted)
    }
}
