import ArgumentParser
import Foundation
import IncidentCore
import TerminalCore

extension IndicatorSourceFormat: ExpressibleByArgument {}

/// `incident indicators …`: the indicator catalog and imported packs.
struct IndicatorsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "indicators",
        abstract: "Import, list, enable, disable and export indicator packs.",
        subcommands: [IndicatorsListCommand.self, IndicatorsImportCommand.self, IndicatorsPacksCommand.self, IndicatorsEnableCommand.self,
                      IndicatorsDisableCommand.self, IndicatorsExportCommand.self]
    )
}

struct IndicatorsImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import an indicator file into a case as a pack (enabled at once).",
        discussion: """
        The format is detected from the content: STIX 2.1 bundle, MISP event JSON, Microsoft MSTIC feed CSV, CISA CHIRP YAML, signature-base filename-iocs / hash-iocs / c2-iocs, CSV with a value column, or a plain list (one hash, IP address, domain, URL or path per line). --format forces one of: \(IndicatorSourceFormat.allCases.map(\.rawValue).joined(separator: ", ")).

        The pack is stored as CASE/indicators/<id>.json with the source's name, SHA-256 and import time; hits it drives name it (indicator ids start with the pack id). Lines that cannot be used are reported with their line numbers and skipped; the rest is imported. The same file cannot be imported twice. Consoles already open use the pack after they are reopened.

        Exit codes: 0 imported (also when some lines were skipped); 2 nothing imported (unknown format, malformed file, no usable indicator, already imported) or the case could not be written.

        Examples:
          incident indicators import ./case MSTICIoCs-ExchangeServerVulnerabilitiesDisclosedMarch2021.csv
          incident indicators import ./case AA21062A.yaml --name "CISA AA21-062A"
          incident indicators import ./case iocs.txt --format text
        """
    )

    @Argument(help: "The case folder, or its case.json.")
    var casePath: String

    @Argument(help: "The indicator file.")
    var file: String

    @Option(help: "Force the format instead of detecting it.")
    var format: IndicatorSourceFormat?

    @Option(help: "Name of the pack (default: the source's own name or the file name).")
    var name: String?

    @Flag(help: "Print every skipped line, not just the first 20.")
    var verbose = false

    func run() throws {
        let store = CaseStore(path: casePath)
        _ = CaseOpening.load(store, writes: true, interactive: false)
        let pack: ImportedPack
        do {
            pack = try IndicatorPackStore.importFile(URL(fileURLWithPath: file), into: store, format: format, name: name,
                                                     responder: Responder.current())
        } catch {
            fail("\(error)")
        }
        let counts = pack.countsByType.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key.rawValue)" }.joined(separator: ", ")
        print("imported pack \"\(TextSafety.escape(pack.id))\" (\(pack.format.rawValue)): \(pack.iocs.count) indicator(s): \(counts)")
        if pack.iocs.contains(where: { $0.type == .yaraRule }) {
            print("note: YARA rules for file contents are stored with the pack but not matched on log or inventory records")
        }
        if !pack.problems.isEmpty {
            print("skipped \(pack.problems.count) line(s) or object(s):")
            for p in pack.problems.prefix(verbose ? Int.max : 20) { print("  \(TextSafety.escape(p.description))") }
            if !verbose && pack.problems.count > 20 { print("  … \(pack.problems.count - 20) more (--verbose shows all)") }
        }
    }
}

struct IndicatorsPacksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "packs",
        abstract: "List the indicator packs imported into a case.",
        discussion: """
        Exit codes: 0 success; 2 error (a case that cannot be read).

        Example:
          incident indicators packs ./case
        """
    )

    @Argument(help: "The case folder, or its case.json.")
    var casePath: String

    func run() throws {
        let store = CaseStore(path: casePath)
        let caseFile: CaseFile
        caseFile = CaseOpening.load(store, writes: false, interactive: false)
        let packs = caseFile.indicatorPacks ?? []
        if packs.isEmpty {
            print("no imported packs (only the built-in indicators are used); import one with: incident indicators import CASE FILE")
            return
        }
        for p in packs {
            let state = p.enabled ? "enabled " : "disabled"
            print("\(state)  \(TextSafety.escape(p.id))  \(p.indicatorCount) indicator(s)  \(p.format.rawValue)  imported \(Timestamps.iso8601(p.importedAt)) by \(TextSafety.escape(p.importedBy))  \"\(TextSafety.escape(p.name))\"  sha256 \(p.sourceSHA256)")
        }
    }
}

struct IndicatorsEnableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "enable", abstract: "Use an imported pack again.",
                                                    discussion: "Exit codes: 0 enabled (or already enabled); 2 error (no such pack, a case that cannot be written).\n\nExample:\n  incident indicators enable ./case mstic")
    @Argument(help: "The case folder, or its case.json.") var casePath: String
    @Argument(help: "The pack id (see `incident indicators packs`).") var id: String
    func run() throws { IndicatorsToggle.run(casePath, id, true) }
}

struct IndicatorsDisableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "disable", abstract: "Stop using an imported pack (it is kept).",
                                                    discussion: "Exit codes: 0 disabled (or already disabled); 2 error (no such pack, a case that cannot be written).\n\nExample:\n  incident indicators disable ./case mstic")
    @Argument(help: "The case folder, or its case.json.") var casePath: String
    @Argument(help: "The pack id (see `incident indicators packs`).") var id: String
    func run() throws { IndicatorsToggle.run(casePath, id, false) }
}

