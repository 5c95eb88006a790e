import Foundation
import Testing
@testable import IncidentCore

/// What the evidence folder holds besides plain server folders: links to folders, hidden
/// entries and macOS archive leftovers, and server folders whose names differ only in letter
/// case or Unicode normalisation.
@Suite("Evidence folder: links, hidden entries, duplicate server folders")
struct EvidenceFolderTests {
    static let folderLink = "symbolic link to a folder: not followed (a folder is read only where it is, never through a link)"

    func session(_ dir: TempDir, caseFile: CaseFile = CaseFile(name: "folders")) throws -> CaseSession {
        let store = CaseStore(folder: dir.url)
        try store.create(caseFile)
        return CaseSession(store: store, caseFile: try store.load(), engine: try builtInEngine(), playbook: try Playbook.builtIn(),
                           responder: "tester", origin: "local")
    }

    func link(_ dir: TempDir, _ at: String, to destination: String) throws {
        try FileManager.default.createSymbolicLink(atPath: dir.url.appendingPathComponent(at).path, withDestinationPath: destination)
    }

    func describe(_ skipped: [EvidenceWalker.Skipped]) -> [String] {
        skipped.map { "\($0.relativePath) [\($0.server)] \($0.reason)" }
    }

    // MARK: Links to folders

    @Test func linksToFoldersAreSkippedAndNeverServersWhileLinksToFilesAreRead() throws {
        let dir = try TempDir("folder-links")
        try dir.write("evidence/EXCH01/IIS/u_ex210303.log", ScanFixture.text([ScanFixture.ssrf]))
        try dir.write("evidence/S1/u_ex210303.log", ScanFixture.text([ScanFixture.benign]))
        try dir.write("evidence/S2/u_ex210303.log", ScanFixture.text([ScanFixture.shell]))
        try link(dir, "evidence/exch01.corp.example", to: "EXCH01")        // another name for a server folder
        try link(dir, "evidence/loop", to: ".")                            // evidence/ itself
        try link(dir, "evidence/S1/up", to: "../S2")                       // another server's folder, deeper
        try link(dir, "evidence/S1/self", to: ".")                         // a loop, deeper
        try link(dir, "evidence/S1/linked.log", to: "../EXCH01/IIS/u_ex210303.log")  // a file: read

        let listing = EvidenceWalker.list(dir.url)
        #expect(listing.servers == ["EXCH01", "S1", "S2"])
        #expect(listing.found.map { "\($0.relativePath) [\($0.server)]" } == [
            "evidence/EXCH01/IIS/u_ex210303.log [EXCH01]", "evidence/S1/linked.log [S1]",
            "evidence/S1/u_ex210303.log [S1]", "evidence/S2/u_ex210303.log [S2]",
        ])
        #expect(describe(listing.skipped) == [
            "evidence/S1/self [S1] \(Self.folderLink)",
            "evidence/S1/up [S1] \(Self.folderLink)",
            "evidence/exch01.corp.example [] \(Self.folderLink); not a server",
            "evidence/loop [] \(Self.folderLink); not a server",
        ])
        #expect(listing.notices == [])

        let snap = try session(dir).scanOnce()
        #expect(snap.caseFile.servers.map(\.name) == ["EXCH01", "S1", "S2"])
        // Every hit once: 3 from EXCH01's log, 3 from S1's link to it, 3 from S2's log.
        #expect(snap.hits.count == 9)
        #expect(snap.summaries.map { "\($0.name) \($0.hits)" } == ["EXCH01 3", "S1 3", "S2 3"])
        #expect(Set(snap.hits.map(\.evidence)) == ["evidence/EXCH01/IIS/u_ex210303.log", "evidence/S1/linked.log", "evidence/S2/u_ex210303.log"])
        #expect(snap.caseFile.evidence.map(\.path) == ["evidence/EXCH01/IIS/u_ex210303.log", "evidence/S1/linked.log",
                                                        "evidence/S1/u_ex210303.log", "evidence/S2/u_ex210303.log"])
        #expect(snap.statuses.filter(\.skipped).map(\.path) == ["evidence/S1/self", "evidence/S1/up", "evidence/exch01.corp.example", "evidence/loop"])
    }

    // MARK: Hidden entries

    @Test func hiddenEntriesAndMacOSMetadataAreSkippedWithReasonsAndAreNoServers() throws {
        let dir = try TempDir("hidden")
        try dir.write("evidence/.git/HEAD", "ref: refs/heads/main\n")
        try dir.write("evidence/.hidden/u_ex210303.log", ScanFixture.text([ScanFixture.ssrf]))
        try dir.write("evidence/__MACOSX/EXCH01/._u_ex210303.log", [0, 5, 22, 7, 0, 2, 0, 0])
        try dir.write("evidence/.DS_Store", [0, 0, 0, 1, 66, 117, 100, 49])
        try dir.write("evidence/EXCH01/u_ex210303.log", ScanFixture.text([ScanFixture.benign]))
        try dir.write("evidence/EXCH01/.DS_Store", [0, 0, 0, 1])
        try dir.write("evidence/EXCH01/__MACOSX/._x.log", [0, 5, 22, 7])
        try dir.write("evidence/EXCH01/inetpub/.shell.aspx", ScanFixture.text([ScanFixture.shell]))

        let listing = EvidenceWalker.list(dir.url)
        #expect(listing.servers == ["EXCH01"])
        #expect(listing.found.map(\.relativePath) == ["evidence/EXCH01/u_ex210303.log"])
        #expect(describe(listing.skipped) == [
            "evidence/.DS_Store [] hidden file (name starts with \".\"): not read",
            "evidence/.git [] hidden folder (name starts with \".\"): not a server, not read; rename it without the dot to read it",
            "evidence/.hidden [] hidden folder (name starts with \".\"): not a server, not read; rename it without the dot to read it",
            "evidence/EXCH01/.DS_Store [EXCH01] hidden file (name starts with \".\"): not read; rename it without the dot to read it",
            "evidence/EXCH01/__MACOSX [EXCH01] macOS archive metadata (__MACOSX): not read",
            "evidence/EXCH01/inetpub/.shell.aspx [EXCH01] hidden file (name starts with \".\"): not read; rename it without the dot to read it",
            "evidence/__MACOSX [] macOS archive metadata (__MACOSX): not a server, not read",
        ])

        let snap = try session(dir).scanOnce()
        #expect(snap.caseFile.servers.map(\.name) == ["EXCH01"])
        #expect(snap.hits.isEmpty)
        #expect(snap.caseFile.evidence.map(\.path) == ["evidence/EXCH01/u_ex210303.log"])
        #expect(snap.statuses.filter(\.skipped).count == 7)
    }

    // MARK: Server folders that differ only in case or normalisation

    @Test func foldersDifferingOnlyInCaseOrNormalisationAreOneServerWithAWarning() throws {
        let dir = try TempDir("dup-servers")
        let nfc = "Caf\u{E9}", nfd = "Cafe\u{301}"
        try #require(nfc == nfd && !nfc.unicodeScalars.elementsEqual(nfd.unicodeScalars))
        try dir.write("evidence/EXCH04/IIS/u_ex210303.log", ScanFixture.text([ScanFixture.ssrf]))
        try dir.write("evidence/exch04/IIS/u_ex210304.log", ScanFixture.text([ScanFixture.shell]))
        try dir.write("evidence/\(nfc)/a.log", ScanFixture.text([ScanFixture.benign]))
        try dir.write("evidence/\(nfd)/b.log", ScanFixture.text([ScanFixture.ssrf]))
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.url.appendingPathComponent("evidence").path)
        try #require(names.count == 4, "the file system merged two of \(names)")

        let listing = EvidenceWalker.list(dir.url)
        // Equal as Swift strings, ordered by bytes: the NFD spelling ("e" + U+0301) sorts first.
        #expect(listing.servers.map { Array($0.unicodeScalars) } == [Array(nfd.unicodeScalars), Array("EXCH04".unicodeScalars)])
        #expect(listing.notices.map { "\($0.relativePath) [\($0.server)] \($0.message)" } == [
            "evidence/\(nfc) [\(nfd)] server folder name differs from evidence/\(nfd) only in Unicode normalisation: read as the same server \(nfd); merge the two folders",
            "evidence/exch04 [EXCH04] server folder name differs from evidence/EXCH04 only in letter case: read as the same server EXCH04; merge the two folders",
        ])
        #expect(listing.notices.first.map { Array($0.relativePath.unicodeScalars) } == Array("evidence/\(nfc)".unicodeScalars))
        #expect(listing.found.map(\.server) == [nfd, nfd, "EXCH04", "EXCH04"])
        #expect(listing.found.allSatisfy { $0.server.unicodeScalars.elementsEqual(nfd.unicodeScalars) || $0.server == "EXCH04" })

        let snap = try session(dir).scanOnce()
        #expect(snap.caseFile.servers.map { Array($0.name.unicodeScalars) } == [Array(nfd.unicodeScalars), Array("EXCH04".unicodeScalars)])
        #expect(snap.summaries.map { "\($0.name) \($0.hits)" } == ["\(nfd) 3", "EXCH04 6"])
        // Every hit and file names its server as the case spells it.
        #expect(snap.hits.count == 9)
        #expect(snap.hits.allSatisfy { hit in snap.caseFile.servers.contains { $0.name.unicodeScalars.elementsEqual(hit.server.unicodeScalars) } })
        #expect(Set(snap.hits.filter { $0.evidence.hasPrefix("evidence/exch04/") }.map(\.server)) == ["EXCH04"])
        #expect(snap.statuses.allSatisfy { status in snap.caseFile.servers.contains { $0.name.unicodeScalars.elementsEqual(status.server.unicodeScalars) } })
        #expect(snap.caseFile.evidence.allSatisfy { e in snap.caseFile.servers.contains { $0.name.unicodeScalars.elementsEqual(e.server.unicodeScalars) } })
        #expect(snap.evidenceNotices.map(\.relativePath) == ["evidence/\(nfc)", "evidence/exch04"])
        // The notice is a warning, not a skip: nothing is left unread.
        #expect(snap.statuses.filter(\.skipped).isEmpty)
    }

    @Test func hitsCarryTheServerNameAsTheCaseSpellsIt() throws {
        let dir = try TempDir("case-spelling")
        try dir.write("evidence/exch04/IIS/u_ex210303.log", ScanFixture.text([ScanFixture.ssrf]))
        let snap = try session(dir, caseFile: CaseFile(name: "spelling", servers: [Server(name: "EXCH04")])).scanOnce()
        #expect(snap.caseFile.servers.map(\.name) == ["EXCH04"])
        #expect(snap.hits.map(\.server) == ["EXCH04", "EXCH04", "EXCH04"])
        #expect(snap.statuses.map(\.server) == ["EXCH04"])
        #expect(snap.caseFile.evidence.map { "\($0.path) \($0.server)" } == ["evidence/exch04/IIS/u_ex210303.log EXCH04"])
        #expect(snap.summaries.map { "\($0.name) \($0.hits) \($0.evidenceFiles)" } == ["EXCH04 3 1"])
        #expect(snap.evidenceNotices.isEmpty)
    }

    @Test func caseFileLooksServersUpByTheSameKeyAsEveryGrouping() {
        let nfc = "Caf\u{E9}", nfd = "Cafe\u{301}"
        let caseFile = CaseFile(name: "k", servers: [Server(name: "EXCH04"), Server(name: nfc)])
        #expect(caseFile.server(named: "exch04")?.name == "EXCH04")
        #expect(caseFile.serverIndex(named: "ExCh04") == 0)
        #expect(caseFile.server(named: nfd.uppercased())?.name.unicodeScalars.elementsEqual(nfc.unicodeScalars) == true)
        #expect(CaseFile.serverKey("EXCH04") == CaseFile.serverKey("exch04"))
        #expect(CaseFile.serverKey(nfc) == CaseFile.serverKey(nfd))
        #expect(caseFile.server(named: "EXCH4") == nil)
    }
}
