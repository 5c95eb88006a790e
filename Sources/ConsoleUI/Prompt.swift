import IncidentCore
import TerminalCore

/// A one-line text editor for the status line: the filter, a triage note, a build number.
///
/// Editing keys: printable characters insert at the cursor, Backspace deletes before it,
/// ←/→ and Home/End (Ctrl-A/Ctrl-E) move, Ctrl-U clears, Enter submits, Esc cancels.
/// The text is what the responder typed; it is sanitised when drawn, like everything else.
public struct LineEditor: Sendable, Equatable {
    /// The text so far, as typed.
    public private(set) var text: [Character]
    /// Cursor position in characters, 0...text.count.
    public private(set) var cursor: Int
    /// Longest accepted text, in characters; further input is ignored.
    public let limit: Int

    /// What a key did to the editor.
    public enum Outcome: Sendable, Equatable {
        case editing
        case submitted(String)
        case cancelled
    }

    /// True while a prefilled text is still untouched: the first character typed replaces it
    /// (as in a selected field); moving the cursor or deleting keeps it for editing.
    public private(set) var replaceOnType: Bool

    public init(text: String = "", limit: Int = 1_000, replaceOnType: Bool = false) {
        self.text = Array(text.prefix(limit))
        self.cursor = self.text.count
        self.limit = limit
        self.replaceOnType = replaceOnType && !text.isEmpty
    }

    public var string: String { String(text) }

    /// Applies one key.
    public mutating func apply(_ key: Key) -> Outcome {
        switch key {
        case .enter: return .submitted(string)
        case .escape: return .cancelled
        case .character: break
        default: replaceOnType = false
        }
        switch key {
        case let .character(c):
            // Control characters never enter the text (a pasted ESC sequence stays out).
            if c.unicodeScalars.allSatisfy({ $0.properties.generalCategory == .control }) { return .editing }
            if replaceOnType {
                text.removeAll()
                cursor = 0
                replaceOnType = false
            }
            if text.count < limit {
                text.insert(c, at: cursor)
                cursor += 1
            }
        case .backspace:
            if cursor > 0 {
                text.remove(at: cursor - 1)
                cursor -= 1
            }
        case .left: cursor = max(0, cursor - 1)
        case .right: cursor = min(text.count, cursor + 1)
        case .home, .ctrl("a"): cursor = 0
        case .end, .ctrl("e"): cursor = text.count
        case .ctrl("u"):
            text.removeAll()
            cursor = 0
        default: break
        }
        return .editing
    }
}

/// What a prompt's text is for. Each console feature that asks for text adds a case and
/// handles it in ``submitPrompt(_:_:_:)``.
public enum PromptPurpose: Sendable, Equatable {
    /// Text filter of the audit trail view.
    case auditFilter
    /// The Exchange build of a server (`b`).
    case build(server: String)
    /// A note on a step; with a state, the step is set to it (`B` blocked, `X` not applicable),
    /// without, only the note changes (`m`).
    case stepNote(server: String, step: String, state: StepState?)
    /// The `/` filter of a pane.
    case filter(Pane)
    /// The note of a triage decision on a hit.
    case triageNote(hitId: String, decision: TriageDecision.Decision)
}

/// A prompt shown on the status line while the responder types.
public struct ActivePrompt: Sendable, Equatable {
    /// Label before the text, e.g. `filter:`; plain text, not evidence.
    public var label: String
    public var editor: LineEditor
    public var purpose: PromptPurpose

    /// - Parameter replaceOnType: the prefilled text is replaced by the first character typed.
    public init(label: String, text: String = "", purpose: PromptPurpose, replaceOnType: Bool = false) {
        self.label = label
        self.editor = LineEditor(text: text, replaceOnType: replaceOnType)
        self.purpose = purpose
    }
}

/// Routes a key to the open prompt: edits it, or closes it and acts on the text.
func updatePrompt(_ state: inout AppState, _ key: Key) -> [Effect] {
    guard var prompt = state.prompt else { return [] }
    let outcome = prompt.editor.apply(key)
    switch outcome {
    case .editing:
        state.prompt = prompt
        return []
    case .cancelled:
        state.prompt = nil
        return []
    case let .submitted(text):
        state.prompt = nil
        return submitPrompt(prompt.purpose, text, &state)
    }
}

/// Acts on submitted prompt text.
func submitPrompt(_ purpose: PromptPurpose, _ text: String, _ state: inout AppState) -> [Effect] {
    switch purpose {
    case .auditFilter: return submitAuditFilter(text, &state)
    case let .build(server):
        return submitBuild(server: server, text, &state)
    case let .stepNote(server, step, stepState):
        return submitStepNote(server: server, step: step, state: stepState, text, &state)
    case let .filter(pane):
        applyFilter(text, to: pane, &state)
        return []
    case let .triageNote(hitId, decision):
        return submitTriage(hitId: hitId, decision: decision, note: text, &state)
    }
}

/// Draws the open prompt over the status line: label, text, and the cursor as a reversed cell.
/// Text longer than the line scrolls so the cursor stays visible.
func drawPrompt(label: String, editor: LineEditor, into grid: inout CellGrid, y: Int) {
    let cols = grid.size.cols
    grid.fill(Rect(x: 0, y: y, width: cols, height: 1), role: .statusBar)
    let x0 = grid.put(" " + label + " ", x: 0, y: y, maxWidth: cols / 2, role: .statusKey) + 1
    let hint = " Enter ok  Esc cancel "
    let hintWidth = TextWidth.width(of: hint)
    let hintFits = cols - x0 > hintWidth + 12
    let limit = cols - (hintFits ? hintWidth : 0) - 1
    let room = max(1, limit - x0 + 1)
    let shown = editor.text.map { Sanitizer.sanitize(String($0), ascii: grid.ascii) }
    let cursor = editor.cursor
    func width(_ from: Int, _ to: Int) -> Int { shown[from..<to].reduce(0) { $0 + TextWidth.width(of: $1) } }
    var start = 0
    while start < cursor && width(start, cursor) + 1 > room { start += 1 }
    var x = x0
    var cursorX: Int?
    for i in start..<shown.count {
        let w = TextWidth.width(of: shown[i])
        if x + w > limit { break }
        if i == cursor { cursorX = x }
        // A prefilled text that typing replaces is shown as selected.
        x += grid.put(shown[i], x: x, y: y, role: editor.replaceOnType ? .selectionInactive : .statusBar)
    }
    let cx = cursorX ?? x
    if cx < cols {
        let under = cursor < shown.count ? shown[cursor] : " "
        grid.put(under, x: cx, y: y, maxWidth: cols - cx, role: .selection)
    }
    if hintFits { grid.put(hint, x: cols - hintWidth, y: y, role: .muted) }
}
