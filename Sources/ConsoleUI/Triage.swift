import Foundation
import IncidentCore
import TerminalCore

/// A change this console made, with the edit that reverts it (appended, never erased: the audit
/// trail keeps both).
public struct UndoEntry: Sendable, Equatable {
    /// The field the change set, the value before and the value this console set, so an undo
    /// never reverts a value someone else set in between.
    public enum Field: Sendable, Equatable {
        case triage(hitId: String, before: TriageDecision.Decision, after: TriageDecision.Decision)
        case step(server: String, step: String, before: StepState, after: StepState)
    }

    /// What the change was, for the confirmation and status bar (already sanitised).
    public var description: String
    public var revert: CaseEdit
    public var field: Field?

    public init(description: String, revert: CaseEdit, field: Field? = nil) {
        self.description = description
        self.revert = revert
        self.field = field
    }
}

/// Why the newest undo entry cannot be undone now, or nil when it can: the field must still
/// hold the value this console set.
func undoObstacle(_ entry: UndoEntry, _ state: AppState) -> String? {
    guard let field = entry.field, let caseFile = state.snapshot?.caseFile else { return nil }
    switch field {
    case let .triage(hitId, before, after):
        let now = caseFile.triageDecision(for: hitId)
        let current = now?.decision ?? .untriaged
        if current == after { return nil }
        // Not in this console's snapshot yet: the revert is queued after the change and only
        // applies if the field still holds this console's value when it runs.
        if current == before { return nil }
        return "changed since by \(Sanitizer.sanitize(now?.by ?? "someone")) (now \(current.rawValue)); undo only reverts your own latest value"
    case let .step(server, step, before, after):
        let entry = caseFile.checklists[server]?[step]
        let current = entry?.state ?? .todo
        if current == after { return nil }
        if current == before { return nil }
        return "changed since by \(Sanitizer.sanitize(entry?.by ?? "someone")) (now \(current.rawValue)); undo only reverts your own latest value"
    }
}

/// A yes/no question over the screen for a destructive action. "Cancel" is selected first, so
/// Enter alone never destroys anything; `y` confirms, `n`, `q` or Esc cancel, Tab or ←/→ move
/// between the two buttons.
public struct Confirmation: Sendable, Equatable {
    public var title: String
    /// Lines of explanation (console text; evidence parts already sanitised).
    public var lines: [String]
    /// The label of the button that goes ahead, e.g. `Mark false positive`.
    public var confirmLabel: String
    /// What happens on confirmation.
    public var effects: [Effect]
    /// Pushed on the undo stack on confirmation.
    public var pushUndo: UndoEntry?
    /// On confirmation, the newest undo entry is removed (this confirmation is an undo).
    public var popUndo: Bool
    /// True when the confirm button is selected; false (cancel) at first.
    public var confirmSelected = false
    /// Status message after confirmation.
    public var doneMessage: String

    public init(title: String, lines: [String], confirmLabel: String, effects: [Effect], pushUndo: UndoEntry? = nil,
                popUndo: Bool = false, doneMessage: String) {
        self.title = title
        self.lines = lines
        self.confirmLabel = confirmLabel
        self.effects = effects
        self.pushUndo = pushUndo
        self.popUndo = popUndo
        self.doneMessage = doneMessage
    }
}

func decisionLabel(_ d: TriageDecision.Decision) -> String {
    switch d {
    case .confirmed: "confirmed"
    case .falsePositive: "false positive"
    case .needsReview: "needs review"
    case .untriaged: "untriaged"
    }
}

/// `c`, `f`, `r`: opens the note prompt for a triage decision on the selected hit. `f` on a hit
/// already marked false positive restores it (to its decision before that, or untriaged).
func startTriage(_ decision: TriageDecision.Decision, _ state: inout AppState) {
    guard state.focus == .hits else {
        state.message = "c, f and r mark the selected hit (Tab to the hits pane)"
        return
    }
    guard let hit = state.selectedHit else {
        state.message = "no hit selected"
        return
    }
    var target = decision
    var label = "\(decisionLabel(decision)) \(hit.indicator), note:"
    if decision == .falsePositive, state.triageByHit[hit.id]?.decision == .falsePositive {
        let history = state.snapshot?.caseFile.triage.filter { $0.hitId == hit.id } ?? []
        let previous = history.dropLast().last { $0.decision != .falsePositive }?.decision
        target = previous ?? .untriaged
        label = "restore \(hit.indicator) (counts again, \(decisionLabel(target))), note:"
    }
    state.prompt = ActivePrompt(label: label, purpose: .triageNote(hitId: hit.id, decision: target))
}

