import Foundation
import IncidentCore
import TerminalCore

/// The smallest screen the console lays out (columns × rows).
public let minimumSize = Size(cols: 60, rows: 16)

/// Draws the whole screen for a state into a new grid. Pure: the same state gives the same grid.
/// - Parameters:
///   - ascii: draw ASCII only (borders `+-|`, escapes in caret notation, `?` for other text).
/// - Returns: a grid of `state.size` cells; below ``minimumSize`` it holds only the
///   "terminal too small" message.
public func render(_ state: AppState, ascii: Bool = false) -> CellGrid {
    var grid = CellGrid(size: state.size, ascii: ascii)
    let size = state.size
    guard size.cols > 0, size.rows > 0 else { return grid }
    if size.cols < minimumSize.cols || size.rows < minimumSize.rows {
        let by = ascii ? "x" : "×"
        let message = "terminal too small: have \(size.cols)\(by)\(size.rows), need \(minimumSize.cols)\(by)\(minimumSize.rows)"
        let lines = wrap(message, width: size.cols)
        for (i, line) in lines.enumerated() where i < size.rows {
            grid.put(line, x: 0, y: i, role: .statusAlert)
        }
        return grid
    }
    let body = Rect(x: 0, y: 0, width: size.cols, height: size.rows - 1)
    let (serversRect, hitsRect, checklistRect, detailRect) = paneRects(size)

    // While the selection moves, the panes that follow it wait for it to settle (see
    // ``AppState/settledSelection``): one keystroke then redraws two list rows, not the screen.
    let shown = state.settledView()
    drawServers(state.focus == .servers ? state : shown, into: &grid, serversRect)
    drawHits(state.focus == .hits ? state : shown, into: &grid, hitsRect)
    drawChecklist(state.focus == .checklist ? state : shown, into: &grid, checklistRect)
    drawDetail(shown, into: &grid, detailRect, title: "Detail")
    if state.showDetail {
        drawDetail(state, into: &grid, detailOverlayRect(size), title: "Detail (Enter or Esc to close)", overlay: true)
    }
    if state.walkthrough != nil { drawWalkthrough(state, into: &grid, body) }
    if state.showHelp { drawHelp(state, into: &grid, body) }
    if state.audit != nil { drawAuditView(state, into: &grid) }
    if let confirmation = state.confirmation { drawConfirmation(confirmation, into: &grid, body) }
    if let prompt = state.prompt {
        drawPrompt(label: prompt.label, editor: prompt.editor, into: &grid, y: size.rows - 1)
    } else {
        drawStatus(state, into: &grid, y: size.rows - 1)
    }
    return grid
}

// MARK: - Frames

func drawFrame(_ grid: inout CellGrid, _ r: Rect, title: String, focused: Bool) {
    guard r.width >= 2, r.height >= 2 else { return }
    let role: Role = focused ? .borderFocused : .border
    grid.fill(r, role: .normal)
    for x in (r.x + 1)..<(r.maxX - 1) {
        grid.put("─", x: x, y: r.y, role: role)
        grid.put("─", x: x, y: r.maxY - 1, role: role)
    }
    for y in (r.y + 1)..<(r.maxY - 1) {
        grid.put("│", x: r.x, y: y, role: role)
        grid.put("│", x: r.maxX - 1, y: y, role: role)
    }
    grid.put("┌", x: r.x, y: r.y, role: role)
    grid.put("┐", x: r.maxX - 1, y: r.y, role: role)
    grid.put("└", x: r.x, y: r.maxY - 1, role: role)
    grid.put("┘", x: r.maxX - 1, y: r.maxY - 1, role: role)
    let label = " " + title + (focused ? " ●" : "") + " "
    grid.put(label, x: r.x + 2, y: r.y, maxWidth: r.width - 4, role: focused ? .titleFocused : .title)
}

/// The four panes of the main screen at a size (at least ``minimumSize``).
func paneRects(_ size: Size) -> (servers: Rect, hits: Rect, checklist: Rect, detail: Rect) {
    let bodyHeight = size.rows - 1
    let leftWidth = size.cols >= 80 ? min(max(37, size.cols * 2 / 5), 48) : max(28, size.cols / 2 - 2)
    let serversHeight = max(6, bodyHeight * 2 / 5)
    let rightWidth = size.cols - leftWidth
    let hitsHeight = max(6, bodyHeight / 2)
    return (Rect(x: 0, y: 0, width: leftWidth, height: serversHeight),
            Rect(x: leftWidth, y: 0, width: rightWidth, height: hitsHeight),
            Rect(x: 0, y: serversHeight, width: leftWidth, height: bodyHeight - serversHeight),
            Rect(x: leftWidth, y: hitsHeight, width: rightWidth, height: bodyHeight - hitsHeight))
}

