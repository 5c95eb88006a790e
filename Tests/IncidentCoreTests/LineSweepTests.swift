import CLineSweep
import Foundation
import Testing
@testable import IncidentCore

/// The C sweep (`ic_sweep`) must accept a line only when the parser's `quickRecord` would, and
/// give the same time, bit for bit; and it must accept the ordinary lines (or it saves nothing).
@Suite("Line sweep: the C quick path agrees with quickRecord")
struct LineSweepTests {
    /// Runs the sweep over `lines` (each followed by LF, behind a leading LF so every line is
    /// judged) and returns how many it accepted before stopping, with its totals.
    /// A build of the sweep: `ic_sweep` (the one this processor gets) or `ic_sweep_baseline`.
    typealias Sweep = @convention(c) (UnsafePointer<UInt8>?, Int, Int, UnsafePointer<Int>?, Int, UnsafeMutablePointer<Int>?,
                                      UnsafePointer<ic_sweep_layout>?, UnsafeMutablePointer<ic_sweep_totals>?) -> Int
    /// Both builds: every test runs with each.
    static let builds: [(name: String, run: Sweep)] = [("chosen", ic_sweep), ("baseline", ic_sweep_baseline)]

    static func sweep(_ lines: [String], layout: ic_sweep_layout, candidates: [Int] = [], using run: Sweep = ic_sweep) -> (accepted: Int, totals: ic_sweep_totals, stoppedAt: Int, end: Int) {
        var bytes: [UInt8] = [0x0A]
        for l in lines { bytes += Array(l.utf8) + [0x0A] }
        var layout = layout
        var totals = ic_sweep_totals()
        var k = 0
        let stop = bytes.withUnsafeBufferPointer { b in
            candidates.withUnsafeBufferPointer { c in
                run(b.baseAddress, 1, b.count, c.baseAddress, c.count, &k, &layout, &totals)
            }
        }
        return (Int(totals.lines), totals, stop, bytes.count)
    }

    /// Per line: the sweep's verdict must imply quickRecord's, with the same time.
    /// - Returns: (lines the sweep accepted, lines quickRecord accepted).
    /// Checks with both builds; returns the counts of the last (the two must be equal).
    static func agree(_ lines: [String], parser: any EvidenceLineParser, fileBuild: ExchangeBuild?,
                      sourceLocation: SourceLocation = #_sourceLocation) -> (sweep: Int, quick: Int) {
        var counts: [(sweep: Int, quick: Int)] = []
        for build in builds {
            counts.append(agree(lines, parser: parser, fileBuild: fileBuild, using: build.run, sourceLocation: sourceLocation))
        }
        #expect(counts[0] == counts[1], "chosen \(counts[0]) vs baseline \(counts[1])", sourceLocation: sourceLocation)
        return counts[1]
    }

    static func agree(_ lines: [String], parser: any EvidenceLineParser, fileBuild: ExchangeBuild?, using run: Sweep,
                      sourceLocation: SourceLocation) -> (sweep: Int, quick: Int) {
        guard let layout = parser.sweepLayout(fileBuild: fileBuild) else {
            Issue.record("no sweep layout", sourceLocation: sourceLocation)
            return (0, 0)
        }
        var sweepCount = 0, quickCount = 0
        for line in lines {
            let quick = Array(line.utf8).withUnsafeBufferPointer { parser.quickRecord($0, fileBuild: fileBuild) }
            if quick != nil { quickCount += 1 }
            let r = sweep([line], layout: layout, using: run)
            guard r.accepted == 1 else { continue }
            sweepCount += 1
            guard let quick else {
                Issue.record("the sweep accepted a line quickRecord refuses: \(line.debugDescription)", sourceLocation: sourceLocation)
                continue
            }
            let time = r.totals.hasTime != 0 ? Date(timeIntervalSince1970: r.totals.first) : nil
            if time != quick.time {
                Issue.record("time \(String(describing: time)) vs quickRecord \(String(describing: quick.time)) for \(line.debugDescription)", sourceLocation: sourceLocation)
            }
        }
        return (sweepCount, quickCount)
    }