/// Acts on a submitted triage note: performs the decision, or asks first when it is destructive
/// (a `critical` or `high` hit, or a confirmed one, marked false positive: it stops counting
/// toward the server's verdict).
func submitTriage(hitId: String, decision: TriageDecision.Decision, note: String, _ state: inout AppState) -> [Effect] {
    guard let hit = state.hitsOfSelectedServer.first(where: { $0.id == hitId }) ?? state.snapshot?.hits.first(where: { $0.id == hitId }) else {
        state.message = "that hit is gone (evidence changed); nothing marked"
        return []
    }
    let before = state.triageByHit[hitId]?.decision ?? .untriaged
    let server = Sanitizer.sanitize(hit.server)
    let trimmed = note.trimmingCharacters(in: .whitespaces)
    let edit = CaseEdit.triage(hitId: hitId, decision: decision, note: trimmed)
    let undo = UndoEntry(description: "\(hit.indicator) on \(server): \(decisionLabel(before)) → \(decisionLabel(decision))",
                         revert: .revert(.triage(hitId: hitId, decision: before, note: "undo"), ifStill: .triage(hitId: hitId, decision: decision)),
                         field: .triage(hitId: hitId, before: before, after: decision))
    let done = "\(hit.indicator) on \(server) marked \(decisionLabel(decision)) (u undoes)"
    if decision == .falsePositive, hit.severity >= .high || before == .confirmed {
        state.confirmation = Confirmation(
            title: "Mark as false positive?",
            lines: ["\(severityLabel(hit.severity)) \(hit.indicator) on \(server), \(Sanitizer.sanitize(hit.evidence)):\(hit.line)",
                    "It stops counting toward \(server)'s verdict" + (before == .confirmed ? " (it is marked confirmed)." : ".")],
            confirmLabel: "Mark false positive", effects: [.perform(edit)], pushUndo: undo, doneMessage: done)
        return []
    }
    state.undoStack.append(undo)
    state.message = done
    return [.perform(edit)]
}

/// `u`: asks to undo the newest change this console made.
func startUndo(_ state: inout AppState) {
    guard let last = state.undoStack.last else {
        state.message = "nothing to undo: this console has made no change"
        return
    }
    if let obstacle = undoObstacle(last, state) {
        state.undoStack.removeLast()
        state.message = "not undone: \(last.description): " + obstacle
        return
    }
    state.confirmation = Confirmation(
        title: "Undo the last change?",
        lines: [last.description, "A reverting change is saved; the audit trail keeps both."],
        confirmLabel: "Undo", effects: [.perform(last.revert)], popUndo: true, doneMessage: "undone: \(last.description)")
}

/// Routes a key to the open confirmation.
func updateConfirmation(_ state: inout AppState, _ key: Key) -> [Effect] {
    guard var c = state.confirmation else { return [] }
    func confirm() -> [Effect] {
        state.confirmation = nil
        if c.popUndo, !state.undoStack.isEmpty { state.undoStack.removeLast() }
        if let push = c.pushUndo { state.undoStack.append(push) }
        state.message = c.doneMessage
        return c.effects
    }
    func cancel() -> [Effect] {
        state.confirmation = nil
        state.message = "cancelled"
        return []
    }
    switch key {
    case .character("y"), .character("Y"): return confirm()
    case .character("n"), .character("N"), .character("q"), .escape: return cancel()
    case .enter: return c.confirmSelected ? confirm() : cancel()
    case .tab, .backTab, .left, .right, .character("h"), .character("l"):
        c.confirmSelected.toggle()
        state.confirmation = c
    default:
        state.message = "y confirms, n or Esc cancels"
    }
    return []
}

/// `t`: the next theme; the runtime loads it and reports a broken file.
func cycleTheme(_ state: inout AppState) -> [Effect] {
    let names = state.themeNames.isEmpty ? [state.themeName] : state.themeNames
    let i = names.firstIndex(of: state.themeName) ?? -1
    let next = names[(i + 1) % names.count]
    state.themeName = next
    state.message = "theme: \(Sanitizer.sanitize(next)) (t for the next)"
    return [.switchTheme(next)]
}