/// Rows a list pane shows at a size (below its header and notes).
func visibleRows(_ pane: Pane, _ state: AppState) -> Int {
    let rects = paneRects(state.size)
    switch pane {
    case .servers: return max(0, rects.servers.inset(1).height - 1 - (state.orphanItems > 0 ? 1 : 0))
    case .hits: return max(0, rects.hits.inset(1).height - 1)
    case .checklist: return max(0, rects.checklist.inset(1).height)
    }
}

/// First visible row: the previous one while `selected` is inside the window (moving the
/// selection then redraws two rows, not the list); when it leaves, the window jumps half a page
/// so the selection is in the middle (one list redraw per half page, not one per row).
func scrollTop(previous: Int, selected: Int, count: Int, visible: Int) -> Int {
    guard visible > 0, count > visible else { return 0 }
    var top = min(max(0, previous), count - visible)
    if selected < top || selected >= top + visible { top = selected - visible / 2 }
    return max(0, min(top, count - visible))
}

private func scrollOffset(_ state: AppState, _ pane: Pane, selected: Int, count: Int, visible: Int) -> Int {
    scrollTop(previous: state.viewTop[pane] ?? 0, selected: selected, count: count, visible: visible)
}

private func selectionRole(_ state: AppState, _ pane: Pane) -> Role {
    state.focus == pane && !state.showHelp && !state.showDetail ? .selection : .selectionInactive
}

// MARK: - Servers

func verdictRole(_ v: Verdict) -> Role {
    switch v {
    case .compromised: .verdictCompromised
    case .exploited: .verdictExploited
    case .probed: .verdictProbed
    case .noFindings: .verdictNoFindings
    case .notAssessed, .insufficientCoverage: .verdictNotAssessed
    }
}

func severityRole(_ s: Severity) -> Role {
    switch s {
    case .critical: .severityCritical
    case .high: .severityHigh
    case .medium: .severityMedium
    case .low: .severityLow
    case .info: .severityInfo
    }
}

private func drawServers(_ state: AppState, into grid: inout CellGrid, _ r: Rect) {
    let servers = state.servers
    drawFrame(&grid, r, title: "\(Pane.servers.title) \(paneCount(state, .servers))\(paneSuffix(state, .servers, ascii: grid.ascii))", focused: state.focus == .servers)
    let inner = r.inset(1)
    guard inner.height > 1, inner.width > 10 else { return }
    // The steps column gives way first on narrow screens (the checklist title shows progress too).
    let showSteps = inner.width >= 34
    // Patch and compromise markers (see patchMarker/compromiseMarker), from 30 columns.
    let showMarks = inner.width >= 30
    let verdictW = 12, hitsW = 4, stepsW = showSteps ? 5 : 0, marksW = showMarks ? 2 : 0
    let nameW = max(4, inner.width - verdictW - hitsW - stepsW - marksW - (showSteps ? 3 : 2) - (showMarks ? 1 : 0))
    let header = TextWidth.pad("Server", to: nameW) + " " + TextWidth.pad("Verdict", to: verdictW) + " "
        + (showMarks ? "PC " : "") + leftPad("Hits", hitsW)
        + (showSteps ? " " + leftPad("Steps", stepsW) : "")
    grid.put(header, x: inner.x, y: inner.y, maxWidth: inner.width, role: .header)
    let visible = inner.height - 1
    if state.snapshot == nil {
        grid.put("scanning evidence…", x: inner.x, y: inner.y + 1, maxWidth: inner.width, role: .muted)
        return
    }
    // Items under evidence/ that belong to no server would otherwise never be seen here.
    let orphans = state.orphanItems
    let rows = orphans > 0 ? max(0, visible - 1) : visible
    if orphans > 0, visible > 0 {
        grid.put("\(orphans) item(s) in evidence/ unread (no server)", x: inner.x, y: inner.maxY - 1, maxWidth: inner.width, role: .severityMedium)
    }
    if servers.isEmpty, !state.allServers.isEmpty {
        grid.put("no server matches the filter (Esc clears it)", x: inner.x, y: inner.y + 1, maxWidth: inner.width, role: .muted)
        return
    }
    if servers.isEmpty {
        let lines = wrap("No servers yet. Put evidence under <case>/evidence/<server-name>/ and it is picked up within seconds.", width: inner.width)
        for (i, l) in lines.prefix(rows).enumerated() { grid.put(l, x: inner.x, y: inner.y + 1 + i, role: .muted) }
        return
    }
    let top = scrollOffset(state, .servers, selected: state.serverIndex, count: servers.count, visible: rows)
    for row in 0..<rows {
        let i = top + row
        guard i < servers.count else { break }
        let s = servers[i]
        let y = inner.y + 1 + row
        let selected = i == state.serverIndex
        if selected { grid.fill(Rect(x: inner.x, y: y, width: inner.width, height: 1), role: selectionRole(state, .servers)) }
        let base: Role = selected ? selectionRole(state, .servers) : .normal
        var x = inner.x
        x += grid.putUntrusted(TextWidth.truncate(s.name, to: nameW), x: x, y: y, maxWidth: nameW, role: base)
        x = inner.x + nameW + 1
        let scanned = (state.snapshot?.scanPasses ?? 0) > 0
        let verdictText = scanned ? (s.verdict == .insufficientCoverage ? "insufficient" : s.verdict.rawValue) : "scanning…"
        grid.put(TextWidth.pad(verdictText, to: verdictW), x: x, y: y, role: selected ? base : (scanned ? verdictRole(s.verdict) : .muted))
        x += verdictW + 1
        if showMarks {
            grid.put(patchMarker(s.patchState), x: x, y: y, role: selected ? base : patchRole(s.patchState))
            grid.put(compromiseMarker(s.compromiseState), x: x + 1, y: y, role: selected ? base : compromiseRole(s.compromiseState))
            x += marksW + 1
        }
        grid.put(leftPad(compactCount(s.hits), hitsW), x: x, y: y, role: base)
        x += hitsW + 1
        if showSteps {
            grid.put(leftPad("\(s.stepsDone)/\(s.stepsApplicable)", stepsW), x: x, y: y, maxWidth: stepsW, role: base)
        }
    }
}