    @Test("timestamps: ic_parse_time reads exactly what Timestamps.parse(bytes:) reads")
    func timestamps() {
        var rng = SeededRandom(seed: 11)
        let seeds = ["2021-03-03T06:49:42.162Z", "2021-03-03 06:49:42", "2020-02-29T23:59:60.9999999Z", "2021-02-29 00:00:00",
                     "0000-01-01T00:00:00Z", "9999-12-31 23:59:59.5 x", "2021-03-03T06:49:42.", "2021-03-03T06:49:42.1234567890123456789012Z",
                     "2021-03-03T06:49:42+00:00", "2021-3-03 06:49:42", "2100-02-29 01:02:03", "2000-02-29 01:02:03"]
        let alphabet = Array("0123456789-:. TZ+x".utf8)
        var checked = 0, read = 0
        for s in seeds {
            for _ in 0..<2000 {
                var b = Array(s.utf8)
                for _ in 0..<Int(rng.next() % 3) where !b.isEmpty {
                    let i = Int(rng.next() % UInt64(b.count))
                    switch rng.next() % 3 {
                    case 0: b[i] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                    case 1: b.remove(at: i)
                    default: b.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: i)
                    }
                }
                let swift = b.withUnsafeBufferPointer { Timestamps.parse(bytes: $0) }
                var seconds = 0.0
                let ok = b.withUnsafeBufferPointer { ic_parse_time($0.baseAddress, $0.count, &seconds) }
                #expect((ok != 0) == (swift != nil), "\(String(decoding: b, as: UTF8.self))")
                if ok != 0, let swift {
                    #expect(seconds.bitPattern == swift.timeIntervalSince1970.bitPattern, "\(String(decoding: b, as: UTF8.self))")
                    read += 1
                }
                checked += 1
            }
        }
        #expect(checked == 24_000)
        #expect(read > 2_000)
    }

    /// Lines of an HttpProxy log: ordinary rows and rows changed in the ways the quick path cares about.
    static func proxyLines(_ fields: [String], count: Int, seed: UInt64) -> [String] {
        var rng = SeededRandom(seed: seed)
        var out: [String] = []
        let builds = ["15,1,2106", "15,1,2176", "15,1,2242", "15,2,858", "15,0,1497", "14,3,123", "16,1,2106", "15,1,0", "15, 1,2106",
                      "15,1,21060000", ",1,2106", "15,x,2106", "015,01,02106"]
        for i in 0..<count {
            var values: [String: String] = [:]
            let b = builds[i % 5 == 4 ? Int(rng.next() % UInt64(builds.count)) : 0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            values["MajorVersion"] = b[0]
            values["MinorVersion"] = b[1]
            values["BuildVersion"] = b[2]
            values["DateTime"] = String(format: "2021-03-%02dT%02d:%02d:%02d.%03dZ", 1 + Int(rng.next() % 4), Int(rng.next() % 24), i / 60 % 60, i % 60, Int(rng.next() % 1000))
            switch rng.next() % 12 {
            case 0: values["UrlStem"] = "/owa/auth/15.1.2242/themes/resources/x.gif"
            case 1: values["UrlStem"] = "/owa/14.3.123/x.gif"
            case 2: values["DateTime"] = "DateTime"                 // a repeated header's first name
            case 3: values["DateTime"] = "2021-02-30T00:00:00Z"     // not a date
            case 4: values["UserAgent"] = "say \"hi\""               // a quote
            case 5: values["DateTime"] = "2021-03-03 06:49:42.5 local"
            default: break
            }
            // Other values long enough not to be mistaken for a repeated header's first name.
            let filler = "value-of-an-ordinary-field"
            var line = fields.map { values[$0] ?? filler }.joined(separator: ",")
            switch rng.next() % 20 {
            case 0: line += ",extra"
            case 1: line = line.replacingOccurrences(of: "field,value", with: "field\rvalue")
            case 2: line = line.replacingOccurrences(of: "field,value", with: "fieldé,value")
            case 3: line = "#" + line
            default: break
            }
            out.append(line)
        }
        return out
    }

    @Test("HttpProxy rows: the sweep accepts only what quickRecord accepts, with the same time", arguments: [false, true])
    func proxyRows(stemPastTheNotedColumns: Bool) {
        var fields = HttpProxyLog.fields
        if stemPastTheNotedColumns {
            // The request path and the time far to the right: found by walking past the noted commas.
            fields.removeAll { $0 == "UrlStem" || $0 == "DateTime" }
            fields.insert("UrlStem", at: 52)
            fields.insert("DateTime", at: 55)
        }
        var parser = HttpProxyParser()
        _ = parser.parse(fields.joined(separator: ","), line: 1)
        let lines = Self.proxyLines(fields, count: 3000, seed: stemPastTheNotedColumns ? 5 : 6)
        for build in [nil, ExchangeBuild(15, 1, 2106), ExchangeBuild(15, 1, 2242, 7), ExchangeBuild(15, 2, 1)] {
            let (sweep, quick) = Self.agree(lines, parser: parser, fileBuild: build)
            // Every line quickRecord accepts is one the sweep accepts too (none left to Swift needlessly).
            #expect(sweep > 0 && sweep == quick, "sweep \(sweep), quick \(quick), build \(String(describing: build))")
            if build == ExchangeBuild(15, 1, 2106) { #expect(sweep > 1500) }
        }
    }

    /// W3C lines with the oddities of real IIS logs.
    static func iisLines(count: Int, seed: UInt64) -> [String] {
        var rng = SeededRandom(seed: seed)
        var out: [String] = []
        for i in 0..<count {
            let date = String(format: "2021-%02d-%02d", 1 + Int(rng.next() % 3), 27 + Int(rng.next() % 4))
            var line = "\(date) \(String(format: "%02d:%02d:%02d", Int(rng.next() % 25), i % 60, i % 61)) 10.0.0.5 GET /owa/service.svc action=GetItem 443 - 10.1.0.\(i % 200) \(IISLog.browserUA) - 200 0 0 \(i % 900)"
            switch rng.next() % 16 {
            case 0: line = "  " + line + " \t"
            case 1: line = line.replacingOccurrences(of: " GET ", with: "\tGET  ")
            case 2: line = line.replacingOccurrences(of: "/owa/service.svc", with: "/owa/auth/15.1.2242/scripts/x.js")
            case 3: line = line.replacingOccurrences(of: " - 200", with: " 200")
            case 4: line = line.replacingOccurrences(of: "service", with: "serv\rice")
            case 5: line = line.replacingOccurrences(of: "Mozilla", with: "Mözilla")
            case 6: line = "#Remark " + line
            case 7: line = line.replacingOccurrences(of: "2021-", with: "2021")
            default: break
            }
            out.append(line)
        }
        return out
    }

    @Test("IIS W3C lines: the sweep accepts only what quickRecord accepts, with the same time")
    func iisLines() {
        var parser = W3CParser()
        _ = parser.parse(IISLog.header[3], line: 1)
        let lines = Self.iisLines(count: 4000, seed: 9)
        let (sweep, quick) = Self.agree(lines, parser: parser, fileBuild: nil)
        #expect(sweep > 2500 && sweep == quick, "sweep \(sweep), quick \(quick)")
        // Version folders at, below and above the file's build; odd folders Swift reads itself.
        let folders = ["/owa/auth/15.1.2106/x.js", "/owa/auth/15.1.2106.2/x.js", "/owa/auth/15.1.2242/x.js", "/owa/14.3.123/x.gif",
                       "/owa/auth/15.1.0/x.js", "/owa/auth/15.1.2106.2.1/x.js", "/owa/auth/15.1.1234567/x.js", "/owa/auth/15.1.21a6/x.js",
                       "/a/b/c/d/15.2.999/x.js", "/a/b/c/15.2.999/x.js", "//owa//15.1.2242//x", "/owa/auth/15.1.2106./x.js",
                       "/owa/auth/15..2106/x.js", "/owa/15.1/x.js", "/owa/1/15.1.2242/x", "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17/18/19/20/15.1.9999/x"]
        let folderLines = folders.map { "2021-03-03 06:00:00 10.0.0.5 GET \($0) - 443 - 10.1.0.1 UA - 200 0 0 1" }
        for build in [nil, ExchangeBuild(15, 1, 2106), ExchangeBuild(15, 1, 2242), ExchangeBuild(14, 3, 1)] {
            let f = Self.agree(folderLines, parser: parser, fileBuild: build)
            #expect(f.sweep == f.quick && f.sweep > 0, "sweep \(f.sweep), quick \(f.quick), build \(String(describing: build))")
        }

        // A header with the request path past the noted tokens.
        var wide = W3CParser()
        let names = (0..<60).map { $0 == 0 ? "date" : $0 == 1 ? "time" : $0 == 50 ? "cs-uri-stem" : "x-f\($0)" }
        _ = wide.parse("#Fields: " + names.joined(separator: " "), line: 1)
        var rng = SeededRandom(seed: 3)
        let wideLines = (0..<500).map { i in
            (0..<60).map { k in k == 0 ? "2021-03-0\(1 + i % 9)" : k == 1 ? "12:00:\(String(format: "%02d", i % 60))" : k == 50 ? (rng.next() % 4 == 0 ? "/ecp/15.1.2242/x.gif" : "/ecp/x.gif") : "f" }.joined(separator: " ")
        }
        let w = Self.agree(wideLines, parser: wide, fileBuild: ExchangeBuild(15, 1, 2106))
        #expect(w.sweep > 300 && w.sweep == w.quick, "sweep \(w.sweep), quick \(w.quick)")
    }

    @Test("many lines in one call: counts, earliest and latest time, and the stop at a candidate")
    func manyLines() throws {
        var parser = W3CParser()
        _ = parser.parse(IISLog.header[3], line: 1)
        let layout = try #require(parser.sweepLayout(fileBuild: nil))
        let lines = (0..<100).map { i in
            "2021-03-03 \(String(format: "%02d", (i * 7) % 24)):00:\(String(format: "%02d", i % 60)) 10.0.0.5 GET /owa/ - 443 - 10.1.0.1 UA - 200 0 0 1"
        }
        for build in Self.builds {
            let all = Self.sweep(lines, layout: layout, using: build.run)
            #expect(all.accepted == 100 && all.stoppedAt == all.end, "\(build.name)")
            var first: Date?, last: Date?
            for l in lines {
                let t = try #require(Array(l.utf8).withUnsafeBufferPointer { parser.quickRecord($0, fileBuild: nil) }?.time)
                first = min(first ?? t, t)
                last = max(last ?? t, t)
            }
            #expect(Date(timeIntervalSince1970: all.totals.first) == first && Date(timeIntervalSince1970: all.totals.last) == last)
            // The 41st line is a candidate: the sweep stops at its start.
            let before = lines.prefix(40).reduce(1) { $0 + $1.utf8.count + 1 }
            let candidateEnd = before + lines[40].utf8.count
            let cut = Self.sweep(lines, layout: layout, candidates: [candidateEnd], using: build.run)
            #expect(cut.accepted == 40 && cut.stoppedAt == before, "\(build.name)")
            // A line on another date ends the call's run (its days are those of its first and last times).
            var dated = lines
            dated[60] = dated[60].replacingOccurrences(of: "2021-03-03", with: "2021-03-04")
            let byDate = Self.sweep(dated, layout: layout, using: build.run)
            #expect(byDate.accepted == 60 && byDate.stoppedAt == dated.prefix(60).reduce(1) { $0 + $1.utf8.count + 1 }, "\(build.name)")
            // Lines with no readable time do not end it.
            dated[60] = dated[60].replacingOccurrences(of: "2021-03-04", with: "2021-13-04")
            #expect(Self.sweep(dated, layout: layout, using: build.run).accepted == 100, "\(build.name)")
        }
    }
}

@Suite("Records without a readable time")
struct UntimedRecordTests {
    @Test("counted and reported per file, the same with and without the prefilter", arguments: [true, false])
    func reported(prefilter: Bool) throws {
        let dir = try TempDir("untimed-\(prefilter)")
        let good = IISLog.line("GET", "/owa/", time: "2021-03-03 06:44:21")
        let lines = IISLog.header + [good, IISLog.line("GET", "/owa/", time: "2021-13-03 06:44:21"), good,
                                     IISLog.line("GET", "/owa/", time: "2021-03-03 06:44:21+00:00"), good]
        try dir.write("evidence/EXCH01/IIS/W3SVC1/u_ex210303.log", Array((lines.joined(separator: "\r\n") + "\r\n").utf8))
        let clean = IISLog.header + Array(repeating: good, count: 3)
        try dir.write("evidence/EXCH01/IIS/W3SVC1/u_ex210304.log", Array((clean.joined(separator: "\r\n") + "\r\n").utf8))
        let scanner = EvidenceScanner(engine: try RuleEngine(pack: try BuiltInData.indicatorPack(), literalPrefilter: prefilter))
        _ = scanner.scan(caseFolder: dir.url)
        let odd = try #require(scanner.statuses.first { $0.path.hasSuffix("u_ex210303.log") })
        #expect(odd.records == 5)
        #expect(odd.warnings.contains("2 record(s) whose time could not be read: left out of the time range the logs cover"))
        let fine = try #require(scanner.statuses.first { $0.path.hasSuffix("u_ex210304.log") })
        #expect(!fine.warnings.contains { $0.contains("time could not be read") })
    }
}
