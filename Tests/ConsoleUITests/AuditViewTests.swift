import Foundation
import IncidentCore
import Testing
@testable import ConsoleUI
import TerminalCore

private func at(_ s: String) -> Date { Timestamps.parse(s)! }

/// The demo state with a fixed audit trail (oldest first), including attacker-shaped text.
private func auditState(cols: Int = 100, rows: Int = 30, readOnly: Bool = false) throws -> AppState {
    let (base, playbook, _) = try demoSnapshot()
    var snapshot = base
    snapshot.caseFile.audit = [
        AuditEntry(at: at("2021-03-05T09:00:00.000Z"), by: "alice", action: "case.created", after: "Demo"),
        AuditEntry(at: at("2021-03-05T09:05:00.000Z"), by: "alice via 203.0.113.7", action: "checklist.step", field: "EXCH01/patch", before: "todo", after: "done"),
        AuditEntry(at: at("2021-03-05T09:06:00.000Z"), by: "bob", action: "checklist.step", field: "EXCH01/patch", before: "done", after: "blocked", note: "reboot\u{1B}[2J Friday"),
        AuditEntry(at: at("2021-03-05T09:07:00.000Z"), by: "bob", action: "triage", field: "0123456789abcdef", after: "false-positive", note: "our scanner"),
        AuditEntry(at: at("2021-03-05T09:08:00.000Z"), by: "carol", action: "evidence.altered", field: "evidence/EXCH01/iis/u_ex210303.log",
                   before: "10 bytes sha256 ab", after: "9 bytes sha256 cd (shrank from 10 to 9 bytes)"),
    ]
    var state = AppState(caseName: snapshot.caseFile.name, playbook: playbook, size: Size(cols: cols, rows: rows), readOnly: readOnly)
    _ = update(&state, .snapshot(snapshot))
    return state
}

@Suite("Audit trail view")
struct AuditViewTests {
    @Test("A opens the audit trail newest first, sanitised; Esc and q close it")
    func opensNewestFirst() throws {
        var state = try auditState()
        _ = press(&state, .character("A"))
        #expect(state.audit == AuditViewState())
        #expect(auditEntries(state).map(\.by) == ["carol", "bob", "bob", "alice via 203.0.113.7", "alice"])
        let grid = render(state)
        assertSnapshot(grid.text(), named: "audit-100x30")
        #expect(grid.row(0).contains("Audit trail: 5 of 5, newest first"))
        #expect(grid.row(2).hasPrefix("│2021-03-05T09:08:00.000Z  carol  evidence.altered  evidence/EXCH01/iis/u_ex210303.log  10 bytes"))
        #expect(grid.row(4).contains("EXCH01/patch  done → blocked  note: reboot␛[2J Frid"))
        #expect(!grid.text().contains("\u{1B}"))
        // Keys belong to the view while it is open: j scrolls it, not the server list.
        _ = press(&state, .character("j"))
        #expect(state.serverIndex == 0)
        _ = press(&state, .escape)
        #expect(state.audit == nil)
        _ = press(&state, .character("A"), .character("q"))
        #expect(state.audit == nil)
        #expect(press(&state, .character("j")).isEmpty)
        #expect(state.serverIndex == 1)
    }

    @Test("/ filters by text in any column; an empty filter shows all again")
    func filter() throws {
        var state = try auditState()
        _ = press(&state, .character("A"), .character("/"))
        #expect(state.prompt?.purpose == .auditFilter)
        #expect(state.prompt?.label == "audit filter:")
        for c in "PATCH" { _ = press(&state, .character(c)) }
        _ = press(&state, .enter)
        #expect(state.prompt == nil)
        #expect(state.audit?.filter == "PATCH")
        #expect(auditEntries(state).map(\.after) == ["blocked", "done"])
        let grid = render(state)
        #expect(grid.row(0).contains("Audit trail: 2 of 5, newest first, filter \"PATCH\""))
        _ = press(&state, .character("/"), .ctrl("u"), .enter)
        #expect(auditEntries(state).count == 5)
        _ = press(&state, .character("/"))
        for c in "nobody" { _ = press(&state, .character(c)) }
        _ = press(&state, .enter)
        #expect(render(state).row(2).hasPrefix("│No audit entry matches the filter."))
    }