// MARK: - Hits

private func drawHits(_ state: AppState, into grid: inout CellGrid, _ r: Rect) {
    let hits = state.hitsOfSelectedServer
    let serverName = state.selectedServer?.name ?? "-"
    drawFrame(&grid, r, title: "\(Pane.hits.title): \(Sanitizer.sanitize(serverName, ascii: grid.ascii)) \(paneCount(state, .hits))\(paneSuffix(state, .hits, ascii: grid.ascii))", focused: state.focus == .hits)
    let inner = r.inset(1)
    guard inner.height > 1, inner.width > 10 else { return }
    let showStage = inner.width >= 64
    // The rule column fits the longest rule id in view (imported packs and YARA rules have long
    // ids), up to a quarter of the pane; built-in ids take 7 cells.
    let topForWidth = scrollOffset(state, .hits, selected: state.hitIndex, count: hits.count, visible: max(1, inner.height - 1))
    let inView = hits.dropFirst(topForWidth).prefix(max(1, inner.height - 1))
    let longest = inView.map { TextWidth.width(of: Sanitizer.sanitize($0.indicator, ascii: grid.ascii)) }.max() ?? 7
    let ruleWidth = min(max(7, longest), max(7, inner.width / 4))
    let header = "Sev  Time (UTC)  " + TextWidth.pad("Rule", to: ruleWidth + 1) + (showStage ? "Stage          " : "") + "Value"
    grid.put(header, x: inner.x, y: inner.y, maxWidth: inner.width, role: .header)
    let visible = inner.height - 1
    guard let summary = state.selectedServer else {
        if state.snapshot != nil { grid.put("no server selected", x: inner.x, y: inner.y + 1, maxWidth: inner.width, role: .muted) }
        return
    }
    if hits.isEmpty, state.filters[.hits] != nil, state.hitCount(ofServer: summary.name) > 0 {
        grid.put("no hit of this server matches the filter (Esc clears it)", x: inner.x, y: inner.y + 1, maxWidth: inner.width, role: .muted)
        return
    }
    if hits.isEmpty {
        let text: String
        switch (state.snapshot?.scanPasses ?? 0) == 0 ? nil : summary.verdict {
        case nil:
            text = "Scanning this server's evidence…"
        case .notAssessed?:
            text = summary.evidenceFiles == 0
                ? "No evidence for this server: not assessed."
                : "No evidence file of this server was in a known format: not assessed."
        case .insufficientCoverage?:
            text = "No indicator hits in \(summary.checkedFiles) checked evidence file(s), but the evidence does not cover every required check back to the exposure window start: not clean (Enter for the checks)."
        default:
            text = "No indicator hits in \(summary.checkedFiles) checked evidence file(s)."
        }
        for (i, l) in wrap(text, width: inner.width).prefix(visible).enumerated() {
            grid.put(l, x: inner.x, y: inner.y + 1 + i, role: .muted)
        }
        return
    }
    let top = scrollOffset(state, .hits, selected: state.hitIndex, count: hits.count, visible: visible)
    let altered = state.snapshot?.alteredEvidence ?? []
    for row in 0..<visible {
        let i = top + row
        guard i < hits.count else { break }
        let hit = hits[i]
        let y = inner.y + 1 + row
        let selected = i == state.hitIndex
        let base: Role = selected ? selectionRole(state, .hits) : .normal
        if selected { grid.fill(Rect(x: inner.x, y: y, width: inner.width, height: 1), role: base) }
        let fp = state.triageByHit[hit.id]?.decision == .falsePositive
        var x = inner.x
        // The severity keeps its colour on the selected row too: moving the selection then
        // rewrites only the rest of the two rows (fewer bytes over a slow link).
        grid.put(severityLabel(hit.severity), x: x, y: y, role: fp ? .muted : severityRole(hit.severity))
        x += 5
        grid.put(hit.time.map(shortTime) ?? "-", x: x, y: y, maxWidth: 11, role: base)
        x += 12
        grid.put(TextWidth.truncate(Sanitizer.sanitize(hit.indicator, ascii: grid.ascii), to: ruleWidth), x: x, y: y, maxWidth: ruleWidth, role: base)
        x += ruleWidth + 1
        if showStage {
            grid.put(hit.stage.rawValue, x: x, y: y, maxWidth: 14, role: base)
            x += 15
        }
        // A triaged hit says so before its value: ✓ confirmed, ? needs review, ✗ false positive.
        if let mark = triageMark(state.triageByHit[hit.id]?.decision, ascii: grid.ascii), inner.maxX - x > 4 {
            x += grid.put(mark + " ", x: x, y: y, role: base)
        }
        if altered.contains(hit.evidence), inner.maxX - x > 8 {
            // A hit from evidence that changed after intake.
            x += grid.put("ALTERED ", x: x, y: y, role: selected ? base : .severityHigh)
        }
        let remaining = inner.maxX - x
        if remaining > 0 {
            grid.putUntrusted(hit.value, x: x, y: y, maxWidth: remaining, role: base)
        }
    }
}

