import ArgumentParser
import ConsoleUI
import Foundation
import IncidentCore
import TerminalCore

/// `incident bench`: speed figures for the console (see `Benchmarks/`).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the console's render speed on a synthetic case, or scan speed on a case's evidence.",
        subcommands: [BenchRenderCommand.self, BenchScanCommand.self],
        defaultSubcommand: BenchRenderCommand.self
    )
}

/// `incident bench render`: milliseconds per frame rendered into the cell grid.
struct BenchRenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Time rendering frames into the cell grid with a large synthetic case.",
        discussion: """
        Builds a synthetic case in memory (no files), installs it as the console does, then moves the selection one row per frame (servers pane, hits pane, checklist pane; each frame fully settled, so the panes that follow the selection are redrawn too) and times update + render of each frame. Prints one line per measurement: name, frames, median, 95th percentile and worst, in milliseconds. The target is under 5 ms per frame with 10,000 servers and 1,000,000 hits.

        Exit codes: 0 success; 2 error.

        Example:
          incident bench render --servers 10000 --hits 1000000 --frames 300
        """
    )

    @Option(help: "Servers in the synthetic case.")
    var servers = 10_000

    @Option(help: "Hits in the synthetic case, spread evenly over the servers.")
    var hits = 1_000_000

    @Option(help: "Frames per measurement.")
    var frames = 300

    @Option(help: "Screen columns.")
    var cols = 120

    @Option(help: "Screen rows.")
    var rows = 40

    func run() throws {
        setlocale(LC_ALL, "C.UTF-8")
        let engine = try RuleEngine.builtIn()
        let playbook = try Playbook.builtIn()
        var clock = ContinuousClock.now
        let snapshot = SyntheticCase.snapshot(servers: servers, hits: hits, pack: engine.pack, playbook: playbook)
        print("built synthetic case: \(servers) servers, \(snapshot.hits.count) hits in \(ms(clock.duration(to: .now))) ms")
        var state = AppState(caseName: snapshot.caseFile.name, playbook: playbook, size: Size(cols: cols, rows: rows))
        state.indicatorTitles = Dictionary(engine.pack.indicators.map { ($0.id, $0.title) }, uniquingKeysWith: { a, _ in a })
        clock = .now
        _ = update(&state, .snapshot(snapshot))
        print("installed snapshot (group, sort, derive) in \(ms(clock.duration(to: .now))) ms")
        clock = .now
        _ = update(&state, .snapshot(snapshot))
        print("a rescan with the same hits in \(ms(clock.duration(to: .now))) ms")

        func measure(_ name: String, keys: [Key]) {
            var times: [Double] = []
            var cells = 0
            for i in 0..<frames {
                let start = ContinuousClock.now
                _ = update(&state, .key(keys[i % keys.count]))
                // Every frame fully settled: the panes that follow the selection are redrawn too.
                _ = update(&state, .settled)
                let grid = render(state)
                times.append(ms(start.duration(to: .now)))
                cells &+= grid.cells.count
            }
            times.sort()
            let median = times[times.count / 2]
            let p95 = times[min(times.count - 1, times.count * 95 / 100)]
            print(String(format: "%-34@ frames %4d  median %6.3f ms  p95 %6.3f ms  worst %6.3f ms", name as NSString, frames, median, p95, times.last ?? 0))
        }
        measure("render only (Ctrl-L)", keys: [.ctrl("l")])
        measure("servers pane: j (next server)", keys: [.character("j")])
        _ = update(&state, .key(.tab))
        measure("hits pane: j (next hit)", keys: [.character("j")])
        _ = update(&state, .key(.tab))
        measure("checklist pane: j/k", keys: [.character("j"), .character("k")])
        _ = update(&state, .key(.backTab))
        _ = update(&state, .key(.enter))
        measure("detail view of a hit: j/k scroll", keys: [.character("j"), .character("k")])
    }

    private func ms(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    }
}
