import Foundation
import IncidentCore
import Testing
@testable import ConsoleUI
import TerminalCore

@Suite("Rendered screens")
struct RenderTests {
    @Test("demo case at 80×24: servers pane focused")
    func demo80x24() throws {
        let state = try demoState()
        let grid = render(state)
        assertSnapshot(grid.text(), named: "demo-80x24")
        assertSnapshot(grid.roles(), named: "demo-80x24-roles")
        // Patch (V vulnerable) and compromise (C compromised, ? unknown) markers after the verdict.
        #expect(grid.row(2).hasPrefix("│EXCH01   compromised  VC   69  0/14│"))
        #expect(grid.row(3).hasPrefix("│EXCH02   probed       V?    5  0/12│"))
        #expect(grid.row(4).hasPrefix("│EXCH03   insufficient V?    0  0/12│"))
        #expect(grid.row(23).hasPrefix(" Demo: Cont…"))
        #expect(grid.row(23).contains("│ steps 0/38 │ done 0/3 "))
        #expect(grid.row(23).hasSuffix("? help  q quit "))
        #expect(grid.row(23).contains("rescan 07:20:00Z"))
    }

    @Test("hits pane of the probed server, most severe first")
    func probedServerHits() throws {
        var state = try demoState()
        _ = press(&state, .character("j"), .tab)
        let grid = render(state)
        assertSnapshot(grid.text(), named: "demo-exch02-hits-80x24")
        let hits = state.hitsOfSelectedServer.map(\.indicator)
        #expect(hits == ["IIS-059", "IIS-065", "PL-002", "IIS-061", "PL-003"])
    }

    @Test("checklist walk-through shows the step guidance")
    func checklistDetail() throws {
        var state = try demoState(cols: 100, rows: 30)
        _ = press(&state, .backTab)
        #expect(state.focus == .checklist)
        _ = press(&state, .character("j"), .character("j"), .character("j"), .character("j"), .character("j"), .character("j"), .character("j"), .character("j"))
        let grid = render(state)
        assertSnapshot(grid.text(), named: "demo-checklist-patch-100x30")
        #expect(grid.text().contains("Patch to a fixed build"))
        #expect(grid.text().contains("ExSetup.exe"))
    }

    @Test("a hostile user agent is shown escaped, never raw")
    func hostileUserAgent() throws {
        var state = try demoState(cols: 120, rows: 40)
        _ = press(&state, .tab)
        let index = try #require(state.hitsOfSelectedServer.firstIndex { $0.evidence.hasSuffix("u_ex210303.log") && $0.line == 24 && $0.indicator == "IIS-063" })
        state.hitIndex = index
        _ = press(&state, .enter)
        let grid = render(state)
        let text = grid.text()
        assertSnapshot(text, named: "hostile-ua-detail-120x40")
        for scalar in text.unicodeScalars {
            #expect(!(scalar.value < 0x20 && scalar.value != 0x0A), "raw C0 control U+\(String(scalar.value, radix: 16)) reached the grid")
            #expect(!(0x7F...0x9F).contains(scalar.value))
            #expect(!(0x202A...0x202E).contains(scalar.value))
        }
        #expect(text.contains("␛[2J"))
        #expect(text.contains("<U+202E>"))
        #expect(text.contains("␇"))
        // The escapes are drawn in their own role.
        #expect(grid.roles().contains("E"))
    }

    @Test("too small: says so with both sizes, and recovers", arguments: [(40, 10), (59, 24), (80, 15)])
    func tooSmall(cols: Int, rows: Int) throws {
        var state = try demoState(cols: cols, rows: rows)
        let grid = render(state)
        #expect(grid.text().replacingOccurrences(of: "\n", with: " ").contains("terminal too small: have \(cols)×\(rows), need 60×16"))
        _ = update(&state, .resized(Size(cols: 80, rows: 24)))
        #expect(render(state).row(2).contains("EXCH01"))
    }

    @Test("too small snapshot at 40×10")
    func tooSmallSnapshot() throws {
        let state = try demoState(cols: 40, rows: 10)
        assertSnapshot(render(state).text(), named: "too-small-40x10")
    }

