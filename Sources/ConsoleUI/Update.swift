import Foundation
import IncidentCore
import TerminalCore

/// What happened: a key, a resize, or a new snapshot from the scanner.
public enum Action: Sendable {
    case key(Key)
    case resized(Size)
    case snapshot(CaseSnapshot)
    /// Lines around a hit, read by the runtime after a ``Effect/readExcerpt(path:line:)``.
    case excerpt(EvidenceExcerpt)
    /// No key for a moment after the selection moved: the panes that follow it catch up.
    case settled
}

/// What the runtime must do after an update.
public enum Effect: Sendable, Equatable {
    /// Apply an edit to the case (saved by the case session).
    case perform(CaseEdit)
    case quit
    /// Load and use the named theme (`t`); the runtime reports a theme that fails to load.
    case switchTheme(String)
    /// Read the lines around `line` of an evidence file (relative to the case folder) and send
    /// them back as ``Action/excerpt(_:)``.
    case readExcerpt(path: String, line: Int)
}

/// The only place the console state changes.
/// - Returns: effects for the runtime to carry out.
public func update(_ state: inout AppState, _ action: Action) -> [Effect] {
    let effects = dispatch(&state, action)
    state.refreshViews()
    adjustViewports(&state)
    return effects
}

/// Keeps each list's window where it was unless the selection left it.
private func adjustViewports(_ state: inout AppState) {
    guard state.size.cols >= minimumSize.cols, state.size.rows >= minimumSize.rows else { return }
    for pane in Pane.allCases {
        let selected = pane == .servers ? state.serverIndex : pane == .hits ? state.hitIndex : state.stepIndex
        let top = scrollTop(previous: state.viewTop[pane] ?? 0, selected: selected, count: state.count(of: pane), visible: visibleRows(pane, state))
        if state.viewTop[pane] != top { state.viewTop[pane] = top }
    }
}

private func dispatch(_ state: inout AppState, _ action: Action) -> [Effect] {
    switch action {
    case .settled:
        state.settledSelection = nil
        return []
    case let .excerpt(excerpt):
        if let hit = state.selectedHit, hit.evidence == excerpt.path, hit.line == excerpt.centre { state.excerpt = excerpt }
        return []
    case let .resized(size):
        state.size = size
        return []
    case let .snapshot(snapshot):
        let previousServer = state.selectedServer?.name
        let previousHit = state.selectedHit?.id
        state.setSnapshot(snapshot)
        if state.baselineHitIDs == nil && snapshot.scanPasses > 0 { state.baselineHitIDs = Set(snapshot.hits.map(\.id)) }
        // Keep the same server and hit selected while the lists change under them.
        if let previousServer, let i = state.servers.firstIndex(where: { $0.name == previousServer }) { state.serverIndex = i }
        state.refreshViews()
        if let previousHit, let i = state.hitsOfSelectedServer.firstIndex(where: { $0.id == previousHit }) { state.hitIndex = i }
        clampSelections(&state)
        if snapshot.noticeSerial > state.seenNoticeSerial {
            // Someone else changed what this console shows: say so (the later writer wins).
            state.seenNoticeSerial = snapshot.noticeSerial
            if !snapshot.changedUnderYou.isEmpty { state.message = "changed elsewhere: " + snapshot.changedUnderYou.joined(separator: "; ") }
        }
        return []
    case let .key(key):
        state.message = nil
        if state.confirmation != nil { return updateConfirmation(&state, key) }
        if state.prompt != nil { return updatePrompt(&state, key) }
        if state.audit != nil { return updateAuditView(&state, key) }
        if state.walkthrough != nil, !state.showHelp { return updateWalkthrough(&state, key) }
        if key != .character("q") { state.quitConfirmed = false }
        guard let command = KeyMap.command(for: key, readOnly: state.readOnly) else {
            if KeyMap.command(for: key, readOnly: false) != nil { state.message = "read-only review: this key is not available" }
            return []
        }
        let moves: Set<Command> = [.moveDown, .moveUp, .pageDown, .pageUp, .top, .bottom]
        if moves.contains(command), !state.showDetail, !state.showHelp {
            let before = AppState.Selection(serverIndex: state.serverIndex, hitIndex: state.hitIndex, stepIndex: state.stepIndex, viewTop: state.viewTop)
            let effects = run(command, &state)
            let after = AppState.Selection(serverIndex: state.serverIndex, hitIndex: state.hitIndex, stepIndex: state.stepIndex, viewTop: state.viewTop)
            if state.settledSelection == nil, after != before { state.settledSelection = before }
            if state.settledSelection == after { state.settledSelection = nil }
            return effects
        }
        // Any other key acts on what the screen shows in full.
        state.settledSelection = nil
        return run(command, &state)
    }
}

