import Foundation

/// One detection check whose coverage a server's evidence must prove before the console may say
/// "no findings". Each check names the evidence formats that feed it.
///
/// Sources: Test-ProxyLogon's four checks and its log-age report
/// (https://github.com/microsoft/CSS-Exchange/blob/main/Security/src/Test-ProxyLogon.ps1) and
/// CISA AA21-062A's instruction to look back to at least 2021-01-01
/// (https://us-cert.cisa.gov/ncas/alerts/aa21-062a).
public enum CoverageCheck: String, CaseIterable, Codable, Sendable {
    /// CVE-2021-26855 SSRF: Exchange HttpProxy logs (every protocol folder).
    case cve202126855 = "cve-2021-26855"
    /// CVE-2021-26857 deserialization: Application / Sysmon event logs (EVTX).
    case cve202126857 = "cve-2021-26857"
    /// CVE-2021-26858 file write: OAB generator logs.
    case cve202126858 = "cve-2021-26858"
    /// CVE-2021-27065 file write: ECP server logs.
    case cve202127065 = "cve-2021-27065"
    /// Web-shell and exploit requests in IIS W3C logs.
    case iisRequests = "iis-requests"
    /// Web shells and post-exploitation files on disk: file inventories.
    case filesOnDisk = "files-on-disk"

    /// One line for the console and `scan` output.
    public var title: String {
        switch self {
        case .cve202126855: "CVE-2021-26855 SSRF (HttpProxy logs)"
        case .cve202126857: "CVE-2021-26857 UM deserialization (event logs)"
        case .cve202126858: "CVE-2021-26858 OAB file write (OAB generator logs)"
        case .cve202127065: "CVE-2021-27065 ECP file write (ECP server logs)"
        case .iisRequests: "Exploit and web-shell requests (IIS logs)"
        case .filesOnDisk: "Web shells and tools on disk (file inventory)"
        }
    }

    /// What evidence the check needs, for the "not checked" explanation.
    public var input: String {
        switch self {
        case .cve202126855: "Logging\\HttpProxy\\<Protocol>\\*.LOG"
        case .cve202126857: "the Application event log (EVTX)"
        case .cve202126858: "Logging\\OABGeneratorLog\\"
        case .cve202127065: "Logging\\ECP\\Server\\*.LOG"
        case .iisRequests: "C:\\inetpub\\logs\\LogFiles\\W3SVC1\\u_ex*.log"
        case .filesOnDisk: "a file inventory (Get-FileHash CSV, path,sha256 CSV or Velociraptor JSONL) of the web folders"
        }
    }

    /// Whether a server's verdict may be `no-findings` only when this check is covered.
    ///
    /// Rule: the four checks that decide whether a server can hold a web shell are required —
    /// the SSRF entry point (26855), both file writes (26858, 27065) and the files on disk.
    /// Event logs (26857, whose code execution leaves its marks through the same file writes
    /// and files on disk) and IIS logs (the same requests HttpProxy already logs) are shown with
    /// their coverage but do not block `no-findings`.
    public var required: Bool { required(build: nil) }

    /// Whether the check is required on a server of this Exchange build. Exchange 2010
    /// (`14.x`) is exposed only to CVE-2021-26857 (KB5000978), so there the 26857 event-log
    /// check is the one required check (CSS-Exchange issues 241: a 2010 run that skipped the
    /// other tests and printed "Nothing suspicious detected" proves nothing).
    public func required(build: String?) -> Bool {
        if let build, build.hasPrefix("14.") { return self == .cve202126857 }
        switch self {
        case .cve202126855, .cve202126858, .cve202127065, .filesOnDisk: return true
        case .cve202126857, .iisRequests: return false
        }
    }

    /// Whether the check's evidence is a log whose time range must reach back to the exposure
    /// window start (file inventories are a snapshot and have no time range).
    public var timeBased: Bool { self != .filesOnDisk }

    /// The most days in a row the check's logs may have no record inside the exposure window
    /// before the check is `insufficient-coverage`: Exchange's own health probes put requests in
    /// the HttpProxy and IIS logs every day; ECP, OAB generator and event logs may be quieter.
    public var allowedGapDays: Int {
        switch self {
        case .cve202126855, .iisRequests: 3
        default: 7
        }
    }

