import Foundation

/// Text from evidence (user agents, URLs, file names) made safe for a report: control
/// characters, bidi overrides and zero-width characters become visible `\u{XXXX}` escapes, so
/// a report never hides or reorders what the evidence says.
public enum ReportText {
    public static func clean(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for scalar in s.unicodeScalars {
            let v = scalar.value
            let hidden = v < 0x20 || (v >= 0x7F && v <= 0x9F) || (v >= 0x200B && v <= 0x200F) || (v >= 0x202A && v <= 0x202E)
                || (v >= 0x2066 && v <= 0x2069) || v == 0x061C || v == 0xFEFF || v == 0x2028 || v == 0x2029
            if hidden {
                out += String(format: "\\u{%04X}", v)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Cleaned and shortened to `limit` characters with an ellipsis.
    static func clip(_ s: String, _ limit: Int) -> String {
        let c = clean(s)
        return c.count > limit ? String(c.prefix(limit - 1)) + "…" : c
    }
}

/// The report formats of `incident report`.
public enum ReportFormat: String, Sendable, CaseIterable {
    case markdown, html, csv, json
}

/// Formats a ``CaseReport``.
public enum ReportRenderer {
    /// Timeline entries written in Markdown and HTML (all are in CSV and JSON timelines).
    public static let timelineLimit = 2_000

    public static func render(_ r: CaseReport, as format: ReportFormat) throws -> Data {
        switch format {
        case .markdown: Data(markdown(r).utf8)
        case .html: Data(html(r).utf8)
        case .csv: Data(csv(r).utf8)
        case .json: try json(r)
        }
    }

    static func iso(_ d: Date?) -> String { d.map(Timestamps.iso8601) ?? "—" }
    /// `2021-03-03 06:44:22Z`: seconds are enough in tables people read.
    static func short(_ d: Date?) -> String {
        guard let d else { return "—" }
        let s = Timestamps.iso8601(d)
        return String(s.prefix(10)) + " " + String(s.dropFirst(11).prefix(8)) + "Z"
    }
    static func yesNo(_ b: Bool?) -> String { b.map { $0 ? "yes" : "no" } ?? "not recorded" }

    // MARK: - Shared tables

    static func summaryRows(_ r: CaseReport) -> [(String, String)] {
        func list<T>(_ counts: [(T, Int)], _ name: (T) -> String) -> String {
            counts.filter { $0.1 > 0 }.map { "\(name($0.0)) \($0.1)" }.joined(separator: ", ").ifEmpty("none")
        }
        return [
            ("Servers", "\(r.servers.count)"),
            ("Verdicts", list(r.verdictCounts) { $0.rawValue }),
            ("Patch state", list(r.patchCounts) { $0.rawValue }),
            ("Compromise state", list(r.compromiseCounts) { $0.rawValue }),
            ("Servers done (patched, and investigated clean or remediated)", "\(r.serversDone) of \(r.servers.count)"),
            ("Remediation steps done", "\(r.stepsDone) of \(r.stepsApplicable)"),
            ("Hits (counted)", "\(r.timeline.count)" + (r.timeline.isEmpty ? "" : ": " + list(r.severityCounts) { $0.rawValue })),
            ("Hits triaged as false positives", "\(r.falsePositives)"),
            ("Evidence files", "\(r.servers.reduce(0) { $0 + $1.evidence.count })"),
            ("Evidence missing or unreadable", "\(r.missingEvidence.count + r.unreadable.count)"),
            ("Imported indicator packs", r.importedPacks.isEmpty ? "none" : r.importedPacks.map { "\($0.id) (\($0.enabled ? "enabled" : "disabled"), \($0.indicatorCount))" }.joined(separator: ", ")),
        ]
    }

    /// The servers table of the summary, the same in Markdown and HTML.
    static let serverHeader = ["Server", "Verdict", "Patch state", "Compromise state", "Steps", "Hits", "Done"]

    static func serverRow(_ s: CaseReport.ServerSection) -> [String] {
        [s.server.name, s.summary.verdict.rawValue, s.summary.patchState.rawValue, s.summary.compromiseState.rawValue,
         "\(s.summary.stepsDone)/\(s.summary.stepsApplicable)", "\(s.summary.hits)", s.summary.isDone ? "yes" : "no"]
    }

    static let ed2102Header = ["Instance", "IP address", "Host OS version", "Exchange version", "Internet-accessible?", "Runs OWA?",
                               "Runs ECP?", "OWA/ECP disabled?", "Disconnected?", "Updated?", "Memory and disk imaged?", "Observed IOCs / report"]

    /// Columns of a server's coverage table: each check with its status, whether it is
    /// required, the time range of its records (UTC), its evidence files and the reason.
    static let coverageHeader = ["Check", "Status", "Required", "From", "To", "Files", "Reason"]

    static func coverageCells(_ c: CheckCoverage) -> [String] {
        [c.check.rawValue, c.status.rawValue, c.required ? "yes" : "no", short(c.from), short(c.to), "\(c.evidence.count)", c.reason]
    }

    /// Columns of a server's attack chain: each step reached, in chain order.
    static let chainHeader = ["Stage", "Hits", "First seen", "Last seen", "Client IPs", "Indicators", "CVEs"]

    static func chainCells(_ l: ChainLink) -> [String] {
        [l.stage.rawValue, "\(l.hits)", short(l.firstSeen), short(l.lastSeen),
         l.clientIPs.prefix(8).joined(separator: ", ") + (l.clientIPs.count > 8 ? " +\(l.clientIPs.count - 8)" : ""),
         l.indicators.joined(separator: ", "), l.cves.joined(separator: ", ")]
    }

    static func ed2102Cells(_ row: CaseReport.ED2102Row) -> [String] {
        [row.instance, row.ipAddress ?? "not recorded", row.hostOSVersion ?? "not recorded", row.exchangeVersion ?? "not recorded",
         yesNo(row.internetAccessible), yesNo(row.runsOWA), yesNo(row.runsECP), yesNo(row.owaECPDisabled), yesNo(row.disconnected),
         row.updated ? "yes" : "no", yesNo(row.imagesTaken), row.observedIOCs]
    }

    // MARK: - Markdown

    static func md(_ s: String) -> String {
        ReportText.clean(s).replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "|", with: "\\|")
            .replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "`", with: "\\`").replacingOccurrences(of: "*", with: "\\*").replacingOccurrences(of: "_", with: "\\_")
    }

    static func mdTable(_ header: [String], _ rows: [[String]]) -> String {
        var out = "| " + header.map(md).joined(separator: " | ") + " |\n|" + String(repeating: "---|", count: header.count) + "\n"
        for r in rows { out += "| " + r.map(md).joined(separator: " | ") + " |\n" }
        return out
    }

    public static func markdown(_ r: CaseReport) -> String {
        var o = "# Incident report: \(md(r.caseName))\n\n"
        o += "Case \(r.caseId) · generated \(iso(r.generatedAt)) · evidence scanned \(iso(r.lastScan)) · times in UTC\n\n"
        o += "## Executive summary\n\n" + mdTable(["", ""], summaryRows(r).map { [$0.0, $0.1] }) + "\n"
        o += "Patching is not remediation: a server counts as done only when it is patched and its compromise state is investigated-clean or remediated.\n\n"
        o += "### Servers\n\n"
        o += mdTable(serverHeader, r.servers.map(serverRow)) + "\n"
        if !r.missingEvidence.isEmpty || !r.unreadable.isEmpty {
            o += "### Evidence not read\n\n"
            for m in r.missingEvidence { o += "- missing: \(md(m))\n" }
            for u in r.unreadable { o += "- not read: \(md(u))\n" }
            o += "\n"
        }
        o += "## Findings per server\n\n"
        for s in r.servers {
            o += "### \(md(s.server.name))\n\n"
            o += "- Verdict: **\(s.summary.verdict.rawValue)**; patch state **\(s.summary.patchState.rawValue)** (\(md(s.summary.patchReason))); compromise state **\(s.summary.compromiseState.rawValue)** (\(md(s.summary.compromiseReason)))\n"
            o += "- FQDN \(md(s.server.fqdn ?? "not recorded")), role \(md(s.server.role ?? "not recorded")), build \(md(s.server.exchangeBuild ?? "not recorded")), internet-facing \(yesNo(s.server.internetFacing))\n\n"
            if let late = s.summary.afterExposureEnd { o += "- **After the exposure window ended:** \(md(late.summary))\n\n" }
            o += "#### Coverage\n\n" + mdTable(coverageHeader, s.summary.coverage.map(coverageCells)) + "\n"
            if !s.summary.chain.isEmpty {
                o += "#### Attack chain\n\n" + mdTable(chainHeader, s.summary.chain.map(chainCells)) + "\n"
            }
            if s.findings.isEmpty {
                o += "No counted hits.\n\n"
            } else {
                o += mdTable(["Severity", "Indicator", "Stage", "CVE", "Hits", "First seen", "Last seen", "Client IPs", "Evidence (path:line, SHA-256)"], s.findings.map { f in
                    [f.severity.rawValue, "\(f.indicator) \(f.title)", f.stage.rawValue, f.cve ?? "", "\(f.count)", short(f.firstSeen), short(f.lastSeen),
                     f.clientIPs.prefix(5).joined(separator: ", ") + (f.clientIPs.count > 5 ? " +\(f.clientIPs.count - 5)" : ""),
                     f.references.map { "\($0.path):\($0.line) (\($0.sha256.prefix(16))…)" }.joined(separator: "; ")]
                }) + "\n"
            }
            o += "#### Checklist\n\n"
            o += mdTable(["Step", "State", "By", "When", "Note"], s.checklist.map { c in
                [c.step.title, c.state.rawValue, c.by ?? "", c.at.map(Timestamps.iso8601) ?? "", c.note ?? ""]
            }) + "\n"
            if !s.evidence.isEmpty {
                o += "#### Evidence\n\n"
                o += mdTable(["Path", "Bytes", "SHA-256", "Added", "By"], s.evidence.map { e in
                    [e.path, "\(e.sizeBytes)", e.sha256, Timestamps.iso8601(e.addedAt), e.addedBy]
                }) + "\n"
            }
        }
        o += "## Timeline of hits\n\n"
        let shown = r.timeline.prefix(timelineLimit)
        if r.timeline.count > shown.count { o += "First \(shown.count) of \(r.timeline.count) hits; the CSV and JSON reports hold all.\n\n" }
        o += mdTable(["Time", "Server", "Severity", "Indicator", "Field", "Value", "Evidence"], shown.map { h in
            [short(h.time), h.server, h.severity.rawValue, h.indicator, h.field, ReportText.clip(h.value, 160), "\(h.evidence):\(h.line)"]
        }) + "\n"
        o += "## CISA ED 21-02 status (template v1 columns)\n\n"
        o += mdTable(ed2102Header, r.ed2102.map(ed2102Cells)) + "\n"
        o += "Source of the columns: https://cyber.dhs.gov/ed/21-02/ (status report template).\n"
        return o
    }

    // MARK: - HTML

    static func h(_ s: String) -> String {
        var out = ""
        for ch in ReportText.clean(s) {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(ch)
            }
        }
        return out
    }

