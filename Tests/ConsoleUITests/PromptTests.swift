import Testing
@testable import ConsoleUI
import TerminalCore

@Suite struct LineEditorTests {
    @Test func typingEditingAndSubmitting() {
        var e = LineEditor()
        for c in "15.1.2176" { #expect(e.apply(.character(c)) == .editing) }
        #expect(e.string == "15.1.2176")
        _ = e.apply(.backspace)
        _ = e.apply(.character("9"))
        #expect(e.string == "15.1.2179")
        _ = e.apply(.home)
        _ = e.apply(.character(">"))
        #expect(e.string == ">15.1.2179")
        #expect(e.cursor == 1)
        _ = e.apply(.end)
        _ = e.apply(.left)
        _ = e.apply(.backspace)
        #expect(e.string == ">15.1.219")
        #expect(e.apply(.enter) == .submitted(">15.1.219"))
    }

    @Test func cancelClearAndLimits() {
        var e = LineEditor(text: "abc", limit: 4)
        #expect(e.cursor == 3)
        _ = e.apply(.character("d"))
        _ = e.apply(.character("e"))
        #expect(e.string == "abcd")
        _ = e.apply(.ctrl("u"))
        #expect(e.string == "")
        #expect(e.cursor == 0)
        _ = e.apply(.backspace)
        _ = e.apply(.left)
        #expect(e.cursor == 0)
        #expect(e.apply(.escape) == .cancelled)
    }

    @Test func prefilledTextIsReplacedByTypingOrKeptByEditing() {
        var e = LineEditor(text: "15.1.2106.2", replaceOnType: true)
        #expect(e.replaceOnType)
        for c in "15.1.2106.13" { _ = e.apply(.character(c)) }
        #expect(e.string == "15.1.2106.13")
        #expect(!e.replaceOnType)
        var kept = LineEditor(text: "15.1.2106.2", replaceOnType: true)
        _ = kept.apply(.backspace)
        _ = kept.apply(.character("3"))
        #expect(kept.string == "15.1.2106.3")
        var moved = LineEditor(text: "abc", replaceOnType: true)
        _ = moved.apply(.left)
        _ = moved.apply(.character("x"))
        #expect(moved.string == "abxc")
        #expect(LineEditor(text: "", replaceOnType: true).replaceOnType == false)
    }

    @Test func controlCharactersNeverEnterTheText() {
        var e = LineEditor()
        _ = e.apply(.character("\u{1B}"))
        _ = e.apply(.character("\u{9B}"))
        _ = e.apply(.character("a"))
        #expect(e.string == "a")
    }

    @Test func drawsLabelTextCursorAndScrollsLongText() {
        _ = utf8Locale
        var grid = CellGrid(size: Size(cols: 40, rows: 1))
        drawPrompt(label: "filter:", editor: LineEditor(text: "exch"), into: &grid, y: 0)
        #expect(grid.row(0).hasPrefix(" filter:  exch "))
        // Label in the key colour, one space, the text, then the cursor cell after it.
        #expect(grid.roles().prefix(15) == "KKKKKKKKK=====S")

        var long = CellGrid(size: Size(cols: 30, rows: 1))
        drawPrompt(label: "note:", editor: LineEditor(text: String(repeating: "x", count: 40) + "END"), into: &long, y: 0)
        // Too narrow for the hint; the end of the text and the cursor stay visible.
        #expect(long.row(0) == " note:  " + String(repeating: "x", count: 18) + "END ")
        #expect(long.roles().last == "S")
    }

    @Test func hostileTextIsDrawnEscaped() {
        _ = utf8Locale
        var grid = CellGrid(size: Size(cols: 40, rows: 1))
        // Pasted text may carry bidi overrides; they are drawn as visible escapes.
        drawPrompt(label: "note:", editor: LineEditor(text: "a\u{202E}b"), into: &grid, y: 0)
        #expect(!grid.row(0).contains("\u{202E}"))
        #expect(grid.row(0).contains("a"))
    }
}
