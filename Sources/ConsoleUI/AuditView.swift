import Foundation
import IncidentCore
import TerminalCore

/// The full-screen audit trail view (key `A`): every change to the case, newest first.
///
/// Modal: while it is open it takes every key itself. `j`/`k`/↓/↑ scroll a line, PgDn/PgUp
/// (Ctrl-F/Ctrl-B) a page, `g`/`G` (Home/End) go to the newest/oldest, `/` filters by text
/// (case-insensitive, over time, who, action, field, before, after and note; an empty filter
/// shows all), `Esc` or `q` closes it, Ctrl-L redraws.
public struct AuditViewState: Sendable, Equatable {
    /// First entry shown (0 = newest).
    public var scroll = 0
    /// The text filter; empty shows every entry.
    public var filter = ""

    public init(scroll: Int = 0, filter: String = "") {
        self.scroll = scroll
        self.filter = filter
    }
}

/// One audit entry as the view shows it: one line of text per entry (plain, unsanitised: the
/// renderer sanitises it).
func auditLine(_ e: AuditEntry) -> String {
    var text = Timestamps.iso8601(e.at) + "  " + e.by + "  " + e.action
    if let field = e.field { text += "  " + field }
    switch (e.before, e.after) {
    case let (b?, a?): text += "  " + b + " → " + a
    case let (nil, a?): text += "  → " + a
    case let (b?, nil): text += "  " + b + " →"
    case (nil, nil): break
    }
    if let note = e.note { text += "  note: " + note }
    return text
}

/// The audit entries the view shows for a filter, newest first.
func auditEntries(_ state: AppState) -> [AuditEntry] {
    let all = state.snapshot?.caseFile.audit ?? []
    let filter = state.audit?.filter.lowercased() ?? ""
    var out: [AuditEntry] = []
    out.reserveCapacity(all.count)
    for e in all.reversed() where filter.isEmpty || auditLine(e).lowercased().contains(filter) { out.append(e) }
    return out
}

/// Rows of the audit list on screen (the body less the frame and the column header).
func auditVisibleRows(_ size: Size) -> Int { max(1, size.rows - 1 - 3) }

/// Handles a key while the audit view is open.
func updateAuditView(_ state: inout AppState, _ key: Key) -> [Effect] {
    guard var view = state.audit else { return [] }
    let count = auditEntries(state).count
    let page = auditVisibleRows(state.size)
    let maxScroll = max(0, count - page)
    func scroll(_ value: Int) { view.scroll = min(max(0, value), maxScroll) }
    switch key {
    case .escape, .character("q"), .character("A"):
        state.audit = nil
        return []
    case .character("j"), .down: scroll(view.scroll + 1)
    case .character("k"), .up: scroll(view.scroll - 1)
    case .pageDown, .ctrl("f"), .character(" "): scroll(view.scroll + page)
    case .pageUp, .ctrl("b"): scroll(view.scroll - page)
    case .character("g"), .home: scroll(0)
    case .character("G"), .end: scroll(maxScroll)
    case .ctrl("l"): state.needsFullRedraw = true
    case .character("/"):
        state.prompt = ActivePrompt(label: "audit filter:", text: view.filter, purpose: .auditFilter)
    default: break
    }
    state.audit = view
    return []
}

/// Applies a submitted audit filter.
func submitAuditFilter(_ text: String, _ state: inout AppState) -> [Effect] {
    guard state.audit != nil else { return [] }
    state.audit?.filter = text.trimmingCharacters(in: .whitespaces)
    state.audit?.scroll = 0
    return []
}