func severityLabel(_ s: Severity) -> String {
    switch s {
    case .critical: "CRIT"
    case .high: "HIGH"
    case .medium: "MED"
    case .low: "LOW"
    case .info: "INFO"
    }
}

private func shortTime(_ d: Date) -> String {
    let iso = Timestamps.iso8601(d) // 2021-03-03T06:49:42.162Z
    let chars = Array(iso)
    guard chars.count >= 16 else { return iso }
    return String(chars[5..<10]) + " " + String(chars[11..<16])
}

// MARK: - Checklist

func stepGlyph(_ s: StepState) -> String {
    switch s {
    case .todo: "[ ]"
    case .inProgress: "[~]"
    case .done: "[x]"
    case .blocked: "[!]"
    case .notApplicable: "[-]"
    }
}

func stepRole(_ s: StepState) -> Role {
    switch s {
    case .todo: .stepTodo
    case .inProgress: .stepInProgress
    case .done: .stepDone
    case .blocked: .stepBlocked
    case .notApplicable: .stepNotApplicable
    }
}

private func drawChecklist(_ state: AppState, into grid: inout CellGrid, _ r: Rect) {
    let server = state.selectedServer
    let progress = server.map { " \($0.stepsDone)/\($0.stepsApplicable)" } ?? ""
    drawFrame(&grid, r, title: "Checklist\(progress)", focused: state.focus == .checklist)
    let inner = r.inset(1)
    guard inner.height > 0, inner.width > 8 else { return }
    guard let server, let caseFile = state.snapshot?.caseFile else {
        grid.put("select a server", x: inner.x, y: inner.y, maxWidth: inner.width, role: .muted)
        return
    }
    let steps = state.playbook.steps
    let top = scrollOffset(state, .checklist, selected: state.stepIndex, count: steps.count, visible: inner.height)
    for row in 0..<inner.height {
        let i = top + row
        guard i < steps.count else { break }
        let step = steps[i]
        let y = inner.y + row
        let applies = step.applies(verdict: server.verdict, patchState: server.patchState)
        let st = caseFile.stepState(server: server.name, step: step.id)
        let selected = i == state.stepIndex
        let base: Role = selected ? selectionRole(state, .checklist) : .normal
        if selected { grid.fill(Rect(x: inner.x, y: y, width: inner.width, height: 1), role: base) }
        let glyph = applies ? stepGlyph(st) : " - "
        grid.put(glyph, x: inner.x, y: y, role: selected ? base : (applies ? stepRole(st) : .muted))
        let label = String(format: "%2d %@", i + 1, step.title)
        grid.put(label, x: inner.x + 4, y: y, maxWidth: inner.width - 4, role: selected ? base : (applies ? .normal : .muted))
    }
}

