import Crypto
import Foundation

/// Evidence read whole rather than line by line: Windows event logs (libevtx) and collected files
/// (YARA). A change to such a file re-reads it whole; an unchanged one still costs one `stat`.
extension FileCursor {
    /// Reads the file as an event log when it carries the EVTX signature. Called before text
    /// format detection. Returns true when the file was handled here.
    func readIfEventLog(path filePath: String, engine: RuleEngine) -> Bool {
        guard EvtxFile.hasSignature(headBytes) else {
            // A file that was read whole before and changed into something else starts afresh.
            if status.format == .windowsEvtx || status.format == .collectedFile || wholeFileNote {
                let head = headBytes
                reset()
                headBytes = head
                status.contentHits = nil
                wholeFileNote = false
            }
            return false
        }
        let head = headBytes
        reset()
        headBytes = head
        status.contentHits = nil
        wholeFileNote = true
        hashWholeFile(filePath)
        var parser = EvtxEventParser()
        var recognised = false
        var applicationLog = false
        let summary = EvtxFile.forEachRecord(path: filePath) { record in
            if !recognised { status.format = .windowsEvtx; recognised = true }
            guard let log = parser.parse(record.xml, line: record.position) else { return }
            if !applicationLog, log.value("Channel")?.caseInsensitiveCompare("Application") == .orderedSame { applicationLog = true }
            status.records += 1
            if let t = log.time {
                recordDays.insert(Self.day(t))
                if status.firstEvent.map({ t < $0 }) ?? true { status.firstEvent = t }
                if status.lastEvent.map({ t > $0 }) ?? true { status.lastEvent = t }
            }
            for indicator in engine.match(log, format: .windowsEvtx) {
                let value = log.value(indicator.field) ?? ""
                hits.append(Hit(indicator: indicator, server: server, evidence: path, line: record.position, time: log.time,
                                field: log.displayName(indicator.field), value: String(value.prefix(65_536)),
                                clientIP: nil, rawLine: String(log.raw.prefix(65_536))))
            }
        }
        var warnings = summary.warnings
        if summary.records == 0 {
            status.format = nil
            unrecognisedReason = summary.opened
                ? "Windows event log with no event records that could be read; not checked"
                : "EVTX signature, but " + (summary.warnings.first ?? "unreadable") + "; not checked"
            warnings = summary.opened ? [unrecognisedReason!] + summary.warnings : [unrecognisedReason!]
        } else {
            unrecognisedReason = nil
            warnings += parser.warnings
        }
        lineCount = summary.records
        finishWholeFile(warnings: warnings)
        // CVE-2021-26857 leaves its trace in the Application log: other channels (Security,
        // Sysmon) give hits but no coverage for that check.
        status.givesCoverage = applicationLog
        return true
    }

    /// Scans a file that is not a recognised log format with the YARA rules. Called after text
    /// format detection failed. Returns true when the file was handled here.
    func scanIfCollectedFile(path filePath: String) -> Bool {
        // Empty files stay "not checked": there is nothing to scan.
        guard parser == nil, !headBytes.isEmpty, let rules = contentRules?.rules else { return false }
        let reason = unrecognisedReason
        let head = headBytes
        reset()
        headBytes = head
        status.contentHits = nil
        wholeFileNote = true
        hashWholeFile(filePath)
        status.format = .collectedFile
        unrecognisedReason = nil
        contentRulesSignature = contentRules?.signature
        var warnings: [String] = []
        let notLog = reason.map { "not a known log format (\($0.replacingOccurrences(of: "; not checked", with: "")))" } ?? "not a known log format"
        guard hashedUpTo <= Self.maxYaraBytes else {
            status.format = nil
            unrecognisedReason = "\(notLog); larger than \(Self.maxYaraBytes / 1_048_576) MiB, not scanned with YARA; not checked"
            finishWholeFile(warnings: [unrecognisedReason!])
            return true
        }
        switch Yara.scan(rules, path: filePath) {
        case let .success(matches):
            hits += contentHits(matches, filePath: filePath)
            status.contentHits = matches.count
            // Scanned as expected: the format label says so. A file named like a log whose
            // content no log format matched (a cut or garbled header, a log type not read here)
            // says so, or it would pass for a log that was read.
            if LogNaming.looksLikeLog(path) { warnings.append(LogNaming.unrecognisedLogWarning) }
        case let .failure(failure):
            status.format = nil
            unrecognisedReason = "\(notLog); the YARA scan failed (\(failure)); not checked"
            warnings.append(unrecognisedReason!)
        }
        finishWholeFile(warnings: warnings)
        return true
    }