enum IndicatorsToggle {
    static func run(_ casePath: String, _ id: String, _ enabled: Bool) {
        let store = CaseStore(path: casePath)
        do {
            let changed = try IndicatorPackStore.setEnabled(id, enabled, in: store, responder: Responder.current())
            print(changed ? "pack \(TextSafety.escape(id)) \(enabled ? "enabled" : "disabled")" : "pack \(TextSafety.escape(id)) was already \(enabled ? "enabled" : "disabled")")
        } catch {
            fail("\(error)")
        }
    }
}

struct IndicatorsExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a case's indicators as STIX 2.1, a MISP event, or this program's JSON.",
        discussion: """
        Exports the indicators of the case's enabled imported packs; --built-in adds the atomic values of the built-in catalog's lists (hashes, addresses, domains, user agents, web-shell file names). STIX and JSON exports import back without loss (`incident indicators import`); MISP has no attribute type for path regexes and log-line strings, which are left out and counted.

        Exit codes: 0 written; 2 error (no indicators to export, a broken pack, an output file that exists).

        Examples:
          incident indicators export ./case --format stix -o case-iocs.stix.json
          incident indicators export ./case --format misp --built-in
        """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case stix, misp, json }

    @Argument(help: "The case folder, or its case.json.")
    var casePath: String

    @Option(help: "stix, misp or json.")
    var format: Format = .stix

    @Flag(help: "Include the built-in catalog's atomic indicators.")
    var builtIn = false

    @Option(name: [.short, .customLong("output")], help: "Write to this file (it must not exist yet) instead of standard output.")
    var output: String?

    func run() throws {
        let store = CaseStore(path: casePath)
        let caseFile: CaseFile
        caseFile = CaseOpening.load(store, writes: false, interactive: false)
        let iocs: [ImportedIOC]
        do { iocs = try IndicatorExporter.caseIndicators(folder: store.folder, caseFile: caseFile, includeBuiltIn: builtIn) } catch { fail("\(error)") }
        if iocs.isEmpty { fail("the case has no imported indicators to export (use --built-in for the built-in catalog's)") }
        let now = Date()
        let data: Data
        do {
            switch format {
            case .stix: data = try IndicatorExporter.stixBundle(iocs, name: caseFile.name, now: now)
            case .json: data = try IndicatorExporter.ownJSON(iocs, name: caseFile.name, now: now)
            case .misp:
                let (d, skipped) = try IndicatorExporter.mispEvent(iocs, info: "Indicators of \(caseFile.name)", now: now)
                data = d
                if skipped > 0 { FileHandle.standardError.write(Data("incident: \(skipped) indicator(s) have no MISP attribute type and were left out\n".utf8)) }
            }
        } catch {
            fail("cannot encode: \(error)")
        }
        ExportOutput.write(data, to: output)
    }
}

/// `incident export`: hits for other tools.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a case's hits as STIX 2.1 sightings, a MISP event, or a Timesketch timeline.",
        discussion: """
        Scans the evidence (read-only: the case file is not changed) and exports the hits that count (not triaged as false positives).
          stix        STIX 2.1 bundle: an identity per server, an indicator per rule that hit, a sighting per rule and server (count, first and last seen, evidence files with SHA-256)
          misp        MISP event: one attribute per distinct value that hit (to_ids false), the comment names rules, servers and evidence lines
          timesketch  JSONL, one hit per line with message, datetime (UTC) and timestamp_desc, ready for Timesketch import

        Exit codes: 0 written; 2 error (a case that cannot be read, an output file that exists).

        Examples:
          incident export ./case --format timesketch -o case-timeline.jsonl
          incident export ./case --format stix -o sightings.json
        """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case stix, misp, timesketch }

    @Argument(help: "The case folder, or its case.json.")
    var casePath: String

    @Option(help: "stix, misp or timesketch.")
    var format: Format = .stix

    @Option(name: [.short, .customLong("output")], help: "Write to this file (it must not exist yet) instead of standard output.")
    var output: String?

    func run() throws {
        let (snapshot, engine, _) = CaseLoader.scanReadOnly(casePath)
        var exported = snapshot.caseFile
        // Evidence not yet registered (read-only scan) still gets its hash from this scan.
        let registered = Set(exported.evidence.map(\.path))
        for s in snapshot.statuses where !s.skipped && !registered.contains(s.path) {
            exported.evidence.append(EvidenceRecord(path: s.path, server: s.server, sizeBytes: s.sizeBytes, sha256: s.sha256,
                                                    addedAt: snapshot.lastScan ?? Date(), addedBy: "not registered"))
        }
        let hits = snapshot.hits.filter { Verdicts.counts($0, in: snapshot.caseFile) }
        let rules = Dictionary(engine.pack.indicators.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let now = Date()
        let data: Data
        do {
            switch format {
            case .stix: data = try IndicatorExporter.stixSightings(hits, caseFile: exported, indicators: rules, now: now)
            case .misp: data = try IndicatorExporter.mispHitsEvent(hits, caseFile: exported, now: now)
            case .timesketch: data = try IndicatorExporter.timesketch(hits, caseFile: exported, indicators: rules)
            }
        } catch {
            fail("cannot encode: \(error)")
        }
        ExportOutput.write(data, to: output)
        FileHandle.standardError.write(Data("incident: exported \(hits.count) hit(s)\n".utf8))
    }
}

/// Writes an export to standard output or to a new file (never over an existing one).
enum ExportOutput {
    static func write(_ data: Data, to path: String?) {
        guard let path else {
            FileHandle.standardOutput.write(data)
            return
        }
        let url = URL(fileURLWithPath: path)
        if FileManager.default.fileExists(atPath: url.path) { fail("\(url.path): already exists; choose another name (exports never overwrite a file)") }
        do { try AtomicFile.write(data, to: url) } catch { fail("\(error)") }
    }
}