    /// Whether evidence of `format` feeds this check. Event-log formats are matched by their
    /// raw value containing `evtx`, so that the EVTX reader plugs in without a change here.
    public func accepts(_ format: EvidenceFormat) -> Bool {
        switch self {
        case .cve202126855: format == .httpProxy
        case .cve202126857: format.rawValue.contains("evtx")
        case .cve202126858: format == .oabGenerator
        case .cve202127065: format == .ecpServer
        case .iisRequests: format == .iisW3C
        case .filesOnDisk: format == .fileInventory
        }
    }
}

/// How far a check got on one server.
public enum CoverageStatus: String, Codable, Sendable {
    /// The check's evidence produced counted hits.
    case findings
    /// Evidence covering the whole exposure window was read and produced no counted hit.
    case noFindings = "no-findings"
    /// Evidence was read but does not cover the exposure window (starts after its start, ends
    /// before its end, carries no dated record, or is an inventory without rows): absence of
    /// hits proves nothing.
    case insufficientCoverage = "insufficient-coverage"
    /// No evidence for this check was read at all.
    case notChecked = "not-checked"
}

/// The coverage of one check on one server.
///
/// JSON shape (in `incident scan --format json`, `servers[].coverage[]`): `check`, `title`,
/// `status`, `required`, `evidence` (paths relative to the case folder), `from` / `to`
/// (ISO-8601 UTC or null), `hits`, `reason`.
public struct CheckCoverage: Sendable, Equatable {
    public var check: CoverageCheck
    public var status: CoverageStatus
    /// Whether this check must be covered for the server to be `no-findings` (see ``CoverageCheck/required(build:)``).
    public var required: Bool
    /// Evidence files that fed the check, relative to the case folder, sorted.
    public var evidence: [String]
    /// Earliest and latest event time (UTC) in that evidence; nil when none is dated.
    public var from: Date?
    public var to: Date?
    /// Counted hits (at `low` or above) from that evidence.
    public var hits: Int
    /// Why the status is what it is, in one sentence.
    public var reason: String
}

/// Works out each check's coverage from a server's evidence files and hits.
public enum Coverage {
    /// The longest run of UTC days inside `[from, to]` on which none of the files has a record
    /// (`days` of each file as ``FileStatus/recordDays`` runs), or nil when there is none.
    static func longestGap(_ days: [[[Int32]]], from: Date, to: Date) -> (first: Int32, last: Int32, days: Int)? {
        let lo = FileCursor.day(from), hi = FileCursor.day(to)
        guard lo <= hi else { return nil }
        let runs = days.joined().filter { $0.count == 2 }.sorted { $0[0] < $1[0] }
        var covered = lo - 1 // every day up to this one has a record or lies before the window
        var best: (first: Int32, last: Int32, days: Int)?
        func gap(_ a: Int32, _ b: Int32) {
            guard a <= b else { return }
            let n = Int(b) - Int(a) + 1
            if best.map({ n > $0.days }) ?? true { best = (a, b, n) }
        }
        for r in runs {
            if r[0] > hi { break }
            if r[0] > covered + 1 { gap(covered + 1, min(r[0] - 1, hi)) }
            covered = max(covered, r[1])
        }
        if covered < hi { gap(covered + 1, hi) }
        return best
    }

    static func dayText(_ day: Int32) -> String {
        String(Timestamps.iso8601(Date(timeIntervalSince1970: Double(day) * 86_400)).prefix(10))
    }

