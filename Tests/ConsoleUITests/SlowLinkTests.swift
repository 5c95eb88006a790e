import Foundation
import IncidentCore
import Testing
@testable import ConsoleUI
import TerminalCore

/// Cells that differ between two grids (what the terminal must be sent).
func changedCells(_ a: CellGrid, _ b: CellGrid) -> [(Int, Int)] {
    var out: [(Int, Int)] = []
    for y in 0..<a.size.rows { for x in 0..<a.size.cols where a[x, y] != b[x, y] { out.append((x, y)) } }
    return out
}

@Suite("Cheap redraws over slow links")
struct SlowLinkTests {
    @Test("moving in the hits list changes only the two rows until the selection settles")
    func hitsMove() throws {
        var state = try demoState(cols: 120, rows: 40)
        _ = press(&state, .tab)
        let before = render(state)
        _ = update(&state, .key(.character("j")))
        #expect(state.settledSelection?.hitIndex == 0)
        let moved = render(state)
        let rows = Set(changedCells(before, moved).map(\.1))
        #expect(rows == [2, 3], "changed rows: \(rows.sorted())")
        // The severity label keeps its colour on the selected row: only cells after it change.
        #expect(changedCells(before, moved).allSatisfy { $0.0 >= 48 + 1 + 4 })
        _ = update(&state, .settled)
        #expect(state.settledSelection == nil)
        let settled = render(state)
        #expect(Set(changedCells(moved, settled).map(\.1)).allSatisfy { $0 >= 20 }, "only the detail pane catches up")
        #expect(!changedCells(moved, settled).isEmpty)
    }

    @Test("moving in the servers list leaves the other panes until it settles; any other key settles at once")
    func serversMove() throws {
        var state = try demoState(cols: 120, rows: 40)
        let before = render(state)
        _ = update(&state, .key(.character("j")))
        let moved = render(state)
        #expect(Set(changedCells(before, moved).map(\.1)) == [2, 3])
        #expect(moved.text().contains("Indicator hits: EXCH01 (69)"))
        _ = update(&state, .key(.character("j")))
        _ = update(&state, .key(.tab))
        #expect(state.settledSelection == nil)
        #expect(render(state).text().contains("Indicator hits: EXCH03 (0)"))
        // Back where it started: settled at once.
        _ = update(&state, .key(.backTab))
        _ = update(&state, .key(.character("k")))
        _ = update(&state, .key(.character("j")))
        #expect(state.settledSelection == nil)
    }

    @Test("the list window stays put while the selection is inside it and jumps half a page when it leaves")
    func window() {
        #expect(scrollTop(previous: 0, selected: 17, count: 69, visible: 18) == 0)
        #expect(scrollTop(previous: 0, selected: 18, count: 69, visible: 18) == 9)
        #expect(scrollTop(previous: 9, selected: 26, count: 69, visible: 18) == 9)
        #expect(scrollTop(previous: 9, selected: 8, count: 69, visible: 18) == 0)
        #expect(scrollTop(previous: 40, selected: 68, count: 69, visible: 18) == 51)
        #expect(scrollTop(previous: 60, selected: 60, count: 69, visible: 18) == 51)
        #expect(scrollTop(previous: 5, selected: 3, count: 10, visible: 18) == 0)
        #expect(scrollTop(previous: 3, selected: 0, count: 0, visible: 0) == 0)
    }

    @Test("20 moves down the hits list redraw the list at most twice")
    func fewListRedraws() throws {
        var state = try demoState(cols: 120, rows: 40)
        _ = press(&state, .tab)
        var previous = render(state)
        var big = 0
        for _ in 0..<20 {
            _ = update(&state, .key(.character("j")))
            let next = render(state)
            if Set(changedCells(previous, next).map(\.1)).count > 2 { big += 1 }
            previous = next
        }
        #expect(big == 1)
        #expect(state.hitIndex == 20)
    }
}
