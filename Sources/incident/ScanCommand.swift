import ArgumentParser
import Foundation
import IncidentCore
import TerminalCore

extension Severity: ExpressibleByArgument {}

struct ScanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Scan a case's evidence once, update the case file, and print the findings.",
        discussion: """
        Exit codes: 0 when no hit at or above --fail-on (default high) was found and all evidence was read; 1 when such a hit was found; 2 on error, or when nothing at or above --fail-on was found but registered evidence is missing, items under evidence/ could not be read (results incomplete), or evidence was altered after intake. Hits triaged as false positives do not count.

        JSON output: one object with "case", "caseId", "scannedAt"; "hits" (each: id, indicator, severity, stage, cve, server, evidence, line, time, field, value, clientIp, alteredEvidence: true when the hit comes from a file altered after intake); "servers" (name, verdict, hits, evidenceFiles, checkedFiles, stepsDone, stepsApplicable, patchState, patchReason, compromiseState, compromiseReason, done, exposureWindowStart); "files" (path, server, format, sizeBytes, sha256, lines, records, warnings, skipped, altered: null or {detectedAt, sizeBytes, sha256, reason}); "missingEvidence" (registered files no longer in the evidence folder); and "evidenceWarnings" (path, server, warning: e.g. two server folders whose names differ only in letter case, read as one server).

        Examples:
          incident scan ./case-2021-03
          incident scan ./case-2021-03 --format json --fail-on critical
        """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case json, text
    }

    @Argument(help: "The case folder, or its case.json.")
    var casePath: String

    @Option(help: "Output format: json or text.")
    var format: Format = .text

    @Option(help: "Lowest severity that makes the exit code 1: critical, high, medium, low, info.")
    var failOn: Severity = .high

    @Flag(help: "Write nothing to the case: no evidence registration, no lock file (results are shown only).")
    var readOnly = false

    func run() throws {
        let (store, caseFile, engine, playbook) = CaseLoader.load(casePath, writes: !readOnly)
        let session = CaseSession(store: store, caseFile: caseFile, engine: engine, playbook: playbook, readOnly: readOnly)
        let snapshot = session.scanOnce()
        if let error = snapshot.saveError { fail("scan ran but the case could not be saved: \(error)") }
        let counted = snapshot.hits.filter { Verdicts.counts($0, in: snapshot.caseFile) }.sorted(by: Hit.displayOrder)
        switch format {
        case .json: printJSON(snapshot, hits: counted)
        case .text: printText(snapshot, hits: counted)
        }
        if counted.contains(where: { $0.severity >= failOn }) { throw ExitCode(1) }
        // Nothing alarming found, but not everything was read: never report that as clean.
        let skipped = snapshot.statuses.filter(\.skipped).count
        let missing = snapshot.missingEvidence.count
        if skipped > 0 || missing > 0 {
            FileHandle.standardError.write(Data("incident: results incomplete: \(missing) registered evidence file(s) missing, \(skipped) item(s) in evidence/ not read (see the warnings)\n".utf8))
            throw ExitCode(2)
        }
        // Evidence that changed after intake no longer stands up: never report that as clean.
        let altered = snapshot.alteredEvidence.count
        if altered > 0 {
            FileHandle.standardError.write(Data("incident: \(altered) evidence file(s) altered after intake (see ALTERED)\n".utf8))
            throw ExitCode(2)
        }
    }

    private func printJSON(_ snapshot: CaseSnapshot, hits: [Hit]) {
        func iso(_ d: Date?) -> Any { d.map(Timestamps.iso8601) ?? NSNull() }
        let altered = alterations(snapshot)
        let object: [String: Any] = [
            "case": snapshot.caseFile.name,
            "caseId": snapshot.caseFile.caseId,
            "scannedAt": iso(snapshot.lastScan),
            "hits": hits.map { h -> [String: Any] in
                ["id": h.id, "indicator": h.indicator, "severity": h.severity.rawValue, "stage": h.stage.rawValue,
                 "cve": h.cve ?? NSNull(), "server": h.server, "evidence": h.evidence, "line": h.line,
                 "time": iso(h.time), "field": h.field, "value": h.value, "clientIp": h.clientIP ?? NSNull(),
                 "alteredEvidence": altered[h.evidence] != nil]
            },
            "servers": snapshot.summaries.map { s -> [String: Any] in
                ["name": s.name, "verdict": s.verdict.rawValue, "hits": s.hits,
                 "evidenceFiles": s.evidenceFiles, "checkedFiles": s.checkedFiles,
                 "stepsDone": s.stepsDone, "stepsApplicable": s.stepsApplicable,
                 "coverage": s.coverage.map { c -> [String: Any] in
                     ["check": c.check.rawValue, "title": c.check.title, "status": c.status.rawValue, "required": c.required,
                      "evidence": c.evidence, "from": iso(c.from), "to": iso(c.to), "hits": c.hits, "reason": c.reason]
                 },
                 "chain": s.chain.map { l -> [String: Any] in
                     ["stage": l.stage.rawValue, "hits": l.hits, "firstSeen": iso(l.firstSeen), "lastSeen": iso(l.lastSeen),
                      "clientIps": l.clientIPs, "indicators": l.indicators, "cves": l.cves]
                 },
                 "afterExposureEnd": s.afterExposureEnd.map { a -> Any in
                     ["windowEnd": Timestamps.iso8601(a.windowEnd), "hits": a.hits, "firstSeen": Timestamps.iso8601(a.firstSeen),
                      "lastSeen": Timestamps.iso8601(a.lastSeen), "stages": a.stages.map(\.rawValue)] as [String: Any]
                 } ?? NSNull(),
                 "patchState": s.patchState.rawValue, "patchReason": s.patchReason,
                 "compromiseState": s.compromiseState.rawValue, "compromiseReason": s.compromiseReason,
                 "done": s.isDone, "exposureWindowStart": exposureStart(s.name, snapshot.caseFile)]
            },
            "files": snapshot.statuses.map { f -> [String: Any] in
                ["path": f.path, "server": f.server, "format": f.format?.rawValue ?? NSNull(), "sizeBytes": f.sizeBytes,
                 "sha256": f.sha256, "lines": f.lines, "records": f.records, "warnings": f.warnings, "skipped": f.skipped,
                 "altered": altered[f.path].map { a -> Any in
                     ["detectedAt": Timestamps.iso8601(a.detectedAt), "sizeBytes": a.sizeBytes, "sha256": a.sha256, "reason": a.reason]
                 } ?? NSNull()]
            },
            "missingEvidence": snapshot.missingEvidence.map { e -> [String: Any] in
                ["path": e.path, "server": e.server, "sha256": e.sha256, "sizeBytes": e.sizeBytes]
            },
            "evidenceWarnings": snapshot.evidenceNotices.map { n -> [String: Any] in
                ["path": n.relativePath, "server": n.server, "warning": n.message]
            },
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data()
        FileHandle.standardOutput.write(data)
        FileHandle.standardOutput.write(Data("\n".utf8))
    }

    /// The server's exposure-window start (ISO-8601 UTC), or null for a server not yet in the case.
    private func exposureStart(_ name: String, _ caseFile: CaseFile) -> Any {
        guard let server = caseFile.server(named: name) else { return NSNull() }
        return Timestamps.iso8601(Remediation.exposureWindowStart(for: server, in: caseFile))
    }

    private func printText(_ snapshot: CaseSnapshot, hits: [Hit]) {
        // Evidence text is attacker-controlled: escape control characters before printing.
        func safe(_ s: String) -> String { TextSafety.escape(s) }
        print("case: \(safe(snapshot.caseFile.name))")
        for s in snapshot.summaries {
            print("server \(safe(s.name)): \(s.verdict.rawValue), \(s.hits) hit(s), \(s.checkedFiles)/\(s.evidenceFiles) evidence file(s) checked, checklist \(s.stepsDone)/\(s.stepsApplicable)")
            print("server \(safe(s.name)): patch \(s.patchState.rawValue) (\(safe(s.patchReason))), compromise \(s.compromiseState.rawValue) (\(safe(s.compromiseReason))), \(s.isDone ? "done" : "not done")")
            if let late = s.afterExposureEnd { print("server \(safe(s.name)): \(late.summary)") }
            for link in s.chain {
                let first = link.firstSeen.map(Timestamps.iso8601) ?? "-", last = link.lastSeen.map(Timestamps.iso8601) ?? "-"
                print("  chain \(link.stage.rawValue): \(link.hits) hit(s) \(link.indicators.joined(separator: ",")) \(first) .. \(last) clients: \(safe(link.clientIPs.isEmpty ? "-" : link.clientIPs.joined(separator: ",")))")
            }
            for c in s.coverage {
                let range = c.from.map { "\(Timestamps.iso8601($0)) .. \(c.to.map(Timestamps.iso8601) ?? "-")" } ?? "-"
                print("  check \(c.check.rawValue)\(c.required ? "" : " (optional)"): \(c.status.rawValue), \(c.evidence.count) file(s), \(range): \(safe(c.reason))")
            }
        }
        for n in snapshot.evidenceNotices {
            print("warning: \(safe(n.relativePath)): \(safe(n.message))")
        }
        for f in snapshot.statuses where !f.warnings.isEmpty {
            print("warning: \(safe(f.path)): \(safe(f.warnings.joined(separator: "; ")))")
        }
        let altered = alterations(snapshot)
        for (path, a) in altered.sorted(by: { $0.key < $1.key }) {
            print("ALTERED: \(safe(path)): changed after intake (\(safe(a.reason))); now \(a.sizeBytes) bytes sha256 \(a.sha256); its hits come from altered evidence")
        }
        for e in snapshot.missingEvidence {
            print("warning: \(safe(e.path)): registered as evidence (\(e.sizeBytes) bytes, sha256 \(e.sha256)) but no longer in the evidence folder")
        }
        for h in hits {
            let time = h.time.map(Timestamps.iso8601) ?? "-"
            print("\(altered[h.evidence] != nil ? "[altered evidence] " : "")\(h.severity.rawValue.uppercased()) \(h.indicator) \(safe(h.server)) \(time) \(safe(h.evidence)):\(h.line) \(safe(h.field))=\(safe(String(h.value.prefix(200))))")
        }
        print("\(hits.count) hit(s)")
    }
}

/// Alterations of evidence files by path.
private func alterations(_ snapshot: CaseSnapshot) -> [String: EvidenceAlteration] {
    Dictionary(snapshot.caseFile.evidence.compactMap { e in e.altered.map { (e.path, $0) } }, uniquingKeysWith: { a, _ in a })
}

/// Escaping for plain-text output of untrusted strings (no terminal control reaches stdout).
enum TextSafety {
    /// Controls and invisible characters become `\u{1B}`-style escapes; the rest is kept.
    static func escape(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            if Sanitizer.needsEscape(scalar) {
                out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