    /// The coverage of every check for one server, in ``CoverageCheck`` order.
    /// - Parameters:
    ///   - files: the server's file statuses (skipped entries and unrecognised files feed no check).
    ///   - hits: the server's counted hits (not triaged as false positives).
    ///   - exposureStart: the case's exposure window start (UTC); logs must reach back this far.
    ///   - build: the server's Exchange build when recorded (decides which checks are required).
    ///   - exposureEnd: when the exposure ended (patch or mitigation date, UTC), if recorded; logs
    ///     must run at least until then, or until ``defaultExposureEnd`` when it is not recorded.
    ///   - now: the time of the evaluation (UTC). Records dated more than a day after it (a
    ///     clock set wrong, a forged line) do not extend the logs: a file's end is then the start of
    ///     the last day up to that limit with a record (``plausibleEnd(_:limitDay:)``), and the
    ///     reason says so.
    ///   - stillExposed: the server's build is vulnerable and no patch or mitigation date is
    ///     recorded, so its exposure window is still open: time-based logs must then run to within
    ///     ``openWindowLag`` of their intake (`intake`: the latest of each file's registration or
    ///     growth, by path; `now` for a file without a record), not just to ``defaultExposureEnd``.
    ///   - generatesOAB: whether the server generates the offline address book (``Server/generatesOAB``);
    ///     `false` makes `cve-2021-26858` not required (only the generating server writes OAB
    ///     generator logs).
    public static func evaluate(files: [FileStatus], hits: [Hit], exposureStart: Date, build: String? = nil,
                                exposureEnd: Date? = nil, now: Date = Date(), stillExposed: Bool = false,
                                intake: [String: Date] = [:], generatesOAB: Bool? = nil) -> [CheckCoverage] {
        let windowEnd = max(exposureStart, exposureEnd ?? defaultExposureEnd)
        let startsOnADate = exposureStart.timeIntervalSince1970.truncatingRemainder(dividingBy: 86_400) == 0
        let limitDay = FileCursor.day(now) &+ 1
        return CoverageCheck.allCases.map { check in
            let used = files.filter { f in !f.skipped && f.givesCoverage && f.format.map(check.accepts) == true }
            // Recorded as not generating the OAB, and none of its logs says otherwise: a server
            // whose OAB generator logs are in the evidence does generate it.
            let noOAB = check == .cve202126858 && generatesOAB == false && used.isEmpty
            let required = check.required(build: build) && !noOAB
            let paths = used.map(\.path).sorted()
            if used.isEmpty {
                return CheckCoverage(check: check, status: .notChecked, required: required, evidence: [], from: nil, to: nil, hits: 0,
                                     reason: noOAB ? "not required: the server does not generate the offline address book (recorded with --generates-oab no), so it writes no OAB generator log"
                                         : "no evidence for this check: collect \(check.input)")
            }
            let pathSet = Set(paths)
            let hitCount = hits.filter { $0.severity >= .low && pathSet.contains($0.evidence) }.count
            let from = used.compactMap(\.firstEvent).min()
            let to = used.compactMap { Self.plausibleEnd($0, limitDay: limitDay) }.max()
            let future = used.contains { $0.lastEvent.map { FileCursor.day($0) > limitDay } ?? false }
                ? " (records dated after \(Self.dayText(limitDay)) were left out)" : ""
            let records = used.reduce(0) { $0 + $1.records }
            let start = Timestamps.iso8601(exposureStart)
            var mustReach = windowEnd
            var endReason = exposureEnd == nil ? " (no patch or mitigation date recorded: logs must at least reach the start of mass exploitation)" : " (the end of the exposure window)"
            if stillExposed, exposureEnd == nil {
                // The intake of the file whose records reach furthest: a late copy of old logs
                // does not move what the logs must reach.
                let newest = used.max { (Self.plausibleEnd($0, limitDay: limitDay) ?? .distantPast) < (Self.plausibleEnd($1, limitDay: limitDay) ?? .distantPast) }
                let collected = newest.flatMap { intake[$0.path] } ?? now
                let reach = collected.addingTimeInterval(-Self.openWindowLag)
                if reach > mustReach {
                    mustReach = reach
                    endReason = " (the server's build is still vulnerable and no mitigation date, nor a patch date with a fixed build, is recorded: logs must run to within 7 days of their intake, \(Timestamps.iso8601(collected)); if it was patched, record the fixed build and --patched-on)"
                }
            }
            var shortfall: String?
            if check.timeBased {
                if let from, let to {
                    func short(_ files: [FileStatus], from: Date, to: Date) -> String? {
                        // A window that starts on a date (00:00 UTC, the case setting) is reached by
                        // logs that begin that day (an 8-hourly OAB generator log never has a record
                        // at 00:00); a window that starts at a recorded time needs logs from then.
                        if startsOnADate ? FileCursor.day(from) > FileCursor.day(exposureStart) : from > exposureStart {
                            return "logs start \(Timestamps.iso8601(from)), after the exposure window start \(start)"
                        } else if to < mustReach {
                            return "logs end \(Timestamps.iso8601(to)), before \(Timestamps.iso8601(mustReach))" + endReason
                        } else if let gap = Self.longestGap(files.map(\.recordDays), from: exposureStart, to: mustReach), gap.days > check.allowedGapDays {
                            return "no record from \(Self.dayText(gap.first)) to \(Self.dayText(gap.last)) (\(gap.days) days): logs missing for that time"
                        }
                        return nil
                    }
                    shortfall = short(used, from: from, to: to)
                    if shortfall == nil, check == .cve202126855 {
                        // Each protocol folder on its own: a missing month of Ecp logs is not
                        // made up for by a full Owa folder, nor is a folder never collected.
                        let folders = Self.httpProxyFolders(used)
                        let present = Set(folders.map { $0.0.lowercased() })
                        if present.isEmpty && !used.contains(where: { Self.httpProxySubfolder($0.path) != nil }) {
                            shortfall = "the HttpProxy logs are not in their protocol folders (Logging\\HttpProxy\\<protocol>\\), so each protocol cannot be shown covered: keep that layout when collecting"
                        } else if present.count < Self.probedHttpProxyFolders.count {
                            let missing = Self.probedHttpProxyFolderNames.filter { !present.contains($0.lowercased()) }
                            shortfall = "no HttpProxy\\" + missing.joined(separator: ", no HttpProxy\\")
                                + " logs: requests through \(missing.count == 1 ? "that protocol" : "those protocols") are not covered; collect all of Logging\\HttpProxy"
                        }
                        for (folder, group) in folders where shortfall == nil {
                            guard let f = group.compactMap(\.firstEvent).min(),
                                  let t = group.compactMap({ Self.plausibleEnd($0, limitDay: limitDay) }).max() else { continue }
                            if let s = short(group, from: f, to: t) {
                                shortfall = "HttpProxy\\\(folder) " + s
                                break
                            }
                        }
                    }
                } else {
                    shortfall = records == 0 ? "the evidence holds no records"
                        : from != nil ? "every record is dated after \(Self.dayText(limitDay)) (a clock set wrong, or forged lines), so the logs cannot be shown to reach back to \(start)"
                        : "no record carries a time, so the logs cannot be shown to reach back to \(start)"
                }
            } else if records == 0 {
                shortfall = "the inventory holds no rows"
            } else {
                // Rows, but not in every folder web shells were dropped in: those were not listed.
                let listed = Set(used.flatMap { $0.webFolders ?? [] })
                let missing = FileCursor.dropFolders.map(\.key).filter { !listed.contains($0) }
                if !missing.isEmpty {
                    shortfall = "the inventory lists no file under " + missing.map { Self.dropFolderNames[$0] ?? $0 }.joined(separator: " nor under ")
                        + ", where web shells were dropped"
                }
            }
            let status: CoverageStatus
            let reason: String
            if hitCount > 0 {
                status = .findings
                reason = "\(hitCount) hit(s)" + (shortfall.map { "; coverage is short: \($0)" } ?? "")
            } else if let shortfall {
                status = .insufficientCoverage
                reason = shortfall + ": no hit, but that does not show the server is clean"
            } else {
                status = .noFindings
                reason = from.map {
                    "logs run from \(Timestamps.iso8601($0)) (\($0 <= exposureStart ? "before \(start)" : "the first day of the window, which starts \(start)")) to \(Timestamps.iso8601(to ?? $0)); no hit"
                } ?? "\(records) row(s) read; no hit"
            }
            var note = future
            if check == .filesOnDisk, records > 0 {
                // The inventory is read either way; only a baseline finds a changed stock page.
                let baselines = files.filter { $0.format == .hashBaseline && !$0.skipped }
                if !baselines.contains(where: { $0.baselineUsed != false }) {
                    note += baselines.isEmpty
                        ? " (no known-good baseline in the evidence: web files were not compared by hash, so a changed Exchange page is not found)"
                        : " (the known-good baseline is not for the server's recorded build: web files were not compared by hash)"
                }
            }
            return CheckCoverage(check: check, status: status, required: required, evidence: paths, from: from, to: to, hits: hitCount, reason: reason + note)
        }
    }