// MARK: - Detail

/// The rectangle of the full-screen detail view.
func detailOverlayRect(_ size: Size) -> Rect { Rect(x: 2, y: 1, width: size.cols - 4, height: size.rows - 3) }

/// How far the detail view can scroll at this size (lines beyond one screenful).
func detailMaxScroll(_ state: AppState, ascii: Bool = false) -> Int {
    let inner = detailOverlayRect(state.size).inset(1)
    guard inner.height > 0, inner.width > 8 else { return 0 }
    return max(0, detailLines(state, width: inner.width, ascii: ascii).count - inner.height)
}

/// The detail content for the focused pane, wrapped to `width`: text, role, and whether it came
/// from evidence (drawn with escapes highlighted).
/// - Parameter maxLines: stop after this many lines (the small pane needs only its height, so a
///   64 KiB evidence line is not wrapped on every frame).
func detailLines(_ state: AppState, width: Int, ascii: Bool, maxLines: Int = .max) -> [(String, Role, Bool)] {
    var lines: [(String, Role, Bool)] = []
    func add(_ text: String, _ role: Role = .normal, untrusted: Bool = false) {
        guard lines.count < maxLines else { return }
        let remaining = maxLines - lines.count
        let budget = (min(remaining, 100_000) + 1) * max(1, width)
        let source = remaining < 100_000 && text.utf8.count > budget ? String(text.prefix(budget)) : text
        for l in wrap(untrusted ? Sanitizer.sanitize(source, ascii: ascii) : source, width: width) where lines.count < maxLines {
            lines.append((l, role, untrusted))
        }
    }
    if state.focus == .checklist, let step = state.selectedStep {
        let server = state.selectedServer
        add(step.title, .header)
        if let server, let cf = state.snapshot?.caseFile {
            let st = cf.stepState(server: server.name, step: step.id)
            var who = ""
            if let e = cf.checklists[server.name]?[step.id] { who = " by \(e.by) at \(Timestamps.iso8601(e.at))" }
            add("State: \(step.applies(verdict: server.verdict, patchState: server.patchState) ? st.rawValue : "does not apply (\(notApplicableMessage(step)))")\(who)", .muted, untrusted: true)
            let entry = cf.checklists[server.name]?[step.id]
            if let reason = automaticReason(entry) { add("Set by the evidence: " + reason, .severityMedium, untrusted: true) }
            if let note = entry?.note, !note.isEmpty { add("Note: " + note, .muted, untrusted: true) }
        }
        add(step.guidance)
        if !step.commands.isEmpty {
            add("Commands:", .header)
            for c in step.commands { add("  " + c) }
        }
        add("Done when: " + step.doneWhen, .muted)
    } else if state.focus == .hits, let hit = state.selectedHit {
        let indicator = state.indicatorTitles[hit.indicator] ?? hit.indicator
        add("\(severityLabel(hit.severity)) \(hit.indicator) \(indicator)", severityRole(hit.severity))
        add("\(hit.stage.rawValue) · \(hit.cve ?? "-") · \(hit.time.map(Timestamps.iso8601) ?? "no time")", .muted)
        add("Evidence: \(hit.evidence):\(hit.line)", .normal, untrusted: true)
        if let record = state.snapshot?.caseFile.evidence.first(where: { $0.path == hit.evidence }), let change = record.altered {
            add("ALTERED EVIDENCE: this file changed after intake (\(change.reason)); this hit comes from altered evidence", .severityHigh, untrusted: true)
        }
        if let ip = hit.clientIP { add("Client: \(ip)", .normal, untrusted: true) }
        if let t = state.triageByHit[hit.id], t.decision != .untriaged {
            add("Triage: \(t.decision.rawValue) by \(t.by)\(t.note.isEmpty ? "" : ": " + t.note)", .muted, untrusted: true)
        }
        add("\(hit.field) = \(hit.value)", .normal, untrusted: true)
        add("Line \(hit.line):", .header)
        add(hit.rawLine, .normal, untrusted: true)
        if state.showDetail { addExcerpt(state, hit: hit, add: add) }
    } else if let server = state.selectedServer {
        let scanned = (state.snapshot?.scanPasses ?? 0) > 0
        add("\(server.name): \(scanned ? server.verdict.rawValue : "scanning…")", scanned ? verdictRole(server.verdict) : .muted, untrusted: true)
        if let info = state.serverRecords[server.name.lowercased()] {
            let facing = info.internetFacing.map { $0 ? "internet-facing" : "internal" } ?? "internet-facing: not recorded"
            add("\(info.fqdn ?? "FQDN unknown") · \(info.role ?? "role unknown") · build \(info.exchangeBuild ?? "unknown") · \(facing)", .muted, untrusted: true)
        }
        let bySeverity = Severity.allCases.reversed().compactMap { sev in server.bySeverity[sev].map { "\($0) \(sev.rawValue)" } }
        add("\(server.hits) hit(s)\(bySeverity.isEmpty ? "" : ": " + bySeverity.joined(separator: ", ")) · checklist \(server.stepsDone)/\(server.stepsApplicable)")
        if scanned { for (text, role) in standingLines(server) { add(text, role, untrusted: true) } }
        for (text, role) in coverageAndChainLines(server) { add(text, role, untrusted: true) }
        add("\(server.evidenceFiles) evidence file(s), \(server.checkedFiles) read as a known format:", .muted)
        for missing in state.missingByServer[server.name.lowercased()] ?? [] {
            add("\(missing.path) [registered, now missing from the evidence folder]", .severityMedium, untrusted: true)
        }
        let alteredRecords = Dictionary((state.snapshot?.caseFile.evidence ?? []).compactMap { e in e.altered.map { (e.path, $0) } }, uniquingKeysWith: { a, _ in a })
        for status in state.statusesByServer[server.name.lowercased()] ?? [] {
            let fmt = status.format?.label ?? "not checked"
            if let change = alteredRecords[status.path] {
                add("\(status.path) [\(fmt)] [ALTERED after intake: \(change.reason)]", .severityHigh, untrusted: true)
                continue
            }
            add("\(status.path) [\(fmt)] \(status.warnings.joined(separator: "; "))", status.checked ? .normal : .severityMedium, untrusted: true)
        }
        for notice in state.snapshot?.evidenceNotices ?? [] where notice.server.lowercased() == server.name.lowercased() {
            add("\(notice.relativePath): \(notice.message)", .severityMedium, untrusted: true)
        }
    } else {
        add("Nothing selected.", .muted)
    }
    return lines
}

