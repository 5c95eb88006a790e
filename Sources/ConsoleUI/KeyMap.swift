import TerminalCore

/// What a key does in the console.
public enum Command: String, Sendable, CaseIterable, Equatable {
    case moveDown, moveUp, pageDown, pageUp, top, bottom
    case nextPane, previousPane
    case toggleDetail, advanceStep, toggleHelp, closeOverlay, redraw, quit
    case setBuild, walkthrough, blockStep, skipStep, noteStep
    case filter, nextMatch, previousMatch, cycleSort, jump
    case markConfirmed, markFalsePositive, markNeedsReview, undo, cycleTheme
    case auditTrail
}

/// One key binding: the keys, the command, and the words shown in help and the README.
public struct KeyBinding: Sendable, Equatable {
    public var keys: [Key]
    /// How the keys are written in help (`j / ↓`).
    public var keyLabel: String
    public var command: Command
    public var help: String
    /// True when the command writes to the case (not bound in read-only review).
    public var writes: Bool
}

/// The console's key table: the single source for dispatch, the `?` help screen and the README.
public enum KeyMap {
    public static let bindings: [KeyBinding] = [
        KeyBinding(keys: [.character("j"), .down], keyLabel: "j / ↓", command: .moveDown, help: "next row (in the detail view: scroll down)", writes: false),
        KeyBinding(keys: [.character("k"), .up], keyLabel: "k / ↑", command: .moveUp, help: "previous row (in the detail view: scroll up)", writes: false),
        KeyBinding(keys: [.pageDown, .ctrl("f")], keyLabel: "PgDn", command: .pageDown, help: "one page down", writes: false),
        KeyBinding(keys: [.pageUp, .ctrl("b")], keyLabel: "PgUp", command: .pageUp, help: "one page up", writes: false),
        KeyBinding(keys: [.character("g"), .home], keyLabel: "g / Home", command: .top, help: "first row", writes: false),
        KeyBinding(keys: [.character("G"), .end], keyLabel: "G / End", command: .bottom, help: "last row", writes: false),
        KeyBinding(keys: [.tab, .right, .character("l")], keyLabel: "Tab", command: .nextPane, help: "next pane (servers → hits → checklist)", writes: false),
        KeyBinding(keys: [.backTab, .left, .character("h")], keyLabel: "Shift-Tab", command: .previousPane, help: "previous pane", writes: false),
        KeyBinding(keys: [.enter], keyLabel: "Enter", command: .toggleDetail, help: "open or close the detail view (a hit: the lines around it)", writes: false),
        KeyBinding(keys: [.character("/")], keyLabel: "/", command: .filter, help: "filter: servers by name or verdict, hits by indicator, text", writes: false),
        KeyBinding(keys: [.character("n")], keyLabel: "n", command: .nextMatch, help: "next server with hits matching the hits filter", writes: false),
        KeyBinding(keys: [.character("N")], keyLabel: "N", command: .previousMatch, help: "previous server with hits matching the hits filter", writes: false),
        KeyBinding(keys: [.character("s")], keyLabel: "s", command: .cycleSort, help: "next sort order of the focused pane", writes: false),
        KeyBinding(keys: [.character("o")], keyLabel: "o", command: .jump, help: "jump: hit → its server, checklist step → its hits", writes: false),
        KeyBinding(keys: [.character("c")], keyLabel: "c", command: .markConfirmed, help: "mark the selected hit confirmed (asks for a note)", writes: true),
        KeyBinding(keys: [.character("f")], keyLabel: "f", command: .markFalsePositive, help: "mark the hit false-positive, or restore it (asks a note)", writes: true),
        KeyBinding(keys: [.character("r")], keyLabel: "r", command: .markNeedsReview, help: "mark the selected hit needs-review (asks for a note)", writes: true),
        KeyBinding(keys: [.character("u")], keyLabel: "u", command: .undo, help: "undo the last change this console made (asks first)", writes: true),
        KeyBinding(keys: [.character("t")], keyLabel: "t", command: .cycleTheme, help: "next colour theme", writes: false),
        KeyBinding(keys: [.character(" ")], keyLabel: "Space", command: .advanceStep, help: "advance the selected step: todo → in-progress → done → todo", writes: true),
        KeyBinding(keys: [.character("w")], keyLabel: "w", command: .walkthrough, help: "walk through the selected server's steps with guidance", writes: false),
        KeyBinding(keys: [.character("B")], keyLabel: "B", command: .blockStep, help: "mark the selected step blocked, with a note", writes: true),
        KeyBinding(keys: [.character("X")], keyLabel: "X", command: .skipStep, help: "mark the selected step not applicable, with a note", writes: true),
        KeyBinding(keys: [.character("m")], keyLabel: "m", command: .noteStep, help: "write a note on the selected step", writes: true),
        KeyBinding(keys: [.character("b")], keyLabel: "b", command: .setBuild, help: "set the selected server's Exchange build (patch state)", writes: true),
        KeyBinding(keys: [.character("?")], keyLabel: "?", command: .toggleHelp, help: "show or hide this help", writes: false),
        KeyBinding(keys: [.escape], keyLabel: "Esc", command: .closeOverlay, help: "close help or detail, else clear the pane's filter", writes: false),
        KeyBinding(keys: [.ctrl("l")], keyLabel: "Ctrl-L", command: .redraw, help: "redraw the screen", writes: false),
        KeyBinding(keys: [.character("A")], keyLabel: "A", command: .auditTrail, help: "audit trail, newest first (/ filters, Esc closes)", writes: false),
        KeyBinding(keys: [.character("q")], keyLabel: "q", command: .quit, help: "quit (closes an open view first)", writes: false),
    ]

    /// The command bound to a key, if any; write commands are unbound in read-only mode.
    public static func command(for key: Key, readOnly: Bool = false) -> Command? {
        bindings.first { $0.keys.contains(key) && !(readOnly && $0.writes) }?.command
    }

    /// The key table as Markdown, as the README shows it.
    public static func markdownTable() -> String {
        var lines = ["| key | action |", "|---|---|"]
        for b in bindings { lines.append("| `\(b.keyLabel)` | \(b.help) |") }
        return lines.joined(separator: "\n")
    }
}