    /// The latest record time of a file that counts for coverage: its last record when that is
    /// dated on or before `limitDay` (days since 1970-01-01, UTC); otherwise the start (00:00 UTC)
    /// of the last day up to `limitDay` with a record (from ``FileStatus/recordDays``, which keeps
    /// days, not times: the start never claims more than the logs hold), or nil when it has none.
    static func plausibleEnd(_ f: FileStatus, limitDay: Int32) -> Date? {
        guard let last = f.lastEvent else { return nil }
        if FileCursor.day(last) <= limitDay { return last }
        let day = f.recordDays.compactMap { r in r.count == 2 && r[0] <= limitDay ? min(r[1], limitDay) : nil }.max()
        return day.map { Date(timeIntervalSince1970: Double($0) * 86_400) }
    }

    /// HttpProxy protocol folders that Managed Availability probes every few minutes, so their
    /// logs have records every day, and through which CVE-2021-26855 requests were proxied
    /// (`../shared/knowledge/proxylogon.md` §1.0.1; Test-ProxyLogon reads them all:
    /// https://github.com/microsoft/CSS-Exchange/blob/main/Security/src/Test-ProxyLogon.ps1).
    static let probedHttpProxyFolderNames = ["Autodiscover", "Ecp", "Ews", "Mapi", "Oab", "Owa"]
    /// ``probedHttpProxyFolderNames``, lowercased.
    static let probedHttpProxyFolders = Set(probedHttpProxyFolderNames.map { $0.lowercased() })

