import Foundation

/// Errors of imported indicator packs kept with a case.
public enum IndicatorPackStoreError: Error, Equatable, CustomStringConvertible {
    /// A stored pack file does not load: file, line, column, message. The pack is the user's
    /// file and is never rewritten; it can be disabled.
    case malformed(file: String, line: Int, column: Int, message: String)
    /// The same source bytes were imported before.
    case alreadyImported(id: String, at: Date)
    /// No pack with that id in the case.
    case unknownPack(String)
    /// The source file cannot be read.
    case unreadable(file: String, message: String)

    public var description: String {
        switch self {
        case let .malformed(file, line, column, message):
            "\(file):\(line):\(column): \(message) (to open the case without it: incident indicators disable CASE \(URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent))"
        case let .alreadyImported(id, at): "this file was already imported as pack \"\(id)\" on \(Timestamps.iso8601(at))"
        case let .unknownPack(id): "no imported indicator pack \"\(id)\" in this case (see `incident indicators packs CASE`)"
        case let .unreadable(file, message): "\(file): \(message)"
        }
    }
}

/// Imported indicator packs stored with a case: each pack in `CASE/indicators/<id>.json`
/// (mode 0600, written once, never rewritten), its record and enabled flag in `case.json`.
public enum IndicatorPackStore {
    /// Largest indicator file read, in bytes (512 MiB).
    public static let maxSourceBytes = 512 * 1024 * 1024

    /// Where a pack is stored.
    public static func url(of record: IndicatorPackRecord, in folder: URL) -> URL {
        folder.appendingPathComponent(record.file)
    }

    /// Reads a stored pack.
    /// - Throws: ``IndicatorPackStoreError/malformed(file:line:column:message:)`` with the position.
    public static func load(_ record: IndicatorPackRecord, in folder: URL) throws -> ImportedPack {
        try load(url(of: record, in: folder))
    }