private func drawDetail(_ state: AppState, into grid: inout CellGrid, _ r: Rect, title: String, overlay: Bool = false) {
    drawFrame(&grid, r, title: title, focused: overlay)
    let inner = r.inset(1)
    guard inner.height > 0, inner.width > 8 else { return }
    let width = inner.width
    let lines = detailLines(state, width: width, ascii: grid.ascii, maxLines: overlay ? .max : inner.height + 1)
    // The overlay scrolls; the small pane always shows the top.
    let maxScroll = max(0, lines.count - inner.height)
    let scroll = overlay ? min(state.detailScroll, maxScroll) : 0
    for (i, line) in lines.dropFirst(scroll).prefix(inner.height).enumerated() {
        if line.2 {
            // Already sanitised; escapes show in the escaped role.
            grid.putUntrusted(line.0, x: inner.x, y: inner.y + i, maxWidth: width, role: line.1)
            recolorEscapes(&grid, x: inner.x, y: inner.y + i, width: width)
        } else {
            grid.put(line.0, x: inner.x, y: inner.y + i, maxWidth: width, role: line.1)
        }
    }
    if scroll + inner.height < lines.count, inner.height > 0 {
        let more = overlay ? " ↓ \(lines.count - scroll - inner.height) more (j/PgDn) " : "…"
        grid.put(more, x: inner.maxX - TextWidth.width(of: more), y: inner.maxY, role: .muted)
    }
    if scroll > 0 {
        let up = " ↑ \(scroll) above "
        grid.put(up, x: inner.maxX - TextWidth.width(of: up), y: inner.y - 1, role: .muted)
    }
}

