import Foundation
import IncidentCore
import TerminalCore

// MARK: - Patch and compromise markers

/// One-letter patch marker for the server pane: `V` vulnerable, `M` mitigated, `P` patched, `?` unknown.
func patchMarker(_ p: PatchState) -> String {
    switch p {
    case .vulnerable: "V"
    case .mitigated: "M"
    case .patched: "P"
    case .unknown: "?"
    }
}

/// One-letter compromise marker: `C` compromised, `R` remediated, `I` investigated clean, `?` unknown.
func compromiseMarker(_ c: CompromiseState) -> String {
    switch c {
    case .compromised: "C"
    case .remediated: "R"
    case .investigatedClean: "I"
    case .unknown: "?"
    }
}

func patchRole(_ p: PatchState) -> Role {
    switch p {
    case .vulnerable: .verdictCompromised
    case .mitigated: .verdictProbed
    case .patched: .stepDone
    case .unknown: .muted
    }
}

func compromiseRole(_ c: CompromiseState) -> Role {
    switch c {
    case .compromised: .verdictCompromised
    case .remediated, .investigatedClean: .stepDone
    case .unknown: .muted
    }
}

/// The server's standing in words, e.g. `patch vulnerable (…) · compromise compromised (…)`.
func standingLines(_ s: ServerSummary) -> [(String, Role)] {
    [
        ("Patch: \(s.patchState.rawValue) — \(s.patchReason)", patchRole(s.patchState)),
        ("Compromise: \(s.compromiseState.rawValue) — \(s.compromiseReason)", compromiseRole(s.compromiseState)),
        (s.isDone ? "Done: patched, and \(s.compromiseState.rawValue)."
            : "Not done: a server is done only when patched and investigated-clean or remediated; patching never clears a compromise.",
         s.isDone ? .stepDone : .muted),
    ]
}

/// Servers done (patched and clean or remediated) out of all, for the status bar.
func serversDone(_ summaries: [ServerSummary]) -> String {
    "done \(summaries.filter(\.isDone).count)/\(summaries.count)"
}

/// Why a step is in its state when the evidence set it (the `by` of an automatic change), else nil.
func automaticReason(_ entry: ChecklistEntry?) -> String? {
    guard let entry, entry.by.hasPrefix(Remediation.automaticActor + " (") else { return nil }
    return String(entry.by.dropFirst(Remediation.automaticActor.count + 2).dropLast())
}

// MARK: - The walk-through view

/// The walk-through's lines for its current step, wrapped to `width`.
func walkthroughLines(_ state: AppState, width: Int, ascii: Bool) -> [(String, Role)] {
    var lines: [(String, Role)] = []
    func add(_ text: String, _ role: Role = .normal) {
        for l in wrap(text, width: width) { lines.append((l, role)) }
    }
    guard let w = state.walkthrough, let server = state.walkthroughServer,
          state.playbook.steps.indices.contains(w.stepIndex) else {
        add("No server to walk.", .muted)
        return lines
    }
    let step = state.playbook.steps[w.stepIndex]
    let caseFile = state.snapshot?.caseFile
    let entry = caseFile?.checklists[server.name]?[step.id]
    let st = entry?.state ?? .todo
    let applicable = state.applicableStepIndices(server)
    let position = (applicable.firstIndex(of: w.stepIndex).map { "\($0 + 1) of \(applicable.count)" }) ?? "does not apply"
    for (text, role) in standingLines(server) { add(Sanitizer.sanitize(text, ascii: ascii), role) }
    add("")
    add("\(stepGlyph(st)) Step \(position): \(step.title)", .header)
    if step.applies(verdict: server.verdict, patchState: server.patchState) {
        var who = ""
        if let entry {
            // An automatic change says its reason on the next line.
            let by = automaticReason(entry) == nil ? " by \(Sanitizer.sanitize(entry.by, ascii: ascii))" : ""
            who = " —\(by) at \(Timestamps.iso8601(entry.at))"
        }
        add("State: \(st.rawValue)\(who)", stepRole(st))
    } else {
        add("Does not apply to this server: \(notApplicableMessage(step))", .muted)
    }
    if let reason = automaticReason(entry) { add("Set by the evidence: \(Sanitizer.sanitize(reason, ascii: ascii))", .severityMedium) }
    if let note = entry?.note, !note.isEmpty { add("Note: " + Sanitizer.sanitize(note, ascii: ascii), .muted) }
    if !step.dependsOn.isEmpty {
        let deps = step.dependsOn.map { id -> String in
            let s = caseFile?.stepState(server: server.name, step: id) ?? .todo
            return "\(id) \(stepGlyph(s))"
        }
        add("Depends on: " + deps.joined(separator: ", "), .muted)
    }
    if step.id == "log-coverage", let info = caseFile?.server(named: server.name), let cf = caseFile {
        let start = Timestamps.iso8601(Remediation.exposureWindowStart(for: info, in: cf))
        let end = Remediation.exposureWindowEnd(for: info, in: cf).map(Timestamps.iso8601) ?? "still open"
        add("Exposure window: \(start) → \(end). Logs must reach back to its start.", .severityMedium)
        let events = (state.snapshot?.statuses ?? []).filter { $0.server.lowercased() == server.name.lowercased() }.compactMap(\.firstEvent)
        if let oldest = events.min() {
            let reaches = oldest <= Remediation.exposureWindowStart(for: info, in: cf)
            add("Oldest evidence event: \(Timestamps.iso8601(oldest))" + (reaches ? " (reaches the window start)." : " — after the window start: logs too short."),
                reaches ? .stepDone : .severityHigh)
        } else {
            add("No dated event in this server's evidence yet.", .severityHigh)
        }
    }
    add("")
    add(step.guidance)
    if !step.commands.isEmpty {
        add("Commands:", .header)
        for c in step.commands { add("  " + c) }
    }
    add("Done when: " + step.doneWhen, .muted)
    if !step.sources.isEmpty { add("Sources: " + step.sources.joined(separator: " "), .muted) }
    return lines
}