    /// The hits of YARA matches in this file, earliest match first, each with its line.
    private func contentHits(_ matches: [YaraMatch], filePath: String) -> [Hit] {
        matches.sorted(by: { ($0.offset ?? -1, $0.rule) < ($1.offset ?? -1, $1.rule) }).map { match in
            let (line, text) = Self.lineAt(offset: match.offset, in: filePath)
            let matched = String(decoding: match.matched.filter { $0 != 0 }, as: UTF8.self)
            return Hit(indicator: ContentRules.indicator(for: match), server: server, evidence: path, line: line, time: nil,
                       field: "content", value: matched.isEmpty ? match.rule : matched, clientIP: nil, rawLine: text)
        }
    }

    /// Collected files larger than this are not scanned with YARA (web shells and scripts are small).
    static let maxYaraBytes: Int64 = 256 * 1_048_576

    /// Extensions of files a web server runs or a shell executes (lowercased, without the dot).
    static let scriptExtensions: Set<String> = ["aspx", "ashx", "asmx", "asax", "ascx", "asp", "cshtml", "vbhtml", "config",
                                                "php", "jsp", "jspx", "ps1", "psm1", "bat", "cmd", "vbs"]

    /// Whether a file is named like a page, handler, configuration or script: such a file is
    /// scanned with YARA even when its content also reads as a log or configuration format (a
    /// web shell can open with a `#Fields:` line or a `<configuration>` element to pass for one).
    static func isScriptFile(_ path: String) -> Bool {
        guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/") else { return false }
        return scriptExtensions.contains(path[path.index(after: dot)...].lowercased())
    }

    /// For a file read as a log or configuration that is named like a script (``isScriptFile(_:)``):
    /// scans the whole file with the YARA rules too, replacing the hits of any earlier scan.
    /// - Returns: a warning when the file could not be scanned, else nil.
    /// - Parameter size: the file's size in bytes, as just read by `stat`.
    func scanScriptContent(path filePath: String, size: Int64) -> String? {
        scriptHits = []
        guard Self.isScriptFile(path), let rules = contentRules?.rules else { return nil }
        guard size <= Self.maxYaraBytes else {
            return "named like a script but larger than \(Self.maxYaraBytes / 1_048_576) MiB: not scanned with YARA"
        }
        switch Yara.scan(rules, path: filePath) {
        case let .success(matches):
            scriptHits = contentHits(matches, filePath: filePath)
            return nil
        case let .failure(failure):
            return "named like a script, but the YARA scan failed (\(failure))"
        }
    }

    private func hashWholeFile(_ filePath: String) {
        hasher = SHA256()
        var total: Int64 = 0
        if let handle = FileHandle(forReadingAtPath: filePath) {
            defer { try? handle.close() }
            while let data = try? handle.read(upToCount: EvidenceScanner.chunkSize), !data.isEmpty {
                hasher.update(data: data)
                total += Int64(data.count)
            }
        }
        hashedUpTo = total
        offset = total
        status.sha256 = SHA256Hex.hex(hasher.finalize())
    }

    private func finishWholeFile(warnings: [String]) {
        status.lines = lineCount
        status.recordDays = Self.runs(recordDays)
        status.warnings = warnings
    }