/// Gives Control Pictures and `<U+…>`/`<9B>` escapes produced by the sanitiser the escaped role.
private func recolorEscapes(_ grid: inout CellGrid, x: Int, y: Int, width: Int) {
    var col = x
    while col < min(grid.size.cols, x + width) {
        let ch = grid[col, y].ch
        if let v = ch.unicodeScalars.first?.value, (0x2400...0x2421).contains(v) {
            grid[col, y].role = .escaped
        }
        if ch == "<" {
            var end = col + 1
            var token = ""
            while end < min(grid.size.cols, col + 10), grid[end, y].ch != ">" { token.append(grid[end, y].ch); end += 1 }
            if end < grid.size.cols, grid[end, y].ch == ">", token.hasPrefix("U+") || (token.count == 2 && UInt8(token, radix: 16) != nil) {
                for c in col...end { grid[c, y].role = .escaped }
                col = end
            }
        }
        col += 1
    }
}

// MARK: - Help and status

/// The help box: where it goes and how many key rows it has room for.
private func helpLayout(_ state: AppState, _ body: Rect) -> (rect: Rect, rows: Int) {
    let count = helpBindings(state).count
    let width = min(body.width - 4, 76)
    let height = min(body.height - 1, count + 4)
    let r = Rect(x: (body.width - width) / 2, y: 1, width: width, height: height)
    // One line under the keys for the note.
    return (r, max(0, r.height - 2 - 1))
}

private func helpBindings(_ state: AppState) -> [KeyBinding] {
    KeyMap.bindings.filter { !(state.readOnly && $0.writes) }
}

private func helpBody(_ state: AppState) -> Rect { Rect(x: 0, y: 0, width: state.size.cols, height: state.size.rows - 1) }

/// Key rows the help view shows at once.
func helpVisibleRows(_ state: AppState) -> Int { helpLayout(state, helpBody(state)).rows }

/// How far the help view scrolls: 0 when every key fits.
func helpMaxScroll(_ state: AppState) -> Int { max(0, helpBindings(state).count - helpVisibleRows(state)) }

private func drawHelp(_ state: AppState, into grid: inout CellGrid, _ body: Rect) {
    let bindings = helpBindings(state)
    let (r, rows) = helpLayout(state, body)
    drawFrame(&grid, r, title: "Keys (? or Esc to close)", focused: true)
    let inner = r.inset(1)
    guard inner.height > 0 else { return }
    // Every binding when they fit; otherwise a window of them that j/k and PgUp/PgDn scroll.
    let start = min(state.helpScroll, helpMaxScroll(state))
    let shown = Array(bindings.dropFirst(start).prefix(rows))
    for (i, b) in shown.enumerated() {
        grid.put(TextWidth.pad(b.keyLabel, to: 11), x: inner.x + 1, y: inner.y + i, role: .statusKey)
        grid.put(b.help, x: inner.x + 13, y: inner.y + i, maxWidth: inner.width - 14, role: .help)
    }
    let note: String
    if shown.count < bindings.count {
        note = "keys \(start + 1)–\(start + shown.count) of \(bindings.count): j/k or PgUp/PgDn for the rest"
    } else {
        note = state.readOnly ? "read-only review: keys that write are not bound" : "every change is saved to case.json at once"
    }
    grid.put(note, x: inner.x + 1, y: inner.maxY - 1, maxWidth: inner.width - 2, role: .muted)
}