/// The rectangle of the walk-through view for a screen size.
func walkthroughRect(_ size: Size) -> Rect { Rect(x: 0, y: 0, width: size.cols, height: size.rows - 1) }

/// How far the walk-through's step can scroll (lines beyond one screenful).
func walkthroughMaxScroll(_ state: AppState) -> Int {
    let inner = walkthroughRect(state.size).inset(1)
    guard inner.width > 0 else { return 0 }
    return max(0, walkthroughLines(state, width: inner.width, ascii: false).count - max(0, inner.height - 1))
}

/// Draws the walk-through over the main screen.
func drawWalkthrough(_ state: AppState, into grid: inout CellGrid, _ body: Rect) {
    guard let w = state.walkthrough else { return }
    let r = walkthroughRect(state.size)
    guard r.width >= 20, r.height >= 6 else { return }
    let progress = state.walkthroughServer.map { " \($0.stepsDone)/\($0.stepsApplicable) done" } ?? ""
    let title = "Walk-through: \(Sanitizer.sanitize(w.server, ascii: grid.ascii))\(progress) (Esc to close)"
    // Frame by hand (the frame helper is private to Render.swift): border, title, then content.
    grid.fill(r, role: .normal)
    let h = grid.ascii ? "-" : "─", v = grid.ascii ? "|" : "│"
    for x in (r.x + 1)..<(r.maxX - 1) {
        grid.put(h, x: x, y: r.y, role: .borderFocused)
        grid.put(h, x: x, y: r.maxY - 1, role: .borderFocused)
    }
    for y in (r.y + 1)..<(r.maxY - 1) {
        grid.put(v, x: r.x, y: y, role: .borderFocused)
        grid.put(v, x: r.maxX - 1, y: y, role: .borderFocused)
    }
    for (x, y, c) in [(r.x, r.y, "┌"), (r.maxX - 1, r.y, "┐"), (r.x, r.maxY - 1, "└"), (r.maxX - 1, r.maxY - 1, "┘")] {
        grid.put(grid.ascii ? "+" : c, x: x, y: y, role: .borderFocused)
    }
    grid.put(" " + title + " ", x: r.x + 2, y: r.y, maxWidth: r.width - 4, role: .titleFocused)
    let inner = r.inset(1)
    let hintRow = inner.maxY - 1
    let lines = walkthroughLines(state, width: inner.width, ascii: grid.ascii)
    let room = max(0, inner.height - 1)
    let scroll = min(state.detailScroll, max(0, lines.count - room))
    for (i, line) in lines.dropFirst(scroll).prefix(room).enumerated() {
        grid.put(line.0, x: inner.x, y: inner.y + i, maxWidth: inner.width, role: line.1)
    }
    if scroll + room < lines.count, room > 0 {
        let more = " ↓ \(lines.count - scroll - room) more (PgDn) "
        grid.put(more, x: inner.maxX - TextWidth.width(of: more), y: inner.maxY, role: .muted)
    }
    if scroll > 0 {
        let up = " ↑ \(scroll) above (PgUp) "
        grid.put(up, x: inner.maxX - TextWidth.width(of: up), y: r.y, role: .muted)
    }
    grid.put(Walkthrough.keyHint, x: inner.x, y: hintRow, maxWidth: inner.width, role: .statusKey)
}