    /// The 1-based line holding byte `offset` and that line's text (at most 64 KiB around the
    /// match); line 1 and an empty text when there is no offset.
    static func lineAt(offset: Int64?, in filePath: String) -> (Int, String) {
        guard let offset, offset >= 0, let handle = FileHandle(forReadingAtPath: filePath) else { return (1, "") }
        defer { try? handle.close() }
        var line = 1
        var position: Int64 = 0
        var lineStart: Int64 = 0
        while position < offset, let data = try? handle.read(upToCount: min(EvidenceScanner.chunkSize, Int(offset - position))), !data.isEmpty {
            for (i, byte) in data.enumerated() where byte == 0x0A {
                line += 1
                lineStart = position + Int64(i) + 1
            }
            position += Int64(data.count)
        }
        let from = max(lineStart, offset - 32_768)
        try? handle.seek(toOffset: UInt64(from))
        let chunk = (try? handle.read(upToCount: 65_536)) ?? Data()
        var bytes = [UInt8](chunk)
        if let end = bytes[Int(min(Int64(bytes.count), offset - from))...].firstIndex(where: { $0 == 0x0A || $0 == 0x0D }) {
            bytes = Array(bytes[..<end])
        }
        return (line, String(decoding: bytes, as: UTF8.self))
    }
}

extension FileCursor {
    /// Records the size and time a whole-file read saw, so an unchanged file is not read again.
    func noteWholeFileRead(size: Int64, modified: Date) {
        lastSize = size
        lastModified = modified
        status.sizeBytes = size
        status.modified = modified
    }
}

extension EvidenceScanner {
    /// Reloads the case's YARA rules when a file under `CASE/rules/` was added, removed or changed,
    /// and makes collected files be scanned again with them.
    /// - Returns: one skipped entry per rule file that could not be used, its warning giving
    ///   file, line and libyara's message.
    func refreshContentRules(_ caseFolder: URL) -> [FileStatus] {
        let signature = ContentRules.currentSignature(caseFolder: caseFolder, imported: engine.importedContentRules)
        if signature != contentRules.signature {
            setContentRules(ContentRules.load(caseFolder: caseFolder, imported: engine.importedContentRules))
        }
        var byFile: [String: [YaraRuleError]] = [:]
        for e in contentRules.errors { byFile[e.file, default: []].append(e) }
        return byFile.keys.sorted().map { file in
            FileStatus(path: file, server: "", format: nil, encoding: nil, sizeBytes: 0, sha256: "",
                       modified: Date(timeIntervalSince1970: 0), lines: 0, records: 0,
                       warnings: byFile[file, default: []].map { "YARA rule file not used: \($0)" } + ["the other rules still apply"],
                       skipped: true)
        }
    }
}

extension EvidenceScanner {
    /// Uses new YARA rules; collected files (and files no format recognised) are scanned again
    /// at the next pass.
    func setContentRules(_ rules: ContentRules) {
        contentRules = rules
        for cursor in cursors.values where cursor.status.format == .collectedFile || cursor.unrecognisedReason != nil
            || FileCursor.isScriptFile(cursor.path) {
            cursor.lastSize = -1
        }
        version += 1
    }
}

/// Whether an evidence file looks like a log by its name alone. Formats are recognised by
/// content only; the name is used for nothing but a warning on a file that looks like a log yet
/// was read as a collected file.
public enum LogNaming {
    /// The warning a log-like file read as a collected file carries.
    public static let unrecognisedLogWarning = "format not recognised: read as a collected file (content signatures only)"

    /// Folder names Exchange and IIS write logs under (compared case-insensitively): Exchange's
    /// `Logging\` tree (HttpProxy, ECP, OABGeneratorLog, …), the transport `Logs\` and
    /// `MessageTracking\` folders, IIS's `LogFiles\` and its per-site `W3SVC<n>\` folders.
    static let logFolders: Set<String> = ["logging", "logs", "logfiles", "messagetracking", "oabgeneratorlog"]

    /// True for a file whose extension is `.log` (any case), or that lies, below its server
    /// folder, under a folder named like an Exchange or IIS log folder (see ``logFolders``).
    /// - Parameter path: the file's path relative to the case folder (`evidence/<server>/…`), or
    ///   an absolute path for evidence registered by reference (then only its extension counts).
    public static func looksLikeLog(_ path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map { $0.lowercased() }
        guard let name = parts.last else { return false }
        if name.hasSuffix(".log") { return true }
        // Folders between `evidence/<server>/` and the file; none for a reference.
        guard !path.hasPrefix("/"), parts.count > 3, parts[0] == "evidence" else { return false }
        return parts[2..<(parts.count - 1)].contains { folder in
            logFolders.contains(folder) || (folder.hasPrefix("w3svc") && folder.dropFirst(5).allSatisfy(\.isNumber))
        }
    }
}