    /// Reads a stored pack file.
    /// - Throws: ``IndicatorPackStoreError/malformed(file:line:column:message:)`` with the position.
    static func load(_ url: URL) throws -> ImportedPack {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw IndicatorPackStoreError.malformed(file: url.path, line: 1, column: 1, message: "cannot read: \(error.localizedDescription)")
        }
        do {
            return try JSONCoding.decoder().decode(ImportedPack.self, from: data)
        } catch {
            let locator = JSONLocator([UInt8](data))
            if let (pos, message) = locator.firstSyntaxError() {
                throw IndicatorPackStoreError.malformed(file: url.path, line: pos.line, column: pos.column, message: message)
            }
            guard let decoding = error as? DecodingError else {
                throw IndicatorPackStoreError.malformed(file: url.path, line: 1, column: 1, message: "\(error)")
            }
            let (codingPath, message) = CaseStore.describe(decoding)
            let pos = locator.position(of: codingPath.map { $0.intValue.map(JSONLocator.Step.index) ?? .key($0.stringValue) })
            throw IndicatorPackStoreError.malformed(file: url.path, line: pos.line, column: pos.column, message: message)
        }
    }

    /// The enabled packs of a case, compiled for the rule engine.
    /// - Throws: ``IndicatorPackStoreError/malformed(file:line:column:message:)``.
    public static func enabledPacks(in folder: URL, caseFile: CaseFile) throws -> [ImportedPack] {
        try (caseFile.indicatorPacks ?? []).filter(\.enabled).map { try load($0, in: folder) }
    }

    /// A short id from a name: lowercase ASCII letters and digits joined by `-`, at most 24
    /// characters, made unique among `taken` with `-2`, `-3`, ….
    public static func makeID(_ name: String, taken: Set<String>) -> String {
        var out = ""
        for ch in name.lowercased().unicodeScalars {
            if (ch >= "a" && ch <= "z") || (ch >= "0" && ch <= "9") { out.unicodeScalars.append(ch) }
            else if !out.isEmpty && !out.hasSuffix("-") { out.append("-") }
        }
        while out.hasSuffix("-") { out.removeLast() }
        if out.isEmpty { out = "pack" }
        out = String(out.prefix(24))
        while out.hasSuffix("-") { out.removeLast() }
        var candidate = out
        var n = 2
        while taken.contains(candidate) { candidate = "\(out)-\(n)"; n += 1 }
        return candidate
    }

    /// Imports an indicator file into a case: parses it, writes the pack, records it (enabled)
    /// and appends an `indicators.imported` audit entry, all under the case lock.
    /// - Parameters:
    ///   - source: the indicator file (read only).
    ///   - format: forces a format; detected from content when nil.
    ///   - name: the pack's name; the file name when nil.
    /// - Returns: the stored pack (with the lines that were skipped in `problems`).
    /// - Throws: ``IndicatorImportError`` (unrecognised, malformed, empty),
    ///   ``IndicatorPackStoreError`` (unreadable, already imported), ``CaseStoreError``.
    public static func importFile(_ source: URL, into store: CaseStore, format: IndicatorSourceFormat? = nil, name: String? = nil,
                                  responder: String, now: Date = Date()) throws -> ImportedPack {
        let data = try readSource(source)
        let fileName = source.lastPathComponent
        guard let format = format ?? IndicatorImporter.detect(data) else { throw IndicatorImportError.unrecognised(file: source.path) }
        let parsed = try IndicatorImporter.parse(data, format: format, fileName: source.path)
        let digest = SHA256Hex.digest([UInt8](data))
        return try store.withLock {
            var caseFile = try store.loadCurrent()
            var records = caseFile.indicatorPacks ?? []
            if let existing = records.first(where: { $0.sourceSHA256 == digest }) {
                throw IndicatorPackStoreError.alreadyImported(id: existing.id, at: existing.importedAt)
            }
            let packName = name ?? parsed.suggestedName ?? fileName
            let folder = store.folder.appendingPathComponent("indicators")
            var taken = Set(records.map(\.id))
            if let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) {
                for n in names where n.hasSuffix(".json") { taken.insert(String(n.dropLast(5))) }
            }
            let id = makeID(name ?? (fileName as NSString).deletingPathExtension, taken: taken)
            let pack = ImportedPack(id: id, name: packName, format: format, sourceFile: fileName, sourceSHA256: digest,
                                    sourceSizeBytes: Int64(data.count), importedAt: now, importedBy: responder,
                                    iocs: parsed.iocs, problems: parsed.problems)
            do {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw CaseStoreError.io(path: folder.path, message: "cannot create: \(error.localizedDescription)")
            }
            let record = IndicatorPackRecord(id: id, name: packName, file: "indicators/\(id).json", format: format, sourceSHA256: digest,
                                             importedAt: now, importedBy: responder, indicatorCount: pack.iocs.count)
            let encoded = try JSONCoding.encoder().encode(pack)
            try AtomicFile.write(encoded + Data("\n".utf8), to: url(of: record, in: store.folder))
            records.append(record)
            caseFile.indicatorPacks = records
            caseFile.audit.append(AuditEntry(at: now, by: responder, action: "indicators.imported", field: id,
                                             after: "\(pack.iocs.count) indicator(s) from \(fileName) (\(format.rawValue), sha256 \(digest))"
                                                + (parsed.problems.isEmpty ? "" : "; \(parsed.problems.count) skipped")))
            try store.save(caseFile)
            return pack
        }
    }

    /// Enables or disables an imported pack (audited as `indicators.enabled` / `indicators.disabled`).
    /// - Returns: false when it already was in that state (nothing written).
    /// - Throws: ``IndicatorPackStoreError/unknownPack(_:)``, ``CaseStoreError``.
    @discardableResult
    public static func setEnabled(_ id: String, _ enabled: Bool, in store: CaseStore, responder: String, now: Date = Date()) throws -> Bool {
        try store.withLock {
            var caseFile = try store.loadCurrent()
            guard var records = caseFile.indicatorPacks, let i = records.firstIndex(where: { $0.id == id }) else {
                throw IndicatorPackStoreError.unknownPack(id)
            }
            if records[i].enabled == enabled { return false }
            records[i].enabled = enabled
            caseFile.indicatorPacks = records
            caseFile.audit.append(AuditEntry(at: now, by: responder, action: enabled ? "indicators.enabled" : "indicators.disabled",
                                             field: id, before: enabled ? "disabled" : "enabled", after: enabled ? "enabled" : "disabled"))
            try store.save(caseFile)
            return true
        }
    }

    /// Reads an indicator file, refusing anything larger than ``maxSourceBytes``.
    static func readSource(_ url: URL) throws -> Data {
        var st = stat()
        guard stat(url.path, &st) == 0 else {
            throw IndicatorPackStoreError.unreadable(file: url.path, message: String(cString: strerror(errno)))
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw IndicatorPackStoreError.unreadable(file: url.path, message: "not a regular file") }
        guard st.st_size <= maxSourceBytes else {
            throw IndicatorPackStoreError.unreadable(file: url.path, message: "larger than \(maxSourceBytes / 1024 / 1024) MiB")
        }
        do { return try Data(contentsOf: url) } catch {
            throw IndicatorPackStoreError.unreadable(file: url.path, message: error.localizedDescription)
        }
    }
}

extension RuleEngine {
    /// The engine for a case: the built-in pack plus the case's enabled imported packs.
    /// - Throws: ``IndicatorPackStoreError/malformed(file:line:column:message:)`` for a broken
    ///   stored pack, ``IndicatorPackError`` if the merged pack does not compile.
    public static func forCase(folder: URL, caseFile: CaseFile) throws -> RuleEngine {
        let packs = try IndicatorPackStore.enabledPacks(in: folder, caseFile: caseFile)
        if packs.isEmpty { return try builtIn() }
        let merged = ImportedPackCompiler.merge(try BuiltInData.indicatorPack(), with: packs.map(ImportedPackCompiler.compile))
        var engine = try RuleEngine(pack: merged)
        engine.importedContentRules = ContentRuleSource.from(packs)
        return engine
    }
}