    @Test("degenerate sizes never crash", arguments: [(0, 0), (1, 1), (2, 30), (300, 2), (60, 16), (61, 17)])
    func degenerate(cols: Int, rows: Int) throws {
        let state = try demoState(cols: cols, rows: rows)
        let grid = render(state)
        #expect(grid.size == Size(cols: cols, rows: rows))
    }

    @Test("help lists every binding from the key map")
    func help() throws {
        var state = try demoState(cols: 100, rows: 35)
        _ = press(&state, .character("?"))
        let text = render(state).text()
        assertSnapshot(text, named: "help-100x35")
        for b in KeyMap.bindings { #expect(text.contains(b.help)) }
    }

    @Test("help at the minimum size says how many keys it could not show")
    func helpSmall() throws {
        var state = try demoState(cols: 60, rows: 16)
        _ = press(&state, .character("?"))
        let text = render(state).text()
        #expect(text.contains("keys 1–11 of \(KeyMap.bindings.count): j/k or PgUp/PgDn for the rest"))
        #expect(text.contains("next row"))
    }

    @Test("ASCII mode draws no character outside ASCII")
    func asciiMode() throws {
        var state = try demoState()
        _ = press(&state, .tab)
        let grid = render(state, ascii: true)
        #expect(grid.text().unicodeScalars.allSatisfy { $0.value < 0x80 })
        #expect(grid.row(0).hasPrefix("+-"))
    }

    @Test("before the first scan the servers pane says it is scanning, not clean")
    func beforeFirstScan() throws {
        _ = utf8Locale
        let state = AppState(caseName: "x", playbook: try Playbook.builtIn(), size: Size(cols: 80, rows: 24))
        let text = render(state).text()
        #expect(text.contains("scanning evidence…"))
        #expect(!text.contains("no-findings"))
    }
}

@Suite("Rule column")
struct RuleColumnTests {
    @Test("long rule ids (imported packs, YARA) widen the rule column, cut with an ellipsis when the pane is narrow")
    func longRuleIDs() throws {
        var state = try demoState(cols: 120, rows: 40)
        var snapshot = try #require(state.snapshot)
        let i = try #require(snapshot.hits.firstIndex { $0.server == "EXCH01" && $0.indicator == "PS-001" })
        snapshot.hits[i].indicator = "filename-iocs/file-path-regex-2"
        snapshot.hitsVersion += 1
        _ = update(&state, .snapshot(snapshot))
        let wide = render(state).text()
        // Up to a quarter of the pane (17 cells here); the detail view shows the whole id.
        #expect(wide.contains("CRIT 08-23 09:13 filename-iocs/fi… exploitation"))
        #expect(wide.contains("Rule              Stage"))
        state.size = Size(cols: 80, rows: 24)
        _ = update(&state, .resized(Size(cols: 80, rows: 24)))
        let narrow = render(state).text()
        #expect(narrow.contains("CRIT 08-23 09:13 filename-… @a.a/"))
    }
}

@Suite("Save failure in the status bar")
struct SaveFailedStatusTests {
    @Test("SAVE FAILED and a message share the bar without splicing: the alert is cut with an ellipsis")
    func alertAndMessage() throws {
        var state = try demoState(cols: 120, rows: 40)
        var snapshot = try #require(state.snapshot)
        snapshot.saveError = "case.json was changed on disk and no longer loads: case.json:3:7: expected ':' after a key; your changes are kept"
        _ = update(&state, .snapshot(snapshot))
        state.message = "changed elsewhere: EXCH01/inventory: todo → blocked by alice"
        let row = render(state).row(39)
        #expect(row.hasPrefix(" SAVE FAILED: case.json was changed on disk"))
        #expect(row.hasSuffix(" changed elsewhere: EXCH01/inventory: todo → blocked by alice "))
        #expect(row.contains("…"))
        #expect(TextWidth.width(of: row) == 120)
    }
}

@Suite("Too small in ASCII")
struct TooSmallASCIITests {
    @Test("the too-small message uses x, not ×, in ASCII mode")
    func asciiTimes() throws {
        let state = try demoState(cols: 50, rows: 12)
        let text = render(state, ascii: true).text().replacingOccurrences(of: "\n", with: " ")
        #expect(text.contains("terminal too small: have 50x12, need 60x16"))
        #expect(text.unicodeScalars.allSatisfy { $0.value < 0x80 })
    }
}