    /// The folder below an `HttpProxy` folder a file lies in (`Ecp` of
    /// `evidence/E/Logging/HttpProxy/Ecp/x.LOG`), or nil.
    static func httpProxySubfolder(_ path: String) -> String? {
        let parts = path.split(separator: "/")
        guard let i = parts.lastIndex(where: { $0.lowercased() == "httpproxy" }), i + 2 < parts.count else { return nil }
        return String(parts[i + 1])
    }

    /// The files of ``probedHttpProxyFolders`` grouped by their `HttpProxy/<folder>/` path
    /// component (spelled as in the path), sorted by folder; files elsewhere are left out.
    static func httpProxyFolders(_ files: [FileStatus]) -> [(String, [FileStatus])] {
        var groups: [String: (name: String, files: [FileStatus])] = [:]
        for f in files {
            guard let name = httpProxySubfolder(f.path), probedHttpProxyFolders.contains(name.lowercased()) else { continue }
            groups[name.lowercased(), default: (name, [])].files.append(f)
        }
        return groups.keys.sorted().map { (groups[$0]!.name, groups[$0]!.files) }
    }

    /// How a missing ``FileCursor/dropFolders`` folder is named in a reason.
    static let dropFolderNames = ["owa\\auth": "owa\\auth (FrontEnd\\HttpProxy\\owa\\auth, or ClientAccess\\Owa\\auth on Exchange 2013)",
                                  "inetpub\\wwwroot": "inetpub\\wwwroot (with aspnet_client; IIS puts iisstart.htm there)"]

    /// How long (7 days, in seconds) before their intake the logs of a still-exposed server may
    /// end: collection, transfer and intake rarely take longer.
    public static let openWindowLag: TimeInterval = 7 * 86_400

    /// How far logs must reach when no patch or mitigation date is recorded: 2021-03-03T00:00Z,
    /// the day of CISA ED 21-02, after mass exploitation had begun (Microsoft and Volexity report
    /// exploitation from January 2021 and at scale from late February; proxylogon.md §1, §4.1).
    public static let defaultExposureEnd = Date(timeIntervalSince1970: 1_614_729_600)

    /// The server verdict once coverage is taken into account: a hit-derived `no-findings`
    /// becomes `insufficient-coverage` when any required check is `insufficient-coverage` or
    /// `not-checked`. Every other verdict is kept (a finding stands whatever the coverage).
    public static func adjust(_ verdict: Verdict, coverage: [CheckCoverage]) -> Verdict {
        guard verdict == .noFindings else { return verdict }
        let short = coverage.contains { $0.required && ($0.status == .insufficientCoverage || $0.status == .notChecked) }
        return short ? .insufficientCoverage : .noFindings
    }
}