    /// A table; `columns` gives each column's CSS class (`nw` no wrapping, `refs` one reference per line).
    static func htmlTable(_ header: [String], _ rows: [[String]], cls: String = "", columns: [String] = [],
                          rowClass: ((Int) -> String)? = nil) -> String {
        func td(_ i: Int, _ text: String) -> String {
            let c = i < columns.count ? columns[i] : ""
            // Cells may hold several lines (references, addresses); each line is escaped on its own.
            let body = text.split(separator: "\n", omittingEmptySubsequences: false).map { h(String($0)) }.joined(separator: "<br>")
            return c.isEmpty ? "<td>\(body)</td>" : "<td class=\"\(c)\">\(body)</td>"
        }
        var o = "<table\(cls.isEmpty ? "" : " class=\"\(cls)\"")><thead><tr>" + header.map { "<th>\(h($0))</th>" }.joined() + "</tr></thead><tbody>\n"
        for (i, r) in rows.enumerated() {
            let c = rowClass?(i) ?? ""
            o += "<tr\(c.isEmpty ? "" : " class=\"\(c)\"")>" + r.enumerated().map { td($0.offset, $0.element) }.joined() + "</tr>\n"
        }
        return o + "</tbody></table>\n"
    }

    static let css = """
    :root { --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --crit: #a40e26; --high: #bc4c00; --med: #9a6700; --ok: #1a7f37; }
    * { box-sizing: border-box; }
    body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); margin: 2rem auto; max-width: 1200px; padding: 0 1rem; }
    h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { border-bottom: 1px solid var(--line); padding-bottom: .2rem; margin-top: 2rem; }
    .meta, .muted { color: var(--muted); }
    table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; font-size: 12.5px; }
    th, td { border: 1px solid var(--line); padding: 3px 6px; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
    th { background: #f6f8fa; }
    .sev-critical td:first-child, .v-compromised { color: var(--crit); font-weight: 600; }
    .sev-high td:first-child, .v-exploited { color: var(--high); font-weight: 600; }
    .sev-medium td:first-child, .v-probed { color: var(--med); }
    .done { color: var(--ok); font-weight: 600; }
    .c-insufficient-coverage td:nth-child(2), .c-not-checked td:nth-child(2) { color: var(--high); font-weight: 600; }
    .c-findings td:nth-child(2) { color: var(--crit); font-weight: 600; }
    td.nw { white-space: nowrap; } td.refs { white-space: pre-line; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 11px; }
    td.ind { min-width: 16em; } td.ip { min-width: 9em; } td.refs { min-width: 24em; }
    td.mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 11px; }
    nav ul { columns: 2; } code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
    section.server { page-break-before: always; break-before: page; }
    @media print { body { margin: 0; max-width: none; font-size: 11px; } nav { display: none; } a { color: inherit; text-decoration: none; }
      thead { display: table-header-group; } tr { page-break-inside: avoid; break-inside: avoid; } th { background: none; } }
    """

    public static func html(_ r: CaseReport) -> String {
        var o = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        o += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        o += "<title>Incident report: \(h(r.caseName))</title><style>\n\(css)\n</style></head><body>\n"
        o += "<header><h1>Incident report: \(h(r.caseName))</h1>"
        o += "<p class=\"meta\">Case <code>\(h(r.caseId))</code> · generated \(h(iso(r.generatedAt))) · evidence scanned \(h(iso(r.lastScan))) · times in UTC</p></header>\n"
        o += "<nav><ul><li><a href=\"#summary\">Executive summary</a></li>"
        for (i, s) in r.servers.enumerated() { o += "<li><a href=\"#server-\(i)\">\(h(s.server.name))</a></li>" }
        o += "<li><a href=\"#timeline\">Timeline</a></li><li><a href=\"#ed2102\">ED 21-02 status</a></li></ul></nav>\n"
        o += "<main>\n<section id=\"summary\"><h2>Executive summary</h2>\n"
        o += htmlTable(["Item", "Value"], summaryRows(r).map { [$0.0, $0.1] }, cls: "summary")
        o += "<p class=\"muted\">Patching is not remediation: a server counts as done only when it is patched and its compromise state is investigated-clean or remediated.</p>\n"
        o += htmlTable(serverHeader, r.servers.map(serverRow), cls: "servers") { "v-" + r.servers[$0].summary.verdict.rawValue }
        if !r.missingEvidence.isEmpty || !r.unreadable.isEmpty {
            o += "<h3>Evidence not read</h3><ul>"
            for m in r.missingEvidence { o += "<li>missing: \(h(m))</li>" }
            for u in r.unreadable { o += "<li>not read: \(h(u))</li>" }
            o += "</ul>\n"
        }
        o += "</section>\n"
        for (i, s) in r.servers.enumerated() {
            o += "<section class=\"server\" id=\"server-\(i)\"><h2>\(h(s.server.name))</h2>\n"
            o += "<p>Verdict <strong class=\"v-\(s.summary.verdict.rawValue)\">\(h(s.summary.verdict.rawValue))</strong> · patch state <strong>\(h(s.summary.patchState.rawValue))</strong> <span class=\"muted\">(\(h(s.summary.patchReason)))</span> · compromise state <strong>\(h(s.summary.compromiseState.rawValue))</strong> <span class=\"muted\">(\(h(s.summary.compromiseReason)))</span></p>\n"
            o += "<p class=\"muted\">FQDN \(h(s.server.fqdn ?? "not recorded")) · role \(h(s.server.role ?? "not recorded")) · build \(h(s.server.exchangeBuild ?? "not recorded")) · internet-facing \(yesNo(s.server.internetFacing))</p>\n"
            if let late = s.summary.afterExposureEnd { o += "<p class=\"v-compromised\">After the exposure window ended: \(h(late.summary))</p>\n" }
            o += "<h3>Coverage</h3>\n"
            o += htmlTable(coverageHeader, s.summary.coverage.map(coverageCells), cls: "coverage", columns: ["nw", "nw", "nw", "nw", "nw", "nw", ""]) {
                "c-" + s.summary.coverage[$0].status.rawValue
            }
            if !s.summary.chain.isEmpty {
                o += "<h3>Attack chain</h3>\n"
                o += htmlTable(chainHeader, s.summary.chain.map(chainCells), cls: "chain", columns: ["nw", "nw", "nw", "nw", "ip", "", "nw"])
            }
            o += "<h3>Findings</h3>\n"
            if s.findings.isEmpty {
                o += "<p>No counted hits.</p>\n"
            } else {
                o += htmlTable(["Severity", "Indicator", "Stage", "CVE", "Hits", "First seen", "Last seen", "Client IPs", "Evidence (path:line, SHA-256)"], s.findings.map { f in
                    [f.severity.rawValue, "\(f.indicator) \(f.title)", f.stage.rawValue, f.cve ?? "", "\(f.count)", short(f.firstSeen), short(f.lastSeen),
                     f.clientIPs.prefix(5).joined(separator: "\n") + (f.clientIPs.count > 5 ? "\n+\(f.clientIPs.count - 5) more" : ""),
                     f.references.map { "\($0.path):\($0.line)  sha256 \($0.sha256.prefix(16))…" }.joined(separator: "\n")]
                }, cls: "findings", columns: ["nw", "ind", "nw", "nw", "nw", "nw", "nw", "ip", "refs"]) { "sev-" + s.findings[$0].severity.rawValue }
            }
            o += "<h3>Checklist</h3>\n"
            o += htmlTable(["Step", "State", "By", "When", "Note"], s.checklist.map { c in
                [c.step.title, c.state.rawValue, c.by ?? "", c.at.map(Timestamps.iso8601) ?? "", c.note ?? ""]
            }, cls: "checklist", columns: ["", "nw", "", "nw", ""]) { s.checklist[$0].state == .done ? "done" : "" }
            if !s.evidence.isEmpty {
                o += "<h3>Evidence</h3>\n"
                o += htmlTable(["Path", "Bytes", "SHA-256", "Added", "By"], s.evidence.map { e in
                    [e.path, "\(e.sizeBytes)", e.sha256, Timestamps.iso8601(e.addedAt), e.addedBy]
                }, cls: "evidence", columns: ["mono", "nw", "mono", "nw", ""])
            }
            o += "</section>\n"
        }
        o += "<section id=\"timeline\"><h2>Timeline of hits</h2>\n"
        let shown = Array(r.timeline.prefix(timelineLimit))
        if r.timeline.count > shown.count { o += "<p class=\"muted\">First \(shown.count) of \(r.timeline.count) hits; the CSV and JSON reports hold all.</p>\n" }
        o += htmlTable(["Time", "Server", "Severity", "Indicator", "Field", "Value", "Evidence"], shown.map { x in
            [short(x.time), x.server, x.severity.rawValue, x.indicator, x.field, ReportText.clip(x.value, 240), "\(x.evidence):\(x.line)"]
        }, cls: "timeline", columns: ["nw", "nw", "nw", "nw", "", "mono", "mono"]) { "sev-" + shown[$0].severity.rawValue }
        o += "</section>\n<section id=\"ed2102\"><h2>CISA ED 21-02 status</h2>\n"
        o += "<p class=\"muted\">Columns of the ED 21-02 status report template (v1), https://cyber.dhs.gov/ed/21-02/. \"not recorded\" marks facts this case does not hold.</p>\n"
        o += htmlTable(ed2102Header, r.ed2102.map(ed2102Cells), cls: "ed2102")
        o += "</section>\n</main>\n<footer class=\"muted\"><p>Generated by Incident Console. Attacker-controlled text is shown with control and bidi characters as visible \\u{…} escapes.</p></footer>\n"
        o += "</body></html>\n"
        return o
    }

    // MARK: - CSV

    static func csvField(_ s: String) -> String {
        var c = ReportText.clean(s)
        // Spreadsheet formula injection: a leading =, +, - or @ is made inert.
        if let f = c.first, "=+-@".contains(f) { c = "'" + c }
        return "\"" + c.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// One row per server: the ED 21-02 template columns followed by verdict, patch state,
    /// compromise state, steps done, steps applicable, counted hits and done.
    public static func csv(_ r: CaseReport) -> String {
        let header = ["Server"] + ed2102Header + ["Verdict", "Patch state", "Compromise state", "Steps done", "Steps applicable", "Hits", "Done"]
        var o = header.map(csvField).joined(separator: ",") + "\r\n"
        for (s, row) in zip(r.servers, r.ed2102) {
            let cells = [s.server.name] + ed2102Cells(row) + [s.summary.verdict.rawValue, s.summary.patchState.rawValue, s.summary.compromiseState.rawValue,
                                                              "\(s.summary.stepsDone)", "\(s.summary.stepsApplicable)", "\(s.summary.hits)", s.summary.isDone ? "yes" : "no"]
            o += cells.map(csvField).joined(separator: ",") + "\r\n"
        }
        return o
    }

    // MARK: - JSON

    public static func json(_ r: CaseReport) throws -> Data {
        func d(_ x: Date?) -> Any { x.map(Timestamps.iso8601) ?? NSNull() }
        func o(_ x: String?) -> Any { x ?? NSNull() }
        func b(_ x: Bool?) -> Any { x ?? NSNull() }
        let object: [String: Any] = [
            "case": r.caseName, "caseId": r.caseId, "generatedAt": d(r.generatedAt), "lastScan": d(r.lastScan),
            "summary": [
                "servers": r.servers.count,
                "verdicts": Dictionary(uniqueKeysWithValues: r.verdictCounts.map { ($0.0.rawValue, $0.1) }),
                "patchStates": Dictionary(uniqueKeysWithValues: r.patchCounts.map { ($0.0.rawValue, $0.1) }),
                "compromiseStates": Dictionary(uniqueKeysWithValues: r.compromiseCounts.map { ($0.0.rawValue, $0.1) }),
                "serversDone": r.serversDone, "stepsDone": r.stepsDone, "stepsApplicable": r.stepsApplicable,
                "hits": r.timeline.count, "falsePositives": r.falsePositives,
                "hitsBySeverity": Dictionary(uniqueKeysWithValues: r.severityCounts.map { ($0.0.rawValue, $0.1) }),
            ] as [String: Any],
            "servers": r.servers.map { s -> [String: Any] in
                [
                    "name": s.server.name, "fqdn": o(s.server.fqdn), "role": o(s.server.role), "build": o(s.server.exchangeBuild),
                    "internetFacing": b(s.server.internetFacing), "verdict": s.summary.verdict.rawValue,
                    "patchState": s.summary.patchState.rawValue, "patchReason": s.summary.patchReason,
                    "compromiseState": s.summary.compromiseState.rawValue, "compromiseReason": s.summary.compromiseReason,
                    "stepsDone": s.summary.stepsDone, "stepsApplicable": s.summary.stepsApplicable, "done": s.summary.isDone,
                    "coverage": s.summary.coverage.map { c -> [String: Any] in
                        ["check": c.check.rawValue, "title": c.check.title, "status": c.status.rawValue, "required": c.required,
                         "evidence": c.evidence, "from": d(c.from), "to": d(c.to), "hits": c.hits, "reason": c.reason]
                    },
                    "afterExposureEnd": s.summary.afterExposureEnd.map { a -> Any in
                        ["windowEnd": d(a.windowEnd), "hits": a.hits, "firstSeen": d(a.firstSeen), "lastSeen": d(a.lastSeen),
                         "stages": a.stages.map(\.rawValue)] as [String: Any]
                    } ?? NSNull(),
                    "chain": s.summary.chain.map { l -> [String: Any] in
                        ["stage": l.stage.rawValue, "hits": l.hits, "firstSeen": d(l.firstSeen), "lastSeen": d(l.lastSeen),
                         "clientIps": l.clientIPs, "indicators": l.indicators, "cves": l.cves]
                    },
                    "findings": s.findings.map { f -> [String: Any] in
                        ["indicator": f.indicator, "title": f.title, "severity": f.severity.rawValue, "stage": f.stage.rawValue, "cve": o(f.cve),
                         "hits": f.count, "firstSeen": d(f.firstSeen), "lastSeen": d(f.lastSeen), "clientIps": f.clientIPs,
                         "evidence": f.references.map { ["path": $0.path, "line": $0.line, "sha256": $0.sha256] as [String: Any] }]
                    },
                    "checklist": s.checklist.map { c -> [String: Any] in
                        ["step": c.step.id, "title": c.step.title, "state": c.state.rawValue, "by": o(c.by), "at": d(c.at), "note": o(c.note)]
                    },
                    "evidence": s.evidence.map { e -> [String: Any] in
                        ["path": e.path, "sizeBytes": e.sizeBytes, "sha256": e.sha256, "addedAt": d(e.addedAt), "addedBy": e.addedBy]
                    },
                ]
            },
            "ed2102": r.ed2102.map { row -> [String: Any] in
                Dictionary(uniqueKeysWithValues: zip(ed2102Header, ed2102Cells(row)).map { ($0.0, $0.1 as Any) })
            },
            "missingEvidence": r.missingEvidence, "unreadable": r.unreadable,
        ]
        // The timeline can hold hundreds of thousands of hits: written directly rather than as
        // Foundation objects, and placed last.
        var head = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        while let last = head.last, last == UInt8(ascii: "}") || last == UInt8(ascii: "\n") || last == UInt8(ascii: " ") { head.removeLast() }
        var out = String(decoding: head, as: UTF8.self)
        out.reserveCapacity(out.utf8.count + r.timeline.count * 400)
        out += ",\n  \"timeline\" : ["
        for (i, x) in r.timeline.enumerated() {
            out += i == 0 ? "\n    {" : ",\n    {"
            out += "\"time\": " + (x.time.map { jsonString(Timestamps.iso8601($0)) } ?? "null")
            out += ", \"server\": " + jsonString(x.server) + ", \"severity\": " + jsonString(x.severity.rawValue)
            out += ", \"stage\": " + jsonString(x.stage.rawValue) + ", \"indicator\": " + jsonString(x.indicator)
            out += ", \"field\": " + jsonString(x.field) + ", \"value\": " + jsonString(x.value)
            out += ", \"evidence\": " + jsonString(x.evidence) + ", \"line\": \(x.line), \"hitId\": " + jsonString(x.id)
            out += ", \"clientIp\": " + (x.clientIP.map(jsonString) ?? "null") + "}"
        }
        out += r.timeline.isEmpty ? "]\n}\n" : "\n  ]\n}\n"
        return Data(out.utf8)
    }

    /// A JSON string literal: `"` and `\` escaped, control characters as `\u00XX`.
    static func jsonString(_ s: String) -> String {
        var out = "\""
        out.reserveCapacity(s.utf8.count + 2)
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 || u.value == 0x2028 || u.value == 0x2029 {
                    out += String(format: "\\u%04x", u.value)
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}

extension String {
    func ifEmpty(_ other: String) -> String { isEmpty ? other : self }
}
