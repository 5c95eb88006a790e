import Foundation
import IncidentCore
import Testing
@testable import ConsoleUI
import TerminalCore

@Suite("Hostile text on screen")
struct HostileTextTests {
    /// The demo with the first EXCH01 hit's value and line replaced by `text`, hits pane focused.
    func state(withValue text: String, cols: Int = 100) throws -> AppState {
        var (snapshot, playbook, _) = try demoSnapshot()
        var state = AppState(caseName: snapshot.caseFile.name, playbook: playbook, size: Size(cols: cols, rows: 30))
        let i = try #require(snapshot.hits.firstIndex { $0.server == "EXCH01" && $0.severity == .critical })
        snapshot.hits[i].value = text
        snapshot.hits[i].rawLine = text
        snapshot.hitsVersion += 1
        _ = update(&state, .snapshot(snapshot))
        _ = press(&state, .tab)
        state.hitIndex = try #require(state.hitsOfSelectedServer.firstIndex { $0.value == text })
        return state
    }

    /// Every row is exactly `cols` columns wide, and frames close where they should.
    func checkGeometry(_ grid: CellGrid) {
        for y in 0..<grid.size.rows {
            let width = grid.row(y).reduce(0) { $0 + TextWidth.width(of: $1) }
            #expect(width == grid.size.cols, "row \(y) is \(width) columns: \(grid.row(y))")
        }
        for y in 1..<(grid.size.rows - 1) where grid[grid.size.cols - 1, y].ch != "┘" && grid[grid.size.cols - 1, y].ch != "┐" {
            #expect(grid[grid.size.cols - 1, y].ch == "│" || grid[grid.size.cols - 1, y].ch == "┤", "row \(y) lost its right border: \(grid.row(y))")
        }
    }

    func noRawControls(_ text: String) {
        for scalar in text.unicodeScalars {
            #expect(!(scalar.value < 0x20 && scalar.value != 0x0A), "raw C0 U+\(String(scalar.value, radix: 16))")
            #expect(!(0x7F...0x9F).contains(scalar.value), "raw C1 U+\(String(scalar.value, radix: 16))")
            #expect(!Sanitizer.isInvisible(scalar), "invisible U+\(String(scalar.value, radix: 16)) reached the grid")
        }
    }

    @Test("ESC sequences, C1 controls and bidi overrides become visible escapes in the hits list and detail")
    func controls() throws {
        let hostile = "/owa/\u{1B}[2J\u{1B}]0;pwned\u{07}\u{9B}31m\u{202E}gpj.exe\u{202C}\u{200B}x\u{2066}"
        var state = try state(withValue: hostile)
        var grid = render(state)
        let text = grid.text()
        noRawControls(text)
        checkGeometry(grid)
        let row = try #require(text.split(separator: "\n").first { $0.contains("/owa/") })
        // The list row is cut at the pane's edge; the escapes so far are all visible.
        #expect(row.hasSuffix(" /owa/␛[2J␛]0;pwned␇<9B>31m<U+202E│"), "row was \(row)")
        // The escapes are drawn in their own role: the first is right after "/owa/".
        let y = try #require((0..<grid.size.rows).first { grid.row($0).contains("/owa/␛") })
        let x = try #require((0..<grid.size.cols).first { grid[$0, y].ch == "␛" })
        #expect(grid[x, y].role == .escaped)
        #expect(grid[x - 1, y].role != .escaped)
        _ = press(&state, .enter)
        grid = render(state)
        noRawControls(grid.text())
        checkGeometry(grid)
        #expect(grid.text().contains("/owa/␛[2J␛]0;pwned␇<9B>31m<U+202E>gpj.exe<U+202C><U+200B>x<U+2066>"))
        // ASCII mode: caret notation, nothing outside ASCII.
        let ascii = render(state, ascii: true).text()
        #expect(ascii.unicodeScalars.allSatisfy { $0.value < 0x80 })
        #expect(ascii.contains("^[[2J^[]0;pwned^G<9B>31m<U+202E>gpj.exe"))
    }

    @Test("double-width and zero-width characters keep every column in place")
    func widths() throws {
        // CJK (2 columns each), combining accents (0), emoji (2), a ZWJ sequence and a ZWNJ (escaped).
        let wide = "漢字ファイル名e\u{301}😀👩\u{200D}💻\u{200C}abc" + String(repeating: "中", count: 60)
        var state = try state(withValue: wide)
        var grid = render(state)
        noRawControls(grid.text())
        checkGeometry(grid)
        let y = try #require((0..<grid.size.rows).first { grid.row($0).contains("漢字") })
        let x = try #require((0..<grid.size.cols).first { grid[$0, y].ch == "漢" })
        #expect(grid[x + 1, y].isContinuation)
        #expect(grid[x + 2, y].ch == "字")
        #expect(grid.row(y).contains("<U+200D>"))
        _ = press(&state, .enter)
        grid = render(state)
        checkGeometry(grid)
        // A wide character never straddles the pane's edge: the row still ends in its border.
        for cols in [99, 101, 117] {
            state.size = Size(cols: cols, rows: 30)
            checkGeometry(render(state))
        }
    }

    @Test("a hostile server name and case name are escaped in titles and the status bar")
    func names() throws {
        var (snapshot, playbook, _) = try demoSnapshot()
        let evil = "EXCH\u{1B}[5m\u{202E}01"
        snapshot.summaries[0].name = evil
        var state = AppState(caseName: "Case\u{1B}]0;x\u{07}", playbook: playbook, size: Size(cols: 80, rows: 24))
        _ = update(&state, .snapshot(snapshot))
        let grid = render(state)
        noRawControls(grid.text())
        checkGeometry(grid)
        #expect(grid.text().contains("EXCH␛[5m<U+202E>01"))
        #expect(grid.row(23).hasPrefix(" Case␛]0;x␇"))
    }
}