private func run(_ command: Command, _ state: inout AppState) -> [Effect] {
    if state.showHelp {
        let maxScroll = helpMaxScroll(state)
        let page = max(1, helpVisibleRows(state) - 1)
        func scroll(to v: Int) { state.helpScroll = min(max(0, v), maxScroll) }
        switch command {
        case .toggleHelp, .closeOverlay, .quit: state.showHelp = false
        case .moveDown: scroll(to: state.helpScroll + 1)
        case .moveUp: scroll(to: state.helpScroll - 1)
        case .pageDown: scroll(to: state.helpScroll + page)
        case .pageUp: scroll(to: state.helpScroll - page)
        case .top: scroll(to: 0)
        case .bottom: scroll(to: maxScroll)
        default: break
        }
        return []
    }
    if state.showDetail {
        let page = max(1, state.size.rows - 6)
        let maxScroll = detailMaxScroll(state)
        func scroll(to value: Int) { state.detailScroll = min(max(0, value), maxScroll) }
        switch command {
        case .moveDown: scroll(to: state.detailScroll + 1); return []
        case .moveUp: scroll(to: state.detailScroll - 1); return []
        case .pageDown: scroll(to: state.detailScroll + page); return []
        case .pageUp: scroll(to: state.detailScroll - page); return []
        case .top: scroll(to: 0); return []
        case .bottom: scroll(to: maxScroll); return []
        default: break
        }
    }
    switch command {
    case .quit:
        if state.showDetail { state.showDetail = false; state.excerpt = nil; return [] }
        if let unsaved = state.snapshot?.unsavedEdits, unsaved > 0, !state.quitConfirmed {
            state.quitConfirmed = true
            state.message = "\(unsaved) change(s) not saved (see SAVE FAILED); q again quits without them"
            return []
        }
        return [.quit]
    case .closeOverlay:
        if state.showDetail {
            state.showDetail = false
            state.excerpt = nil
        } else if state.filters[state.focus] != nil {
            applyFilter("", to: state.focus, &state)
        }
    case .toggleHelp: state.showHelp = true
    case .toggleDetail:
        state.showDetail.toggle()
        state.detailScroll = 0
        state.excerpt = nil
        if state.showDetail, state.focus == .hits, let hit = state.selectedHit {
            return [.readExcerpt(path: hit.evidence, line: hit.line)]
        }
    case .filter: openFilter(&state)
    case .nextMatch: jumpToMatchingServer(&state, forward: true)
    case .previousMatch: jumpToMatchingServer(&state, forward: false)
    case .cycleSort: cycleSort(&state)
    case .jump: jump(&state)
    case .markConfirmed: startTriage(.confirmed, &state)
    case .markFalsePositive: startTriage(.falsePositive, &state)
    case .markNeedsReview: startTriage(.needsReview, &state)
    case .undo: startUndo(&state)
    case .cycleTheme: return cycleTheme(&state)
    case .redraw: state.needsFullRedraw = true
    case .auditTrail:
        state.showDetail = false
        state.audit = AuditViewState()
    case .nextPane:
        state.focus = Pane(rawValue: (state.focus.rawValue + 1) % Pane.allCases.count)!
    case .previousPane:
        state.focus = Pane(rawValue: (state.focus.rawValue + Pane.allCases.count - 1) % Pane.allCases.count)!
    case .moveDown: move(&state, by: 1)
    case .moveUp: move(&state, by: -1)
    case .pageDown: move(&state, by: max(1, state.size.rows / 2 - 3))
    case .pageUp: move(&state, by: -max(1, state.size.rows / 2 - 3))
    case .top: move(&state, by: -Int.max / 2)
    case .bottom: move(&state, by: Int.max / 2)
    case .advanceStep:
        guard let server = state.selectedServer else {
            state.message = "no server selected"
            return []
        }
        guard let step = state.selectedStep else { return [] }
        if state.focus != .checklist {
            state.message = "Space works in the checklist pane (Tab to it)"
            return []
        }
        if !step.applies(verdict: server.verdict, patchState: server.patchState) {
            state.message = notApplicableMessage(step)
            return []
        }
        let before = state.snapshot?.caseFile.stepState(server: server.name, step: step.id) ?? .todo
        state.undoStack.append(UndoEntry(description: "\(Sanitizer.sanitize(server.name)) · \(step.title): \(before.rawValue) → \(before.advanced.rawValue)",
                                         revert: .revert(.setStep(server: server.name, step: step.id, state: before, note: "undo"),
                                                         ifStill: .step(server: server.name, step: step.id, state: before.advanced)),
                                         field: .step(server: server.name, step: step.id, before: before, after: before.advanced)))
        return [.perform(.advanceStep(server: server.name, step: step.id))]
    case .setBuild, .walkthrough, .blockStep, .skipStep, .noteStep:
        return runRemediation(command, &state)
    }
    return []
}

private func move(_ state: inout AppState, by delta: Int) {
    let n = state.count(of: state.focus)
    guard n > 0 else { return }
    func clamp(_ v: Int) -> Int { min(max(0, v), n - 1) }
    switch state.focus {
    case .servers:
        let before = state.serverIndex
        state.serverIndex = clamp(state.serverIndex &+ delta)
        if before != state.serverIndex { state.hitIndex = 0; state.refreshViews() }
    case .hits: state.hitIndex = clamp(state.hitIndex &+ delta)
    case .checklist: state.stepIndex = clamp(state.stepIndex &+ delta)
    }
}

private func clampSelections(_ state: inout AppState) {
    state.refreshViews()
    state.serverIndex = min(state.serverIndex, max(0, state.servers.count - 1))
    state.hitIndex = min(state.hitIndex, max(0, state.hitsOfSelectedServer.count - 1))
    state.stepIndex = min(state.stepIndex, max(0, state.playbook.steps.count - 1))
}