private func drawStatus(_ state: AppState, into grid: inout CellGrid, y: Int) {
    grid.fill(Rect(x: 0, y: y, width: state.size.cols, height: 1), role: .statusBar)
    var parts: [String] = []
    if let snap = state.snapshot, let last = snap.lastScan {
        let iso = Timestamps.iso8601(last)
        let t = Array(iso)
        parts.append("rescan \(t.count >= 19 ? String(t[11..<19]) : iso)Z")
    } else {
        parts.append("scanning…")
    }
    parts.append("\(state.newHits) new")
    if state.snapshot != nil {
        parts.append("steps \(state.stepsDoneTotal)/\(state.stepsApplicableTotal)")
        parts.append(serversDone(state.snapshot!.summaries))
    }
    if state.readOnly { parts.append("READ-ONLY") }
    if let altered = state.snapshot?.alteredEvidence.count, altered > 0 { parts.append("\(altered) ALTERED") }
    let cols = state.size.cols
    let hintChoices = ["Tab pane  j/k move  Enter detail  Space step  ? help  q quit", "? help  q quit"]
    let rest = " │ " + parts.joined(separator: " │ ") + " "
    // The case name gives way first, so the scan time, counts and key hints stay visible.
    let hints = hintChoices.first { TextWidth.width(of: $0) + TextWidth.width(of: rest) + 12 <= cols } ?? hintChoices[1]
    let messageWidth = state.message.map { TextWidth.width(of: $0) + 2 } ?? 0
    // A message (a notice, a refusal) must be readable: the case name and the hints give way to it.
    let nameRoom = max(6, cols - TextWidth.width(of: rest) - (messageWidth > 0 ? messageWidth : TextWidth.width(of: hints)) - 3)
    if let alert = state.snapshot?.saveError {
        // A failed save takes the whole bar: the reason must be readable.
        // A message shares the bar at its right, the alert's text cut with an ellipsis before it.
        let message = state.message.map { " " + $0 + " " } ?? ""
        let w = min(max(0, cols - 24), TextWidth.width(of: message))
        let alertText = " SAVE FAILED: " + Sanitizer.sanitize(alert, ascii: grid.ascii)
        grid.put(TextWidth.truncate(alertText, to: cols - w - (w > 0 ? 1 : 0)), x: 0, y: y, maxWidth: cols - w, role: .statusAlert)
        if w > 0 {
            grid.put(TextWidth.truncate(message, to: w), x: cols - w, y: y, maxWidth: w, role: .statusKey)
        }
        return
    }
    if let message = state.message {
        // A message (cleared by the next key) must be read whole: it takes the counts' place.
        let room = max(6, cols - TextWidth.width(of: message) - 6)
        let name = TextWidth.truncate(Sanitizer.sanitize(state.caseName, ascii: grid.ascii), to: min(nameRoom, room))
        var x = grid.put(" " + name + " │", x: 0, y: y, role: .statusBar)
        x += grid.put(" " + message + " ", x: x, y: y, role: .statusAlert)
        let hw = TextWidth.width(of: hintChoices[1])
        if cols - x > hw + 1 { grid.put(hintChoices[1], x: cols - hw - 1, y: y, role: .statusKey) }
        return
    }
    let name = TextWidth.truncate(Sanitizer.sanitize(state.caseName, ascii: grid.ascii), to: nameRoom)
    let x = grid.put(" " + name + rest, x: 0, y: y, role: .statusBar)
    let hw = TextWidth.width(of: hints)
    if cols - x > hw + 1 {
        grid.put(hints, x: cols - hw - 1, y: y, role: .statusKey)
    }
}

// MARK: - Text helpers

/// Splits text into lines of at most `width` columns, breaking at spaces where it can.
func wrap(_ text: String, width: Int) -> [String] {
    guard width > 0 else { return [] }
    var lines: [String] = []
    var current = ""
    var currentWidth = 0
    var lastSpaceIndex: String.Index? = nil
    for ch in text {
        if ch == "\n" {
            lines.append(current)
            current = ""
            currentWidth = 0
            lastSpaceIndex = nil
            continue
        }
        let w = TextWidth.width(of: ch)
        if currentWidth + w > width, ch == " " {
            // The line is full exactly where a space falls: break there and drop the space.
            lines.append(current)
            current = ""
            currentWidth = 0
            lastSpaceIndex = nil
            continue
        }
        if currentWidth + w > width {
            if let space = lastSpaceIndex, space > current.startIndex {
                let head = String(current[..<space])
                let tail = String(current[current.index(after: space)...])
                lines.append(head)
                current = tail
                currentWidth = TextWidth.width(of: tail)
            } else {
                lines.append(current)
                current = ""
                currentWidth = 0
            }
            lastSpaceIndex = nil
        }
        if ch == " " { lastSpaceIndex = current.endIndex }
        current.append(ch)
        currentWidth += w
    }
    if !current.isEmpty || lines.isEmpty { lines.append(current) }
    return lines
}

/// A count in at most four columns: 9999, then 10k … 999k, then 1M ….
func compactCount(_ n: Int) -> String {
    if n < 10_000 { return "\(n)" }
    if n < 1_000_000 { return "\(n / 1000)k" }
    return "\(n / 1_000_000)M"
}

private func leftPad(_ s: String, _ width: Int) -> String {
    let w = TextWidth.width(of: s)
    return w >= width ? s : String(repeating: " ", count: width - w) + s
}
