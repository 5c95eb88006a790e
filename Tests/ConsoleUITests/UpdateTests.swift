import Foundation
import IncidentCore
import Testing
@testable import ConsoleUI
import TerminalCore

@Suite("State updates")
struct UpdateTests {
    @Test("Tab and Shift-Tab cycle the panes")
    func panes() throws {
        var state = try demoState()
        #expect(state.focus == .servers)
        _ = press(&state, .tab)
        #expect(state.focus == .hits)
        _ = press(&state, .tab)
        #expect(state.focus == .checklist)
        _ = press(&state, .tab)
        #expect(state.focus == .servers)
        _ = press(&state, .backTab)
        #expect(state.focus == .checklist)
    }

    @Test("moving clamps at both ends and g/G jump")
    func moving() throws {
        var state = try demoState()
        _ = press(&state, .up)
        #expect(state.serverIndex == 0)
        _ = press(&state, .down, .down, .down, .down)
        #expect(state.serverIndex == 2)
        _ = press(&state, .character("g"))
        #expect(state.serverIndex == 0)
        _ = press(&state, .character("G"))
        #expect(state.serverIndex == 2)
        #expect(state.selectedServer?.name == "EXCH03")
    }

    @Test("Space in the checklist advances the selected step of the selected server")
    func advanceStep() throws {
        var state = try demoState()
        _ = press(&state, .backTab)
        let effects = press(&state, .character(" "))
        #expect(effects == [.perform(.advanceStep(server: "EXCH01", step: "inventory"))])
    }

    @Test("Space outside the checklist does nothing but explain")
    func advanceOutsideChecklist() throws {
        var state = try demoState()
        #expect(press(&state, .character(" ")).isEmpty)
        #expect(state.message == "Space works in the checklist pane (Tab to it)")
    }

    @Test("steps for compromised servers cannot be advanced on a probed server")
    func compromisedOnlyStep() throws {
        var state = try demoState()
        _ = press(&state, .down, .backTab)
        #expect(state.selectedServer?.name == "EXCH02")
        state.stepIndex = try #require(state.playbook.steps.firstIndex { $0.id == "contain" })
        #expect(press(&state, .character(" ")).isEmpty)
        #expect(state.message == "Contain the server: only for exploited or compromised servers")
    }

    @Test("read-only review: keys that write are not bound")
    func readOnly() throws {
        var state = try demoState()
        state.readOnly = true
        _ = press(&state, .backTab)
        #expect(press(&state, .character(" ")).isEmpty)
        #expect(state.message == "read-only review: this key is not available")
        #expect(KeyMap.command(for: .character(" "), readOnly: true) == nil)
    }

    @Test("q closes the detail view first, then quits")
    func quit() throws {
        var state = try demoState()
        _ = press(&state, .enter)
        #expect(state.showDetail)
        #expect(press(&state, .character("q")).isEmpty)
        #expect(!state.showDetail)
        #expect(press(&state, .character("q")) == [.quit])
    }

    @Test("help swallows other keys until closed")
    func helpMode() throws {
        var state = try demoState()
        _ = press(&state, .character("?"))
        #expect(state.showHelp)
        _ = press(&state, .down, .tab)
        #expect(state.serverIndex == 0 && state.focus == .servers)
        _ = press(&state, .escape)
        #expect(!state.showHelp)
    }

    @Test("a new snapshot keeps the same server selected and counts new hits")
    func snapshotKeepsSelection() throws {
        var state = try demoState()
        _ = press(&state, .down)
        #expect(state.selectedServer?.name == "EXCH02")
        var next = try #require(state.snapshot)
        // EXCH02 becomes compromised and moves to the top; the selection follows it.
        var hit = try #require(next.hits.first { $0.server == "EXCH01" && $0.indicator == "FH-044" })
        hit.server = "EXCH02"
        hit.id = "new-hit"
        next.hits.append(hit)
        next.hitsVersion += 1
        next.summaries = next.summaries.map { s in
            var s = s
            if s.name == "EXCH02" { s.verdict = .compromised; s.hits += 1 }
            return s
        }
        _ = update(&state, .snapshot(next))
        #expect(state.selectedServer?.name == "EXCH02")
        #expect(state.newHits == 1)
    }
}

@Suite("Key map and README")
struct KeyMapTests {
    @Test("the README's key table is the key map's")
    func readmeTable() throws {
        let readme = try String(contentsOf: repoRoot.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(readme.contains(KeyMap.markdownTable()), "README.md's key table is out of date; paste KeyMap.markdownTable() into it")
    }

    @Test("no key is bound twice")
    func uniqueKeys() {
        var seen: [Key: Command] = [:]
        for b in KeyMap.bindings {
            for k in b.keys {
                #expect(seen[k] == nil, "\(k) bound to \(seen[k].map { "\($0)" } ?? "") and \(b.command)")
                seen[k] = b.command
            }
        }
    }
}

@Suite("Detail view")
struct DetailViewTests {
    @Test("a long evidence line scrolls in the detail view, and the scroll resets on reopen")
    func scrolling() throws {
        var state = try demoState(cols: 60, rows: 16)
        _ = press(&state, .tab)
        // The headless ProxyShell line needs scrolling at the minimum size.
        state.hitIndex = try #require(state.hitsOfSelectedServer.firstIndex { $0.indicator == "PS-001" })
        _ = press(&state, .enter)
        let top = render(state).text()
        #expect(top.contains("more (j/PgDn)"))
        _ = press(&state, .character("j"), .character("j"))
        #expect(state.detailScroll == 2)
        #expect(state.hitIndex == (try #require(state.hitsOfSelectedServer.firstIndex { $0.indicator == "PS-001" })), "j scrolled the list under the overlay")
        let scrolled = render(state).text()
        #expect(scrolled.contains("↑ 2 above"))
        _ = press(&state, .character("G"))
        #expect(!render(state).text().contains("more (j/PgDn)"))
        // Past the end nothing moves, and one k moves back up at once.
        let bottom = state.detailScroll
        _ = press(&state, .character("j"), .character("j"), .pageDown)
        #expect(state.detailScroll == bottom)
        _ = press(&state, .character("k"))
        #expect(state.detailScroll == bottom - 1)
        _ = press(&state, .enter, .enter)
        #expect(state.detailScroll == 0)
    }
}