    @Test("the view scrolls by line and page and stops at the oldest entry")
    func scrolling() throws {
        var state = try auditState(cols: 80, rows: 16)
        var snapshot = try #require(state.snapshot)
        snapshot.caseFile.audit = (0..<60).map { i in
            AuditEntry(at: at("2021-03-05T09:00:00.000Z").addingTimeInterval(Double(i)), by: "u\(i)", action: "checklist.step", field: "EXCH01/patch")
        }
        _ = update(&state, .snapshot(snapshot))
        _ = press(&state, .character("A"))
        let rows = auditVisibleRows(state.size)
        #expect(rows == 12)
        _ = press(&state, .character("j"), .character("j"))
        #expect(state.audit?.scroll == 2)
        _ = press(&state, .pageDown)
        #expect(state.audit?.scroll == 14)
        _ = press(&state, .character("G"))
        #expect(state.audit?.scroll == 48)
        let grid = render(state)
        #expect(grid.row(13).contains("u0"))
        #expect(grid.row(14).contains("↑ 48 newer"))
        _ = press(&state, .character("g"))
        #expect(state.audit?.scroll == 0)
        #expect(render(state).row(2).contains("u59"))
        #expect(render(state).row(14).contains("↓ 48 older"))
    }

    @Test("the audit trail is readable in read-only review")
    func readOnly() throws {
        var state = try auditState(readOnly: true)
        _ = press(&state, .character("A"))
        #expect(state.audit != nil)
        #expect(render(state).row(29).contains("READ-ONLY"))
    }

    @Test("a value another responder changed is announced in the status bar")
    func changedUnderYou() throws {
        var state = try auditState(cols: 140)
        var snapshot = try #require(state.snapshot)
        snapshot.changedUnderYou = ["EXCH01/patch: done → blocked by alice"]
        snapshot.noticeSerial = 1
        _ = update(&state, .snapshot(snapshot))
        #expect(state.message == "changed elsewhere: EXCH01/patch: done → blocked by alice")
        #expect(render(state).row(29).contains("changed elsewhere: EXCH01/patch: done → blocked by alice"))
        // Shown once: the same notice in the next snapshot does not come back after a key.
        _ = press(&state, .character("j"))
        _ = update(&state, .snapshot(snapshot))
        #expect(state.message == nil)
    }

    @Test("evidence altered after intake is marked in the hits list, hit detail, server detail and status bar")
    func alteredEvidence() throws {
        var state = try auditState(cols: 120, rows: 30)
        var snapshot = try #require(state.snapshot)
        let hit = try #require(state.hitsOfSelectedServer.first)
        let i = try #require(snapshot.caseFile.evidence.firstIndex { $0.path == hit.evidence })
        snapshot.caseFile.evidence[i].altered = EvidenceAlteration(detectedAt: at("2021-03-06T10:00:00.000Z"), sizeBytes: 10, sha256: "cd",
                                                                   reason: "shrank from 2000 to 10 bytes")
        _ = update(&state, .snapshot(snapshot))
        let grid = render(state)
        #expect(grid.row(29).contains("1 ALTERED"))
        #expect(grid.row(2).contains("ALTERED "), "\(grid.row(2))")
        let serverDetail = detailLines(state, width: 200, ascii: false).map(\.0)
        #expect(serverDetail.filter { $0.contains("[ALTERED after intake: shrank from 2000 to 10 bytes]") }.map { $0.hasPrefix(hit.evidence + " [") } == [true], "\(serverDetail)")
        _ = press(&state, .tab)
        let hitDetail = detailLines(state, width: 200, ascii: false).map(\.0)
        #expect(hitDetail.contains("ALTERED EVIDENCE: this file changed after intake (shrank from 2000 to 10 bytes); this hit comes from altered evidence"))
    }
}
