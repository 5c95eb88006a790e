import ArgumentParser
import Foundation
import IncidentCore

/// `incident bench scan CASE`: times one full scan of a case's evidence and rescans of the unchanged
/// files, in one process, without writing to the case.
struct BenchScanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Time a full scan of a case's evidence and rescans of the unchanged files (the case is not written).",
        discussion: """
        Prints the files and bytes read, the threads used (INCIDENT_SCAN_THREADS=1 for single-threaded), whether the literal prefilter is on and how many literals it searches per format, the first pass in seconds and MiB/s with the full catalog (built-in plus the case's enabled packs), and the rescan time of the unchanged files in milliseconds (minimum and median). --no-prefilter parses every line instead, for comparison (the results are the same); INCIDENT_SCAN_SWEEP=off reads the lines the prefilter rules out with the Swift per-line checks instead of the vectorised C sweep (same results). Benchmarks/throughput-vs-ripgrep.sh generates logs and compares with ripgrep.

        Exit codes: 0 success; 2 error (a case that cannot be read).

        Example:
          INCIDENT_SCAN_THREADS=1 incident bench scan ./case-2021-03 --rescans 5
        """
    )

    @Argument(help: "The case folder, or its case.json.")
    var casePath: String

    @Option(help: "Rescans of the unchanged evidence to time after the first pass.")
    var rescans: Int = 5

    @Flag(help: "Parse every line instead of only those the literal prefilter selects (same results, slower).")
    var noPrefilter = false

    func run() throws {
        let (store, _, loaded, _) = CaseLoader.load(casePath)
        let engine = noPrefilter ? try RuleEngine(pack: loaded.pack, literalPrefilter: false) : loaded
        let scanner = EvidenceScanner(engine: engine)
        let clock = ContinuousClock()
        let cpuBefore = Self.cpuSeconds()
        let first = clock.measure { scanner.scan(caseFolder: store.folder) }
        let cpu = Self.cpuSeconds() - cpuBefore
        let statuses = scanner.statuses.filter { !$0.skipped }
        let bytes = statuses.reduce(Int64(0)) { $0 + $1.sizeBytes }
        let hits = scanner.hits.count
        var times: [Double] = []
        for _ in 0..<max(0, rescans) {
            let d = clock.measure { scanner.scan(caseFolder: store.folder) }
            times.append(Self.seconds(d) * 1000)
        }
        let secs = Self.seconds(first)
        print("files: \(statuses.count), bytes: \(bytes), threads: \(scanner.threads)")
        let literals = [EvidenceFormat.httpProxy, .iisW3C].map { f in engine.prefilter(for: f).map { "\($0.literals.count) literals for \(f.rawValue)" } ?? "none for \(f.rawValue)" }
        print("prefilter: " + (noPrefilter ? "off (every line parsed)" : "on, " + literals.joined(separator: ", ")))
        print(String(format: "first pass: %.2f s, %.1f MiB/s, %d hit(s); CPU %.2f s (user+system), %.1f MiB per CPU-second",
                     secs, Double(bytes) / 1_048_576 / max(secs, 1e-9), hits, cpu, Double(bytes) / 1_048_576 / max(cpu, 1e-9)))
        if !times.isEmpty {
            let sorted = times.sorted()
            print(String(format: "rescan of %d unchanged file(s): min %.1f ms, median %.1f ms over %d pass(es)",
                         statuses.count, sorted[0], sorted[sorted.count / 2], sorted.count))
        }
    }

    /// User plus system CPU time of this process so far, in seconds (all threads).
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        func s(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return s(usage.ru_utime) + s(usage.ru_stime)
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
