import Foundation
import IncidentCore
import Testing
@testable import ConsoleUI
import TerminalCore

/// Widths come from the C library's wcwidth, which needs a UTF-8 locale.
let utf8Locale: Bool = {
    setlocale(LC_ALL, "C.UTF-8")
    return true
}()

/// The repository root, found from this file's path.
let repoRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Compares `actual` with `Tests/ConsoleUITests/__Snapshots__/<name>.txt`. With
/// `RECORD_SNAPSHOTS=1` (or when the file is missing) the snapshot is written and the test fails,
/// so a new snapshot is always looked at before it is committed.
func assertSnapshot(_ actual: String, named name: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let url = repoRoot.appendingPathComponent("Tests/ConsoleUITests/__Snapshots__/\(name).txt")
    let record = ProcessInfo.processInfo.environment["RECORD_SNAPSHOTS"] == "1"
    if record || !FileManager.default.fileExists(atPath: url.path) {
        try? (actual + "\n").write(to: url, atomically: true, encoding: .utf8)
        Issue.record("recorded snapshot \(name); check it and run the tests again", sourceLocation: sourceLocation)
        return
    }
    let expected = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    #expect(actual + "\n" == expected, "snapshot \(name) differs; RECORD_SNAPSHOTS=1 swift test re-records it", sourceLocation: sourceLocation)
}

/// A copy of the bundled demo case, scanned once; the snapshot's scan time is fixed.
func demoSnapshot() throws -> (CaseSnapshot, Playbook, RuleEngine) {
    _ = utf8Locale
    let source = repoRoot.appendingPathComponent("Sources/incident/DemoCase")
    let target = FileManager.default.temporaryDirectory.appendingPathComponent("ui-demo-\(UUID().uuidString)")
    try FileManager.default.copyItem(at: source, to: target)
    defer { try? FileManager.default.removeItem(at: target) }
    let store = CaseStore(folder: target)
    let engine = try RuleEngine.builtIn()
    let playbook = try Playbook.builtIn()
    let session = CaseSession(store: store, caseFile: try store.load(), engine: engine, playbook: playbook, responder: "tester")
    var snapshot = session.scanOnce()
    snapshot.lastScan = Date(timeIntervalSince1970: 1_614_756_000) // 2021-03-03T07:20:00Z
    return (snapshot, playbook, engine)
}

/// A console state showing the demo case at a size.
func demoState(cols: Int = 80, rows: Int = 24) throws -> AppState {
    let (snapshot, playbook, engine) = try demoSnapshot()
    var state = AppState(caseName: snapshot.caseFile.name, playbook: playbook, size: Size(cols: cols, rows: rows))
    state.indicatorTitles = Dictionary(engine.pack.indicators.map { ($0.id, $0.title) }, uniquingKeysWith: { a, _ in a })
    _ = update(&state, .snapshot(snapshot))
    return state
}

/// Presses keys, then pauses (``Action/settled``), as a responder does between keystrokes.
func press(_ state: inout AppState, _ keys: Key...) -> [Effect] {
    var effects: [Effect] = []
    for k in keys { effects += update(&state, .key(k)) }
    _ = update(&state, .settled)
    return effects
}

/// Types text as key presses (into a prompt, or as commands).
func type(_ state: inout AppState, _ text: String) -> [Effect] {
    var effects: [Effect] = []
    for c in text { effects += update(&state, .key(.character(c))) }
    return effects
}
