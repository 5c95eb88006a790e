import Foundation
import IncidentCore
import Testing
@testable import ConsoleUI
import TerminalCore

@Suite("New-user gaps on screen")
struct NewUserGapsUITests {
    /// A scanned case: EXCH01 with a message-tracking log whose header is cut (read as a
    /// collected file) and a FIFO, and EXCH04 with an empty evidence folder.
    func scannedCase() throws -> AppState {
        _ = utf8Locale
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ui-gaps-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = CaseStore(folder: dir)
        try store.create(CaseFile(name: "Gaps"))
        let evidence = dir.appendingPathComponent("evidence")
        try FileManager.default.createDirectory(at: evidence.appendingPathComponent("EXCH01"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: evidence.appendingPathComponent("EXCH04"), withIntermediateDirectories: true)
        try (Data("#Software: Microsoft Exch".utf8) + Data([0, 0, 0xFF, 0x13]) + Data("\r\n2021-03-03T06:44:21.437Z,,,10\r\n".utf8))
            .write(to: evidence.appendingPathComponent("EXCH01/MSGTRK20210303-1.LOG"))
        #expect(mkfifo(evidence.appendingPathComponent("EXCH01/pipe").path, 0o600) == 0)
        let playbook = try Playbook.builtIn()
        let session = CaseSession(store: store, caseFile: try store.load(), engine: try RuleEngine.builtIn(), playbook: playbook, responder: "tester")
        var state = AppState(caseName: "Gaps", playbook: playbook, size: Size(cols: 140, rows: 40))
        _ = update(&state, .snapshot(session.scanOnce()))
        return state
    }

    @Test("the server's file list shows a garbled log read as a collected file, and a FIFO skipped")
    func fileListWarnings() throws {
        var state = try scannedCase()
        let names = state.snapshot?.summaries.map(\.name) ?? []
        #expect(names == ["EXCH01", "EXCH04"])
        state.serverIndex = try #require(state.servers.firstIndex { $0.name == "EXCH01" })
        state.refreshViews()
        let lines = detailLines(state, width: 138, ascii: false).map(\.0)
        #expect(lines.contains("evidence/EXCH01/MSGTRK20210303-1.LOG [collected file (YARA)] format not recognised: read as a collected file (content signatures only)"), "\(lines)")
        #expect(lines.contains("evidence/EXCH01/pipe [not checked] not a regular file (a FIFO): never opened, not checked"), "\(lines)")
        // On screen: the server's detail view (Enter) lists the files with their warnings.
        _ = press(&state, .enter)
        #expect(state.showDetail)
        let screen = render(state).text()
        #expect(screen.contains("evidence/EXCH01/MSGTRK20210303-1.LOG [collected file (YARA)] format not recognised: read as a collected file (content signatures only)"), "\(screen)")
        #expect(screen.contains("evidence/EXCH01/pipe [not checked] not a regular file (a FIFO): never opened, not checked"))
    }

    @Test("a server whose evidence folder is still empty is listed, not assessed, never clean")
    func emptyFolderServerListed() throws {
        var state = try scannedCase()
        state.serverIndex = try #require(state.servers.firstIndex { $0.name == "EXCH04" })
        state.refreshViews()
        #expect(state.selectedServer?.name == "EXCH04")
        #expect(state.selectedServer?.verdict == .notAssessed)
        #expect(state.selectedServer?.compromiseState == .unknown)
        let lines = detailLines(state, width: 138, ascii: false).map(\.0)
        #expect(lines.first == "EXCH04: not-assessed")
        #expect(lines.contains("0 evidence file(s), 0 read as a known format:"))
    }
}
