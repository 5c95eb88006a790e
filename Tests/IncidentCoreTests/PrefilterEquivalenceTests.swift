import Foundation
import Testing
@testable import IncidentCore

/// The literal prefilter must never change what a scan finds: the same hits, line numbers,
/// record counts, time ranges, builds and warnings as parsing every line. Each test scans the same
/// files twice, with and without the prefilter, and compares everything.
@Suite("Literal prefilter: same results as parsing every line")
struct PrefilterEquivalenceTests {
    /// The built-in pack plus indicators that use every operator the prefilter draws literals
    /// from, on fields where the raw line and the value differ (`cs-uri`, quoted CSV values).
    static func extendedPack() throws -> IndicatorPack {
        var pack = try BuiltInData.indicatorPack()
        let template = try #require(pack.indicators.first { $0.id == "IIS-059" })
        func extra(_ id: String, _ formats: [EvidenceFormat], _ all: [Condition]) -> Indicator {
            var i = template
            i.id = id
            i.formats = formats
            i.all = all
            i.suppressedBy = nil
            return i
        }
        pack.lists["test-domains"] = ["evil.example", "c2.test"]
        pack.lists["test-files"] = ["Shell.ASPX", "x.js"]
        pack.lists["test-uas"] = ["Evil Agent/1.0 (probe,scan)"]
        pack.indicators += [
            extra("T-REGEX", [.iisW3C, .httpProxy], [Condition(field: "url-stem", op: .regex, values: [#"^/owa/auth/[a-z]{2}\.(aspx|ashx)$"#])]),
            extra("T-URI", [.iisW3C], [Condition(field: "cs-uri", op: .contains, values: ["svc?action=getitem&evil"])]),
            extra("T-QUOTE", [.httpProxy], [Condition(field: "UserAgent", op: .contains, values: ["say \"hi\", then"])]),
            extra("T-DOMAIN", [.httpProxy], [Condition(field: "UrlHost", op: .domainInList, values: ["test-domains"])]),
            extra("T-FILE", [.iisW3C, .httpProxy], [Condition(field: "url-stem", op: .fileNameInList, values: ["test-files"])]),
            extra("T-UA", [.iisW3C, .httpProxy], [Condition(field: "user-agent", op: .userAgentInList, values: ["test-uas"])]),
            // Values at the start of the line: their separator is the LF before (or outside the chunk).
            extra("T-DATE", [.iisW3C], [Condition(field: "date", op: .startsWith, values: ["2021-03-09"]),
                                        Condition(field: "time", op: .like, values: ["1?:*:0*"])]),
            extra("T-DT", [.httpProxy], [Condition(field: "DateTime", op: .startsWith, values: ["2021-03-08t1"])]),
            extra("T-ENDS", [.iisW3C], [Condition(field: "cs-uri-query", op: .endsWith, values: ["&x=1"]),
                                        Condition(field: "sc-status", op: .notEquals, values: ["404"])]),
        ]
        return pack
    }

    /// Scans `dir` with the pack, with and without the prefilter, and compares the results.
    func compare(_ dir: TempDir, pack: IndicatorPack, expectPrefilterFor formats: [EvidenceFormat]) throws -> (hits: Int, records: Int) {
        let fast = try RuleEngine(pack: pack)
        let full = try RuleEngine(pack: pack, literalPrefilter: false)
        for format in formats { #expect(fast.prefilter(for: format) != nil, "no prefilter for \(format)") }
        #expect(full.prefilter(for: .iisW3C) == nil && full.prefilter(for: .httpProxy) == nil)
        let a = EvidenceScanner(engine: fast), b = EvidenceScanner(engine: full)
        a.threads = 1
        b.threads = 1
        _ = a.scan(caseFolder: dir.url)
        _ = b.scan(caseFolder: dir.url)
        #expect(a.statuses == b.statuses)
        for (x, y) in zip(a.statuses, b.statuses) where x != y {
            Issue.record("\(x.path): prefiltered \(x) vs full \(y)")
        }
        #expect(a.hits.count == b.hits.count)
        let missing = Set(b.hits.map(\.id)).subtracting(a.hits.map(\.id))
        let extra = Set(a.hits.map(\.id)).subtracting(b.hits.map(\.id))
        #expect(missing.isEmpty, "hits the prefilter lost: \(b.hits.filter { missing.contains($0.id) }.prefix(5))")
        #expect(extra.isEmpty, "hits only the prefilter found: \(a.hits.filter { extra.contains($0.id) }.prefix(5))")
        // Files are read in no set order across scanners: compare the hits in id order.
        let ah = a.hits.sorted { $0.id < $1.id }, bh = b.hits.sorted { $0.id < $1.id }
        #expect(ah == bh)
        if ah != bh, let k = ah.indices.first(where: { $0 < bh.count && ah[$0] != bh[$0] }) {
            Issue.record("first difference at \(k):\nprefiltered \(ah[k])\nfull        \(bh[k])")
        }
        return (b.hits.count, b.statuses.map(\.records).reduce(0, +))
    }

    /// Values that make lines candidates or hits: every literal of both formats' prefilters in
    /// random letter case, attack values, and look-alikes that differ by one character.
    static func pool(_ engine: RuleEngine) -> [String] {
        var out = (engine.prefilter(for: .iisW3C)?.pieces ?? []) + (engine.prefilter(for: .httpProxy)?.pieces ?? [])
        out += ["ServerInfo~a]@exch01.corp.example:444/autodiscover/autodiscover.xml?#", "ServerInfo~localhost/ecp/default.flt?",
                "/owa/auth/Current/themes/resources/logon.aspx", "/ecp/y.js", "/ecp/DDI/DDIService.svc/SetObject",
                "/aspnet_client/system_web/shell.aspx", "/autodiscover/autodiscover.json", "@evil.com/owa/?&Email=autodiscover/autodiscover.json%3F@evil.com",
                "/owa/auth/15.1.2176/scripts/premium/flogon.js", "/owa/prem/15.1.2176.2/scripts/boot.js", "/owa/14.3.123/x.gif", "/ecp/15.1.2106.2/themes/resources/x.gif", "/owa/auth/ab.aspx",
                "mail.evil.example", "x.c2.test:443", "/x/Shell.aspx", "Evil+Agent/1.0+(probe,scan)", "evil agent/1.0,probe scan",
                "svc?action=GetItem&evil", "action=getitem&evil=1", "a=b&x=1", "X-BEResource-Cookie", "Server~a]@x:444/y~1942062522",
                "python-requests/2.25.1", "antSword/v2.1", "ExchangeServicesClient/0.0.0.0", "444", "t=1", "POST", "GET"]
        return out
    }

    static func randomCase(_ s: String, _ rng: inout SeededRandom) -> String {
        String(s.map { c -> Character in rng.next() % 2 == 0 ? Character(c.uppercased()) : c })
    }

    /// A W3C log of `lines` lines with every oddity the parser and prefilter care about.
    static func iisLog(lines: Int, seed: UInt64, pool: [String]) -> [UInt8] {
        var rng = SeededRandom(seed: seed)
        func pick() -> String { pool[Int(rng.next() % UInt64(pool.count))] }
        func maybe(_ percent: UInt64) -> Bool { rng.next() % 100 < percent }
        var out: [UInt8] = []
        let eol = maybe(50) ? "\r\n" : "\n"
        if !maybe(10) { for h in IISLog.header { out += Array((h + eol).utf8) } }
        for i in 0..<lines {
            var stem = "/owa/service.svc", query = "action=GetItem", ua = IISLog.browserUA, ip = "10.1.\(i % 250).\(i % 200)"
            var status = "200", method = "GET"
            if maybe(30) {
                switch rng.next() % 6 {
                case 0: stem = randomCase(pick(), &rng).replacingOccurrences(of: " ", with: "+")
                case 1: query = randomCase(pick(), &rng).replacingOccurrences(of: " ", with: "+")
                case 2: ua = randomCase(pick(), &rng).replacingOccurrences(of: " ", with: "+")
                case 3: ip = (maybe(40) ? ["::ffff:", "::FFFF:", "fe80::1%2", ":"][Int(rng.next() % 4)] : "") + pick().replacingOccurrences(of: " ", with: "+")
                    if maybe(20) { ip += "%" + String(rng.next() % 20) }
                case 4: method = "POST"; status = ["200", "302", "404", "500"][Int(rng.next() % 4)]
                default: stem = "/" + randomCase(pick(), &rng).replacingOccurrences(of: " ", with: "+")
                }
            }
            let time = String(format: "2021-03-%02d %02d:%02d:%02d", 1 + Int(rng.next() % 9), Int(rng.next() % 24), i / 60 % 60, i % 60)
            var line = "\(time) 10.0.0.21 \(method) \(stem) \(query) \(maybe(3) ? "444" : "443") - \(ip) \(ua) - \(status) 0 0 \(i % 900)"
            switch rng.next() % 40 {
            case 0: line = line.replacingOccurrences(of: " GET ", with: "\tGET  ")        // tab and double space
            case 1: line = line.replacingOccurrences(of: "Mozilla", with: "Mözilla")     // non-ASCII
            case 2: line = line.replacingOccurrences(of: "service", with: "serv\rice")  // a lone CR splits the line
            case 3: line = line.replacingOccurrences(of: " - 200", with: " 200")        // one field short
            case 4: line = "#Remark: analyst note " + pick()
            case 5: line = ""
            case 6: line = "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port c-ip cs(User-Agent) sc-status time-taken"
            case 7: line = "#Fields: " + IISLog.header[3].dropFirst(9)
            case 8: line = line.replacingOccurrences(of: "2021-03-", with: "2021-13-")    // not a date
            case 9: line = "   " + line + "  "
            case 10: line = String(line.prefix(Int(rng.next() % UInt64(line.count + 1))))
            case 11: line += " " + String(decoding: randomBytes(count: 12, seed: rng.next()), as: UTF8.self)
            default: break
            }
            out += Array((line + eol).utf8)
        }
        if maybe(50) { out += Array(("2021-03-09 23:59:59 10.0.0.21 GET /ecp/y.js - 443 - 1.2.3.4 python-requests/2.25.1 - 200 0 0 1").utf8) }
        return out
    }

    /// An HttpProxy CSV log with quoting, repeated headers, short rows, and build hints.
    static func proxyLog(lines: Int, seed: UInt64, pool: [String], versionColumns: Bool) -> [UInt8] {
        var rng = SeededRandom(seed: seed)
        func pick() -> String { pool[Int(rng.next() % UInt64(pool.count))] }
        func maybe(_ percent: UInt64) -> Bool { rng.next() % 100 < percent }
        let fields = versionColumns ? HttpProxyLog.fields : HttpProxyLog.fields.filter { !["MajorVersion", "MinorVersion", "BuildVersion"].contains($0) }
        var out: [UInt8] = []
        let eol = maybe(50) ? "\r\n" : "\n"
        out += Array((fields.joined(separator: ",") + eol).utf8)
        for d in HttpProxyLog.directives.dropLast() where maybe(70) { out += Array((d + eol).utf8) }
        out += Array(("#Fields: " + fields.joined(separator: ",") + eol).utf8)
        let settable = ["AnchorMailbox", "UserAgent", "ClientIpAddress", "UrlStem", "RoutingHint", "BackEndCookie", "UrlHost",
                        "HttpStatus", "AuthenticatedUser", "UrlQuery", "Method"]
        for i in 0..<lines {
            var overrides: [String: String] = [
                "DateTime": String(format: "2021-03-%02dT%02d:%02d:%02d.%03dZ", 1 + Int(rng.next() % 9), Int(rng.next() % 24), i / 60 % 60, i % 60, i % 1000),
                "ClientIpAddress": "10.1.\(i % 250).\(i % 200)", "UrlStem": "/owa/service.svc",
                "BuildVersion": ["2106", "2176", "0", "1497"][Int(rng.next() % 4)],
            ]
            if maybe(30) {
                let n = 1 + Int(rng.next() % 3)
                for _ in 0..<n { overrides[settable[Int(rng.next() % UInt64(settable.count))]] = randomCase(pick(), &rng) }
            }
            var line = HttpProxyLog.row(overrides, fields: fields)
            switch rng.next() % 40 {
            case 0: line = line.replacingOccurrences(of: "Mozilla", with: "\"Mo,zilla\"")   // quotes and a comma mid-value
            case 1: line = line.replacingOccurrences(of: "Windows", with: "Wíndows")        // non-ASCII
            case 2: line = line.replacingOccurrences(of: "Negotiate", with: "Nego\rtiate")
            case 3: line = String(line.dropLast(line.count - (line.lastIndex(of: ",").map { line.distance(from: line.startIndex, to: $0) } ?? 0)))
            case 4: line = fields.joined(separator: ",")                                    // bare header again
            case 5: line = "  DateTime ," + fields.dropFirst().joined(separator: ",")
            case 6: line = "#Software: Microsoft Exchange Server"
            case 7: line = "#Version: 15.01.2176.009"
            case 8: line = ""
            case 9: line = line.replacingOccurrences(of: "2021-03-", with: "2021-02-30x")
            case 10: line += ",extra"
            default: break
            }
            out += Array((line + eol).utf8)
        }
        return out
    }

    @Test("generated W3C and HttpProxy logs: identical results with and without the prefilter", arguments: [1, 2, 3, 4])
    func generated(seed: Int) throws {
        let pack = try Self.extendedPack()
        let pool = Self.pool(try RuleEngine(pack: pack))
        let dir = try TempDir("prefilter-\(seed)")
        try dir.write("evidence/EXCH01/IIS/W3SVC1/u_ex210303.log", Self.iisLog(lines: 3000, seed: UInt64(seed), pool: pool))
        try dir.write("evidence/EXCH01/HttpProxy/Ecp/HttpProxy_2021030301-1.LOG",
                      Self.proxyLog(lines: 3000, seed: UInt64(seed) + 100, pool: pool, versionColumns: seed % 2 == 0))
        try dir.write("evidence/EXCH02/HttpProxy/Owa/HttpProxy_2021030302-1.LOG",
                      Self.proxyLog(lines: 1500, seed: UInt64(seed) + 200, pool: pool, versionColumns: seed % 2 == 1))
        let (hits, records) = try compare(dir, pack: pack, expectPrefilterFor: [.iisW3C, .httpProxy])
        // The fixture exercises both paths: many hits, most lines read quickly.
        #expect(hits > 250, "only \(hits) hits")
        #expect(records > 6000, "only \(records) records")
    }

    @Test("logs longer than a read chunk: lines cut by chunk ends are read the same")
    func acrossChunks() throws {
        let pack = try Self.extendedPack()
        let pool = Self.pool(try RuleEngine(pack: pack))
        let dir = try TempDir("prefilter-chunks")
        var iis: [UInt8] = []
        var seed: UInt64 = 50
        while iis.count < EvidenceScanner.chunkSize * 2 + 12_345 {
            iis += Self.iisLog(lines: 2000, seed: seed, pool: pool)
            iis += Array("\n".utf8)
            seed += 1
        }
        try dir.write("evidence/EXCH01/IIS/W3SVC1/u_ex210304.log", iis)
        _ = try compare(dir, pack: pack, expectPrefilterFor: [.iisW3C])
    }

    @Test("a hit whose value starts the line, on the first line of a read chunk, is found")
    func hitAtChunkStart() throws {
        let pack = try Self.extendedPack()
        let dir = try TempDir("prefilter-chunk-start")
        var text = IISLog.header.joined(separator: "\n") + "\n"
        let filler = IISLog.line("GET", "/owa/service.svc", time: "2021-03-03 06:44:21") + "\n"
        while text.utf8.count + 2 * filler.utf8.count <= EvidenceScanner.chunkSize { text += filler }
        // One longer line fills the chunk exactly, so the next line starts the next chunk.
        let room = EvidenceScanner.chunkSize - text.utf8.count
        text += IISLog.line("GET", "/owa/" + String(repeating: "p", count: room - filler.utf8.count) + "service.svc",
                            time: "2021-03-03 06:44:21") + "\n"
        let hit = IISLog.line("GET", "/owa/service.svc", time: "2021-03-09 12:00:00")
        text += hit + "\n" + filler
        try dir.write("evidence/EXCH01/IIS/W3SVC1/u_ex210309.log", text)
        let bytes = Array(text.utf8)
        let boundary = EvidenceScanner.chunkSize
        #expect(bytes[boundary - 1] == 0x0A && Array(bytes[boundary..<(boundary + 10)]) == Array("2021-03-09".utf8),
                "the fixture must put the hit line at the chunk boundary")
        _ = try compare(dir, pack: pack, expectPrefilterFor: [.iisW3C])
        let scanner = EvidenceScanner(engine: try RuleEngine(pack: pack))
        _ = scanner.scan(caseFolder: dir.url)
        #expect(scanner.hits.filter { $0.indicator == "T-DATE" }.count == 1)
    }

    @Test("a build shown only by lines no literal occurs in is still read")
    func buildHints() throws {
        let dir = try TempDir("prefilter-build")
        let iis = IISLog.header + [
            IISLog.line("GET", "/owa/service.svc"),
            IISLog.line("GET", "/owa/prem/15.1.2176.2/scripts/boot.js"),
            IISLog.line("GET", "/owa/prem/15.2.986.5/scripts/boot.js"),
        ]
        try dir.write("evidence/EXCH01/IIS/W3SVC1/u_ex210303.log", iis.joined(separator: "\r\n") + "\r\n")
        // No #Version directive: the rows' version columns are the only source.
        var rows = [HttpProxyLog.headerLine, "#Fields: " + HttpProxyLog.headerLine]
        rows.append(HttpProxyLog.row(["BuildVersion": "0"]))
        rows.append(HttpProxyLog.row(["BuildVersion": "1497", "MinorVersion": "0"]))
        rows.append(HttpProxyLog.row(["BuildVersion": "2106"]))
        try dir.write("evidence/EXCH02/HttpProxy/Owa/HttpProxy_2021030301-1.LOG", rows.joined(separator: "\n") + "\n")
        _ = try compare(dir, pack: try BuiltInData.indicatorPack(), expectPrefilterFor: [.iisW3C, .httpProxy])
        let scanner = EvidenceScanner(engine: try RuleEngine.builtIn())
        _ = scanner.scan(caseFolder: dir.url)
        // The highest build any line shows (not the first): 15.2.986 after 15.1.2176, and
        // 15.1.2106 after 15.0.1497.
        #expect(scanner.statuses.map(\.exchangeBuild) == ["15.2.986", "15.1.2106"])
        #expect(scanner.statuses.map(\.records) == [3, 3])
    }

    @Test("the file's build is the highest any line shows, whatever the order and the spelling of the lines")
    func highestBuild() throws {
        let dir = try TempDir("prefilter-highest")
        // Version folders the build reader takes (zero-padded, doubled slashes) and refuses (build
        // 0, letters, 7 digits, two parts, past the fourth path segment), around the highest.
        let stems = ["/owa/prem/15.1.2176.2/scripts/boot.js", "/owa/auth/15.1.0/x.gif", "/owa/15.1.9999x/x.gif",
                     "/owa/15.1.1234567/x.gif", "/a/b/c/d/15.2.9999/x.gif", "//owa//15.01.02200.009//x.gif",
                     "/owa/15.2/x.gif", "/owa/14.3.123/x.gif", "/owa/auth/15.0.1497/x.gif", "/owa/service.svc"]
        let iis = stems.map { IISLog.line("GET", $0) }
        try dir.write("evidence/EXCH01/IIS/W3SVC1/u_ex210303.log", (IISLog.header + iis).joined(separator: "\n") + "\n")
        try dir.write("evidence/EXCH01/IIS/W3SVC1/u_ex210304.log", (IISLog.header + iis.reversed()).joined(separator: "\n") + "\n")
        // Version columns: a space the parser trims, an invalid major (then the path decides), an
        // empty build, too many digits, letters.
        let columns: [[String: String]] = [
            ["BuildVersion": "2106"],
            ["MajorVersion": " 15", "MinorVersion": "2", "BuildVersion": "1118"],
            ["MinorVersion": "2", "BuildVersion": "0", "UrlStem": "/owa/15.2.1544/x.gif"],
            ["MajorVersion": "16", "BuildVersion": "9999", "UrlStem": "/owa/service.svc"],
            ["BuildVersion": ""],
            ["BuildVersion": "1234567"],
            ["MinorVersion": "x", "BuildVersion": "3000"],
            ["MinorVersion": "0", "BuildVersion": "1497"],
        ]
        let rows = columns.map { HttpProxyLog.row($0) }
        try dir.write("evidence/EXCH02/HttpProxy/Owa/HttpProxy_2021030301-1.LOG", ([HttpProxyLog.headerLine] + rows).joined(separator: "\n") + "\n")
        try dir.write("evidence/EXCH02/HttpProxy/Owa/HttpProxy_2021030302-1.LOG", ([HttpProxyLog.headerLine] + rows.reversed()).joined(separator: "\n") + "\n")
        _ = try compare(dir, pack: try BuiltInData.indicatorPack(), expectPrefilterFor: [.iisW3C, .httpProxy])
        let scanner = EvidenceScanner(engine: try RuleEngine.builtIn())
        _ = scanner.scan(caseFolder: dir.url)
        #expect(scanner.statuses.map(\.exchangeBuild) == ["15.1.2200", "15.1.2200", "15.2.1544", "15.2.1544"])
    }

    @Test("the real IIS and HttpProxy logs of the corpus")
    func corpus() throws {
        guard corpusAvailable else {
            print("skipped: ../shared/corpus is not beside the checkout (\(Paths.corpus.path))")
            return
        }
        let dir = try TempDir("prefilter-corpus")
        for relative in ["elastic-beats/test-iis-7.5.log", "elastic-beats/test-ipv6zone.log", "elastic-beats/test-x-forward-for-extended.log",
                         "elastic-beats/test.log", "evtx-attack-samples/Tunna_rdp_tunnel_IIS.log", "velociraptor/iis.log",
                         "velociraptor/exchange.log", "aptsimulator/hafnium-dummy.log"] {
            let url = Paths.corpusFile(relative)
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            try dir.write("evidence/WEB1/" + relative.replacingOccurrences(of: "/", with: "_"), Array(try Data(contentsOf: url)))
        }
        _ = try compare(dir, pack: try BuiltInData.indicatorPack(), expectPrefilterFor: [.iisW3C, .httpProxy])
    }

    @Test("the built-in pack plus the corpus feeds imported (MSTIC, CHIRP, signature-base): same results")
    func importedFeeds() throws {
        guard corpusAvailable else {
            print("skipped: ../shared/corpus is not beside the checkout (\(Paths.corpus.path))")
            return
        }
        var packs: [IndicatorPack] = []
        for (k, relative) in ["azure-sentinel/MSTICIoCs-ExchangeServerVulnerabilitiesDisclosedMarch2021.csv", "chirp/AA21062A.yaml",
                              "signature-base/c2-iocs.txt", "signature-base/filename-iocs.txt"].enumerated() {
            let data = try Data(contentsOf: Paths.corpusFile(relative))
            let format = try #require(IndicatorImporter.detect(data), "\(relative) not recognised")
            let parsed = try IndicatorImporter.parse(data, format: format, fileName: relative)
            packs.append(ImportedPackCompiler.compile(ImportedPack(
                id: "p\(k)", name: relative, format: format, sourceFile: relative, sourceSHA256: String(repeating: "0", count: 64),
                sourceSizeBytes: Int64(data.count), importedAt: Date(timeIntervalSince1970: 0), importedBy: "test",
                iocs: parsed.iocs, problems: parsed.problems)))
        }
        let pack = ImportedPackCompiler.merge(try BuiltInData.indicatorPack(), with: packs)
        let engine = try RuleEngine(pack: pack)
        let dir = try TempDir("prefilter-feeds")
        // Lines built from the feeds' own values, so that they hit.
        var pool = Self.pool(engine)
        pool += Array(pack.lists.values.joined().filter { !$0.contains(" ") && $0.count < 80 }.prefix(400))
        try dir.write("evidence/EXCH01/IIS/W3SVC1/u_ex210303.log", Self.iisLog(lines: 3000, seed: 9, pool: pool))
        try dir.write("evidence/EXCH01/HttpProxy/Owa/HttpProxy_2021030301-1.LOG", Self.proxyLog(lines: 3000, seed: 10, pool: pool, versionColumns: true))
        for relative in ["elastic-beats/test.log", "evtx-attack-samples/Tunna_rdp_tunnel_IIS.log", "velociraptor/iis.log", "aptsimulator/hafnium-dummy.log"] {
            try dir.write("evidence/WEB1/" + relative.replacingOccurrences(of: "/", with: "_"), Array(try Data(contentsOf: Paths.corpusFile(relative))))
        }
        let (hits, _) = try compare(dir, pack: pack, expectPrefilterFor: [.iisW3C, .httpProxy])
        #expect(hits > 100, "only \(hits) hits")
    }

    @Test("required literals: the right strings per operator, none where a match needs none")
    func requiredLiterals() throws {
        #expect(RequiredLiterals.requiredRegexRun(#"^/ecp/[0-9a-z]{1,3}\.js$"#) == "/ecp/")
        #expect(RequiredLiterals.requiredRegexRun(#"lsass\.exe c:\\windows\\temp\\lsass|procdump"#) == nil)
        #expect(RequiredLiterals.requiredRegexRun(#"Set-.+VirtualDirectory"#) == "virtualdirectory")
        #expect(RequiredLiterals.requiredRegexRun(#"abcd?e"#) == "abc")
        #expect(RequiredLiterals.requiredRegexRun(#"x(abc)*yz{0,2}wv"#) == "wv")
        #expect(RequiredLiterals.requiredRegexRun(#"ab+cd"#) == "ab")
        #expect(RequiredLiterals.requiredRegexRun(#"(?i)something"#) == "something")
        #expect(RequiredLiterals.requiredRegexRun(#"(?x)some thing"#) == nil)
        #expect(RequiredLiterals.requiredRegexRun(#"[]ab]cd"#) == "cd")
        #expect(RequiredLiterals.requiredRegexRun(#"\\owa\\auth\\Chack(OutLook|Cookie)\.aspx$"#) == "\\owa\\auth\\chack")
        #expect(RequiredLiterals.requiredRegexRuns(#"^/ecp/[0-9a-z]{1,3}\.js$"#) == ["/ecp/", ".js"])
        let pack0 = try BuiltInData.indicatorPack()
        func requirement(_ id: String, _ format: EvidenceFormat) throws -> [[[Piece]]]? {
            RequiredLiterals.requirement(try #require(pack0.indicators.first { $0.id == id }), format: format, lists: pack0.lists)
        }
        // Every condition with pieces counts; values that start a field are searched after a separator.
        #expect(try requirement("IIS-059", .iisW3C) == [[[Piece(text: "/owa/auth/current/themes/resources/", anchored: true)]]])
        // A method, a status or a port is used only when an indicator has nothing better.
        #expect(try requirement("IIS-064", .iisW3C) == [[[Piece(text: "t=", anchored: true)]]])
        var onlyMethod = try #require(pack0.indicators.first { $0.id == "IIS-059" })
        onlyMethod.all = [Condition(field: "cs-method", op: .equals, values: ["PROPFIND"])]
        #expect(RequiredLiterals.requirement(onlyMethod, format: .iisW3C, lists: [:]) == [[[Piece(text: "propfind", anchored: true)]]])
        // `like` keeps every run; `notLike` says nothing.
        #expect(try requirement("PL-001", .httpProxy) == [[[Piece(text: "serverinfo~", anchored: true)]]])
        #expect(try requirement("PL-007", .httpProxy) == [[[Piece(text: "serverinfo~", anchored: true), Piece(text: "reset", anchored: false),
                                                            Piece(text: "virtualdirectory#", anchored: false)]]])
        // A piece another piece of the same alternative contains adds nothing: the "~" of "server~".
        #expect(try requirement("PL-005", .httpProxy) == [[[Piece(text: "server~", anchored: true)]]])
        #expect(RequiredLiterals.withoutImplied([Piece(text: "ab", anchored: true), Piece(text: "abc", anchored: true), Piece(text: "b", anchored: false),
                                                 Piece(text: "bc", anchored: true), Piece(text: "ab", anchored: true)])
                == [Piece(text: "abc", anchored: true), Piece(text: "bc", anchored: true)])
        // An anchored piece is not implied by an unanchored one that contains it.
        #expect(RequiredLiterals.withoutImplied([Piece(text: "ab", anchored: true), Piece(text: "xab", anchored: false)]).count == 2)
        // A condition met by everyday requests (`/owa/*`) is left out when another selects.
        let ua = try #require(try requirement("UA-058", .iisW3C))
        #expect(ua.count == 1 && !ua[0].contains { $0.contains(Piece(text: "/owa/", anchored: true)) })
        #expect(!(try #require(RuleEngine.builtIn().prefilter(for: .iisW3C)).literals.contains(" /owa/")))
        var onlyOwa = try #require(pack0.indicators.first { $0.id == "IIS-059" })
        onlyOwa.all = [Condition(field: "cs-uri-stem", op: .like, values: ["/owa/*"]), Condition(field: "sc-status", op: .equals, values: ["200"])]
        #expect(RequiredLiterals.requirement(onlyOwa, format: .iisW3C, lists: [:]) == [[[Piece(text: "/owa/", anchored: true)]]])
        // A query that must start with "@" or "%40": short, but anchored.
        let ps = try #require(try requirement("PS-001", .iisW3C))
        #expect(ps.count == 2)
        #expect(ps[1].contains([Piece(text: "@", anchored: true)]))
        let engine = try RuleEngine.builtIn()
        #expect(try #require(engine.prefilter(for: .iisW3C)).literals.contains(" /owa/auth/current/themes/resources/"))
        #expect(try #require(engine.prefilter(for: .iisW3C)).literals.contains("\t/owa/auth/current/themes/resources/"))
        #expect(try #require(engine.prefilter(for: .httpProxy)).literals.contains(",serverinfo~"))
        // A format with an indicator that yields no literal gets no prefilter.
        var pack = try BuiltInData.indicatorPack()
        var lone = try #require(pack.indicators.first { $0.id == "IIS-059" })
        lone.id = "T-NEG"
        lone.all = [Condition(field: "cs-uri-stem", op: .notLike, values: ["/owa/*"])]
        pack.indicators.append(lone)
        #expect(try RuleEngine(pack: pack).prefilter(for: .iisW3C) == nil)
        #expect(try RuleEngine(pack: pack).prefilter(for: .httpProxy) != nil)
    }
}
