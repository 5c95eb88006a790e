import Foundation
import Testing

/// What a tester found running the commands: links to folders and hidden folders under
/// evidence/, server folders differing only in case, mistyped builds, and case settings that
/// `incident check` let through.
@Suite("Command line: tester findings")
struct TesterFindingsCommandTests {
    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// Line and column (1-based) of the value of `"key"` in a pretty-printed case file.
    func position(of key: String, in text: String) throws -> (Int, Int) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let i = try #require(lines.firstIndex { $0.contains("\"\(key)\"") })
        let line = lines[i]
        let colon = try #require(line.range(of: "\"\(key)\"")).upperBound
        var at = try #require(line[colon...].firstIndex(of: ":"))
        at = line.index(after: at)
        while line[at] == " " { at = line.index(after: at) }
        return (i + 1, line.distance(from: line.startIndex, to: at) + 1)
    }

    static let readExSetup = "check the build (ExSetup.exe's file version: Get-Command ExSetup.exe | % { $_.FileVersionInfo.FileVersion })"

    @Test("server set refuses a build not in the build table (exit 2, nothing saved); from the case file it gives patch state unknown and check warns")
    func mistypedBuild() throws {
        let dir = temporaryFolder("typo-build").appendingPathComponent("case")
        #expect(try run(incidentBinary.path, ["demo", "--dir", dir.path, "--no-open"]).status == 0)
        let file = dir.appendingPathComponent("case.json")
        let before = try Data(contentsOf: file)
        let refusals = [
            ("15.1.22424.4", "15.1.22424.4 is above Exchange 2016 CU23 (15.1.2507.6), the newest 15.1 CU it lists"),
            ("15.2.99999.0", "15.2.99999.0 is above Exchange SE RTM (15.2.2562.17), the newest 15.2 CU it lists"),
            ("15.0.9999.0", "15.0.9999.0 is above Exchange 2013 CU23 (15.0.1497.2), the newest 15.0 CU it lists"),
        ]
        for (build, why) in refusals {
            let r = try run(incidentBinary.path, ["server", "set", dir.path, "EXCH02", "--build", build])
            #expect(r.status == 2, "\(build)")
            #expect(r.stdout == "")
            #expect(r.stderr.contains("--build: build not in the build table: \(why); \(Self.readExSetup); nothing was recorded"), "\(r.stderr)")
            #expect(!r.stderr.contains("patch state"))
            let add = try run(incidentBinary.path, ["server", "add", dir.path, "EXCH09", "--build", build])
            #expect(add.status == 2)
            #expect(add.stderr.contains("build not in the build table: \(why)"))
        }
        #expect(try Data(contentsOf: file) == before)
        // A real later CU is taken, and patches.
        let ok = try run(incidentBinary.path, ["server", "set", dir.path, "EXCH03", "--build", "15.1.2507.6"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains("EXCH03: patch state patched (build 15.1.2507.6 ≥ fixed 15.1.2507.6)"))

        // Written into the case file by hand (or by an older version): unknown, and the patch step stays open.
        var object = try json(String(contentsOf: file, encoding: .utf8))
        var list = try #require(object["servers"] as? [[String: Any]])
        try #require(list[1]["name"] as? String == "EXCH02")
        list[1]["exchangeBuild"] = "15.1.22424.4"
        object["servers"] = list
        try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]).write(to: file)
        let scan = try run(incidentBinary.path, ["scan", dir.path, "--format", "json"])
        let servers = try #require(try json(scan.stdout)["servers"] as? [[String: Any]])
        let s = try #require(servers.first { $0["name"] as? String == "EXCH02" })
        #expect(s["patchState"] as? String == "unknown")
        #expect(s["patchReason"] as? String == "build not in the build table: 15.1.22424.4 is above Exchange 2016 CU23 (15.1.2507.6), the newest 15.1 CU it lists; \(Self.readExSetup)")
        #expect(s["done"] as? Bool == false)
        let saved = try json(String(contentsOf: file, encoding: .utf8))
        #expect((saved["checklists"] as? [String: [String: Any]])?["EXCH02"]?["patch"] == nil)

        let text2 = try String(contentsOf: file, encoding: .utf8)
        let exch02Line = try #require(text2.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("15.1.22424.4") }) + 1
        let line = String(text2.split(separator: "\n", omittingEmptySubsequences: false)[exch02Line - 1])
        let column = try #require(line.range(of: "\"15.1.22424.4\"")).lowerBound.utf16Offset(in: line) + 1
        let check = try run(incidentBinary.path, ["check", dir.path])
        #expect(check.status == 1, "\(check.stdout)")
        #expect(check.stdout == "\(dir.path)/case.json:\(exch02Line):\(column): warning: exchangeBuild of server \"EXCH02\": build not in the build table: 15.1.22424.4 is above Exchange 2016 CU23 (15.1.2507.6), the newest 15.1 CU it lists; \(Self.readExSetup); its patch state is unknown\n")
    }

    @Test("check: a rescan interval of 0 or less is an error, a build that is no build a warning; open names the case setting")
    func checkSettingsAndBuilds() throws {
        let dir = temporaryFolder("check-values").appendingPathComponent("case")
        #expect(try run(incidentBinary.path, ["new", dir.path, "--name", "Values"]).status == 0)
        #expect(try run(incidentBinary.path, ["server", "add", dir.path, "EXCH01", "--build", "15.1.2106.2"]).status == 0)
        let file = dir.appendingPathComponent("case.json")
        let original = try String(contentsOf: file, encoding: .utf8)
        for value in ["0", "-5", "-0.5"] {
            let text = original.replacingOccurrences(of: "\"rescanIntervalSeconds\" : 2", with: "\"rescanIntervalSeconds\" : \(value)")
                .replacingOccurrences(of: "\"15.1.2106.2\"", with: "\"banana\"")
            try #require(text != original)
            try Data(text.utf8).write(to: file)
            let (iLine, iColumn) = try position(of: "rescanIntervalSeconds", in: text)
            let (bLine, bColumn) = try position(of: "exchangeBuild", in: text)
            let shown = value == "-0.5" ? "-0.5" : value
            let r = try run(incidentBinary.path, ["check", dir.path])
            #expect(r.status == 2, "\(value)")
            #expect(r.stdout.split(separator: "\n").map(String.init) == [
                "\(dir.path)/case.json:\(iLine):\(iColumn): error: settings.rescanIntervalSeconds is \(shown): the rescan interval must be more than 0 seconds (the default is 2); incident open cannot run with it",
                "\(dir.path)/case.json:\(bLine):\(bColumn): warning: exchangeBuild \"banana\" of server \"EXCH01\" is not an Exchange build (four numbers such as 15.1.2176.9, from ExSetup.exe): its patch state is unknown",
                "the previous good version \(dir.path)/case.json.bak loads: incident restore \(dir.path)",
            ], "\(r.stdout)")
            #expect(r.stderr == "incident: 1 error(s), 1 warning(s)\n")

            // open fails before it needs a terminal, naming the setting, not an option nobody gave.
            let open = try run(incidentBinary.path, ["open", dir.path, "--read-only"])
            #expect(open.status == 2)
            #expect(open.stderr == "incident: \(dir.path)/case.json:\(iLine):\(iColumn): settings.rescanIntervalSeconds is \(shown): the rescan interval must be more than 0 seconds (the default is 2); incident open cannot run with it; set it in the case file, or give --interval SECONDS\n", "\(open.stderr)")
            #expect(!open.stderr.contains("--interval must be"))
        }
        // --interval given: its own message.
        let given = try run(incidentBinary.path, ["open", dir.path, "--read-only", "--interval", "0"])
        #expect(given.status == 2)
        #expect(given.stderr == "incident: --interval must be more than 0 seconds\n")
        // A CU-level build is not a recorded build either; a good case checks clean.
        try Data(original.replacingOccurrences(of: "\"15.1.2106.2\"", with: "\"15.1.2106\"").utf8).write(to: file)
        let cu = try run(incidentBinary.path, ["check", dir.path])
        #expect(cu.status == 1)
        #expect(cu.stdout.contains("warning: exchangeBuild \"15.1.2106\" of server \"EXCH01\" is not an Exchange build"))
        try Data(original.utf8).write(to: file)
        let clean = try run(incidentBinary.path, ["check", dir.path])
        #expect(clean.status == 0, "\(clean.stdout)")
    }

    @Test("scan: a link to a server folder is no second server, hidden folders are skipped, case-only duplicates warn and merge")
    func evidenceFolderOddities() throws {
        let demo = temporaryFolder("folder-oddities").appendingPathComponent("case")
        #expect(try run(incidentBinary.path, ["demo", "--dir", demo.path, "--no-open"]).status == 0)
        let baseline = try json(try run(incidentBinary.path, ["scan", demo.path, "--read-only", "--format", "json"]).stdout)
        let baseHits = try #require(baseline["hits"] as? [[String: Any]])
        let exch01Hits = baseHits.filter { $0["server"] as? String == "EXCH01" }.count
        try #require(exch01Hits > 0)

        let evidence = demo.appendingPathComponent("evidence")
        let fm = FileManager.default
        try fm.createSymbolicLink(atPath: evidence.appendingPathComponent("exch01.corp.example").path, withDestinationPath: "EXCH01")
        try fm.createSymbolicLink(atPath: evidence.appendingPathComponent("loop").path, withDestinationPath: ".")
        try fm.createSymbolicLink(atPath: evidence.appendingPathComponent("EXCH02/up").path, withDestinationPath: "../EXCH01")
        try fm.createDirectory(at: evidence.appendingPathComponent(".git/objects"), withIntermediateDirectories: true)
        try Data("x".utf8).write(to: evidence.appendingPathComponent(".git/objects/x"))
        try fm.createDirectory(at: evidence.appendingPathComponent("__MACOSX/EXCH01"), withIntermediateDirectories: true)
        try Data([0, 5, 22, 7]).write(to: evidence.appendingPathComponent("__MACOSX/EXCH01/._x"))
        // A second copy of EXCH03's folder, spelled in lower case, holding one more IIS log.
        try fm.createDirectory(at: evidence.appendingPathComponent("exch03/IIS"), withIntermediateDirectories: true)
        let shell = "2021-03-03 07:02:13 10.0.0.21 POST /aspnet_client/discover.aspx - 443 - 5.254.43.18 antSword/v2.1 - 200 0 0 38\r\n"
        try Data(("#Software: Microsoft Internet Information Services 10.0\r\n#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\r\n" + shell).utf8)
            .write(to: evidence.appendingPathComponent("exch03/IIS/u_ex210303.log"))

        let text = try run(incidentBinary.path, ["scan", demo.path])
        #expect(text.status == 1)
        let warnings = text.stdout.split(separator: "\n").map(String.init).filter { $0.hasPrefix("warning: ") }
        #expect(warnings == [
            "warning: evidence/exch03: server folder name differs from evidence/EXCH03 only in letter case: read as the same server EXCH03; merge the two folders",
            "warning: evidence/.git: hidden folder (name starts with \".\"): not a server, not read; rename it without the dot to read it",
            "warning: evidence/EXCH01/IIS/W3SVC1/u_ex210823.log: no #Fields header: 1 line(s) read with the IIS default field layout",
            "warning: evidence/EXCH02/up: symbolic link to a folder: not followed (a folder is read only where it is, never through a link)",
            "warning: evidence/__MACOSX: macOS archive metadata (__MACOSX): not a server, not read",
            "warning: evidence/exch01.corp.example: symbolic link to a folder: not followed (a folder is read only where it is, never through a link); not a server",
            "warning: evidence/loop: symbolic link to a folder: not followed (a folder is read only where it is, never through a link); not a server",
        ], "\(warnings)")

        let scan = try json(try run(incidentBinary.path, ["scan", demo.path, "--format", "json"]).stdout)
        let servers = try #require(scan["servers"] as? [[String: Any]])
        #expect(servers.compactMap { $0["name"] as? String } == ["EXCH01", "EXCH02", "EXCH03"])
        let hits = try #require(scan["hits"] as? [[String: Any]])
        // EXCH01's hits once (not again through the links), EXCH03 with the hits of both folders.
        #expect(hits.filter { $0["server"] as? String == "EXCH01" }.count == exch01Hits)
        #expect(Set(hits.compactMap { $0["server"] as? String }) == ["EXCH01", "EXCH02", "EXCH03"])
        let fromCopy = hits.filter { ($0["evidence"] as? String)?.hasPrefix("evidence/exch03/") == true }
        #expect(fromCopy.count == 3)
        #expect(fromCopy.allSatisfy { $0["server"] as? String == "EXCH03" })
        #expect(hits.count == baseHits.count + 3)
        #expect(servers.first { $0["name"] as? String == "EXCH03" }?["hits"] as? Int
                == baseHits.filter { $0["server"] as? String == "EXCH03" }.count + 3)
        #expect((scan["evidenceWarnings"] as? [[String: Any]])?.map { "\($0["path"] ?? "") \($0["server"] ?? "")" } == ["evidence/exch03 EXCH03"])
        let saved = try json(String(contentsOf: demo.appendingPathComponent("case.json"), encoding: .utf8))
        #expect((saved["servers"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["EXCH01", "EXCH02", "EXCH03"])
        let records = try #require(saved["evidence"] as? [[String: Any]])
        #expect(records.first { $0["path"] as? String == "evidence/exch03/IIS/u_ex210303.log" }?["server"] as? String == "EXCH03")
        #expect(!records.contains { ($0["path"] as? String)?.hasPrefix("evidence/exch01.corp.example") == true })
    }
}
