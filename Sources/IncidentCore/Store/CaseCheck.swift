import Foundation

/// Validation of a case file beyond its JSON shape, for loading and for `incident check`.
public enum CaseCheck {
    /// Longest string value a case file may hold, in bytes of UTF-8 (1 MiB). Notes and audit
    /// values are far shorter; a longer string means a damaged or hostile file.
    public static let maxStringBytes = 1_048_576

    /// One problem, with where it is (a JSON path) and whether the case still loads.
    public struct Problem: Equatable, Sendable {
        public var path: [JSONLocator.Step]
        public var message: String
        /// True when the case does not load because of it; false for a warning.
        public var isError: Bool
    }

    /// A positioned problem, as `incident check` prints it: `file:line:column: error: message`.
    public struct Report: Equatable, Sendable, CustomStringConvertible {
        public var file: String
        public var line: Int
        public var column: Int
        public var message: String
        public var isError: Bool
        public var description: String { "\(file):\(line):\(column): \(isError ? "error" : "warning"): \(message)" }
    }

    /// The first string longer than ``maxStringBytes`` in a raw tree, depth first.
    static func oversizedString(in tree: Any) -> Problem? {
        var path: [JSONLocator.Step] = []
        func walk(_ value: Any) -> Problem? {
            if let s = value as? String {
                let n = s.utf8.count
                if n > maxStringBytes {
                    return Problem(path: path, message: "a string of \(n) bytes is longer than the limit of \(maxStringBytes) bytes", isError: true)
                }
            } else if let o = value as? [String: Any] {
                for key in o.keys.sorted() {
                    if key.utf8.count > maxStringBytes {
                        return Problem(path: path, message: "a key of \(key.utf8.count) bytes is longer than the limit of \(maxStringBytes) bytes", isError: true)
                    }
                    path.append(.key(key))
                    if let p = walk(o[key]!) { return p }
                    path.removeLast()
                }
            } else if let a = value as? [Any] {
                for (i, v) in a.enumerated() {
                    path.append(.index(i))
                    if let p = walk(v) { return p }
                    path.removeLast()
                }
            }
            return nil
        }
        return walk(tree)
    }

    /// Entries that would be ambiguous: two servers with the same name (compared
    /// case-insensitively, as Windows does), two evidence records with the same path, two
    /// triage decisions for one hit at the same moment that disagree. These stop the case loading.
    public static func duplicates(in caseFile: CaseFile) -> [Problem] {
        var out: [Problem] = []
        var names: [String: Int] = [:]
        for (i, s) in caseFile.servers.enumerated() {
            let key = s.name.lowercased()
            if let first = names[key] {
                out.append(Problem(path: [.key("servers"), .index(i), .key("name")],
                                   message: "duplicate server name \"\(s.name)\" (also servers[\(first)])", isError: true))
            } else { names[key] = i }
        }
        var paths: [String: Int] = [:]
        for (i, e) in caseFile.evidence.enumerated() {
            if let first = paths[e.path] {
                out.append(Problem(path: [.key("evidence"), .index(i), .key("path")],
                                   message: "duplicate evidence path \"\(e.path)\" (also evidence[\(first)])", isError: true))
            } else { paths[e.path] = i }
        }
        var decisions: [String: (Int, TriageDecision.Decision)] = [:]
        for (i, t) in caseFile.triage.enumerated() {
            let key = t.hitId + "\u{1}" + Timestamps.iso8601(t.at)
            if let (first, decision) = decisions[key], decision != t.decision {
                out.append(Problem(path: [.key("triage"), .index(i), .key("hitId")],
                                   message: "triage decisions triage[\(first)] and triage[\(i)] for hit \(t.hitId) have the same time but disagree (\(decision.rawValue), \(t.decision.rawValue))", isError: true))
            } else if decisions[key] == nil { decisions[key] = (i, t.decision) }
        }
        return out
    }

    /// Values the case loads with but that are wrong: `settings.rescanIntervalSeconds` of 0 or
    /// less (an error: `incident open` cannot run with it, see ``rescanIntervalProblem(_:)``),
    /// and a server's `exchangeBuild` that is not an Exchange build (`"banana"`, a CU-level
    /// `15.1.2176`) or one the build table does not have (warnings: its patch state is `unknown`).
    public static func values(in caseFile: CaseFile) -> [Problem] {
        var out: [Problem] = []
        if let message = rescanIntervalProblem(caseFile.settings.rescanIntervalSeconds) {
            out.append(Problem(path: [.key("settings"), .key("rescanIntervalSeconds")], message: message, isError: true))
        }
        for (i, server) in caseFile.servers.enumerated() {
            guard let text = server.exchangeBuild else { continue }
            let path: [JSONLocator.Step] = [.key("servers"), .index(i), .key("exchangeBuild")]
            guard let build = ExchangeBuild(parsing: text), build.revision != nil else {
                out.append(Problem(path: path, message: "exchangeBuild \"\(text.prefix(40))\" of server \"\(server.name)\" is not an Exchange build (four numbers such as 15.1.2176.9, from ExSetup.exe): its patch state is unknown", isError: false))
                continue
            }
            if let reason = BuildTable.notInTableReason(build) {
                out.append(Problem(path: path, message: "exchangeBuild of server \"\(server.name)\": \(reason); its patch state is unknown", isError: false))
            }
        }
        return out
    }

    /// Why a rescan interval (seconds) cannot be used, or nil: it must be a finite number more
    /// than 0. `incident open` names the setting with this message when it comes from the case.
    public static func rescanIntervalProblem(_ seconds: Double) -> String? {
        guard seconds.isFinite, seconds > 0 else {
            return "settings.rescanIntervalSeconds is \(formatted(seconds)): the rescan interval must be more than 0 seconds (the default is 2); incident open cannot run with it"
        }
        return nil
    }

    private static func formatted(_ d: Double) -> String {
        d.isFinite && d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : "\(d)"
    }

    /// References that lead nowhere; the case loads, but these are reported by `incident check`:
    /// checklist entries for servers not in `servers` or step ids not in the playbook, evidence
    /// records of unknown servers or outside `evidence/` (other than absolute paths registered by reference).
    public static func danglingReferences(in caseFile: CaseFile, playbook: Playbook) -> [Problem] {
        var out: [Problem] = []
        let stepIds = Set(playbook.steps.map(\.id))
        for server in caseFile.checklists.keys.sorted() {
            if caseFile.server(named: server) == nil {
                out.append(Problem(path: [.key("checklists"), .key(server)], message: "checklist for server \"\(server)\", which is not in \"servers\"", isError: false))
            }
            for step in (caseFile.checklists[server] ?? [:]).keys.sorted() where !stepIds.contains(step) {
                out.append(Problem(path: [.key("checklists"), .key(server), .key(step)], message: "unknown checklist step id \"\(step)\" (not in the playbook)", isError: false))
            }
        }
        for (i, e) in caseFile.evidence.enumerated() {
            if caseFile.server(named: e.server) == nil {
                out.append(Problem(path: [.key("evidence"), .index(i), .key("server")], message: "evidence of server \"\(e.server)\", which is not in \"servers\"", isError: false))
            }
            if e.isReference {
                // Registered by reference: an absolute path outside the case folder, without `..`.
                if e.path.split(separator: "/").contains("..") {
                    out.append(Problem(path: [.key("evidence"), .index(i), .key("path")], message: "evidence reference \"\(e.path)\" contains ..", isError: false))
                }
            } else if !e.path.hasPrefix("evidence/") || e.path.split(separator: "/").contains("..") {
                out.append(Problem(path: [.key("evidence"), .index(i), .key("path")], message: "evidence path \"\(e.path)\" is not under evidence/ (nor an absolute path registered by reference)", isError: false))
            }
            if e.sha256.count != 64 || !e.sha256.allSatisfy(\.isHexDigit) {
                out.append(Problem(path: [.key("evidence"), .index(i), .key("sha256")], message: "sha256 is not 64 hex digits", isError: false))
            }
        }
        return out
    }

    /// Checks a case file's bytes: the problem that stops the parse (invalid UTF-8, syntax,
    /// newer schema, oversized string, wrong type: nothing after it can be checked), or else
    /// every duplicate (errors: the case does not load), every wrong value (``values(in:)``), an
    /// older schema and every dangling reference (warnings), each with line and column.
    public static func check(_ data: Data, file: String, playbook: Playbook) -> [Report] {
        let locator = JSONLocator([UInt8](data))
        func report(_ p: Problem) -> Report {
            let pos = locator.position(of: p.path)
            return Report(file: file, line: pos.line, column: pos.column, message: p.message, isError: p.isError)
        }
        do {
            var tree: [String: Any]?
            let caseFile = try CaseStore.decode(data, path: file, tree: &tree, rejectDuplicates: false)
            var out = duplicates(in: caseFile).map(report) + values(in: caseFile).map(report)
            if let v = CaseSchema.version(of: data), v < CaseFile.currentSchemaVersion {
                out.append(Report(file: file, line: locator.position(of: [.key("schemaVersion")]).line,
                                  column: locator.position(of: [.key("schemaVersion")]).column,
                                  message: "schemaVersion \(v) is older than \(CaseFile.currentSchemaVersion): run incident migrate to upgrade it", isError: false))
            }
            return out + danglingReferences(in: caseFile, playbook: playbook).map(report)
        } catch let CaseStoreError.malformed(_, line, column, message) {
            return [Report(file: file, line: line, column: column, message: message, isError: true)]
        } catch let CaseStoreError.newerSchema(_, found, supported) {
            let pos = locator.position(of: [.key("schemaVersion")])
            return [Report(file: file, line: pos.line, column: pos.column,
                           message: "schemaVersion \(found) is newer than this console supports (\(supported)); upgrade the console", isError: true)]
        } catch let error as CaseStoreError {
            return [Report(file: file, line: 1, column: 1, message: "\(error)", isError: true)]
        } catch {
            return [Report(file: file, line: 1, column: 1, message: "\(error)", isError: true)]
        }
    }
}

// MARK: - Everything a case uses

extension CaseCheck {
    /// Every problem `incident check` can find in one run, for a case folder: the case file
    /// (see ``check(_:file:playbook:)``), then the case's `playbook.json` (every problem past its
    /// JSON shape), then each enabled indicator pack that does not load (every stored pack when
    /// `case.json` is too broken to say which are enabled) and the packs together, then each
    /// case YARA rule file under `rules/` that does not compile. Each report names its file
    /// with line and column; problems in the playbook, packs and rule files are errors, an
    /// imported pack's YARA rule that does not compile a warning (the scan leaves it out).
    /// Reads only; writes nothing.
    /// - Parameters:
    ///   - data: the bytes of `case.json`.
    ///   - store: the case.
    public static func checkCase(_ data: Data, store: CaseStore) -> [Report] {
        let folder = store.folder
        var playbookReports: [Report] = []
        let playbook: Playbook
        do {
            let (checked, problems) = try Playbook.checkCase(folder: folder)
            playbook = checked
            playbookReports = problems.map { report($0, file: folder.appendingPathComponent(Playbook.caseFileName).path) }
        } catch {
            // The built-in playbook always loads (a test keeps it so); say so if it does not.
            return [Report(file: "playbook.json (built in)", line: 1, column: 1, message: "\(error)", isError: true)]
        }
        let caseReports = check(data, file: store.fileURL.path, playbook: playbook)
        return caseReports + playbookReports + packReports(data, store: store) + ruleReports(folder)
    }

    private static func report(_ error: IndicatorPackError, file: String) -> Report {
        if case let .malformed(file, line, column, message) = error {
            return Report(file: file, line: line, column: column, message: message, isError: true)
        }
        return Report(file: file, line: 1, column: 1, message: "\(error)", isError: true)
    }

    /// Stored packs to check: the enabled ones of the case, read leniently from the JSON tree
    /// when the case does not decode; every `indicators/*.json` file when it is not JSON at all.
    private static func packFiles(_ data: Data, folder: URL) -> [(id: String, url: URL)] {
        if let caseFile = try? CaseStore.decode(data, path: "case.json") {
            return (caseFile.indicatorPacks ?? []).filter(\.enabled).map { ($0.id, IndicatorPackStore.url(of: $0, in: folder)) }
        }
        if let tree = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] {
            let records = tree["indicatorPacks"] as? [Any] ?? []
            return records.compactMap { item -> (String, URL)? in
                guard let record = item as? [String: Any], let file = record["file"] as? String,
                      record["enabled"] as? Bool ?? true else { return nil }
                let id = record["id"] as? String ?? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
                return (id, folder.appendingPathComponent(file))
            }
        }
        let packs = folder.appendingPathComponent("indicators")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: packs.path)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted().map { (String($0.dropLast(5)), packs.appendingPathComponent($0)) }
    }

    private static func packReports(_ data: Data, store: CaseStore) -> [Report] {
        var out: [Report] = []
        var loaded: [ImportedPack] = []
        var urls: [String: URL] = [:]
        for (id, url) in packFiles(data, folder: store.folder) {
            do {
                let pack = try IndicatorPackStore.load(url)
                loaded.append(pack)
                urls[pack.id] = url
            } catch let IndicatorPackStoreError.malformed(file, line, column, message) {
                out.append(Report(file: file, line: line, column: column,
                                  message: "\(message) (to open the case without it: incident indicators disable CASE \(id))", isError: true))
            } catch {
                out.append(Report(file: url.path, line: 1, column: 1, message: "\(error)", isError: true))
            }
        }
        // Every pack loads: they must also compile together with the built-in pack.
        if out.isEmpty, !loaded.isEmpty {
            do {
                let merged = ImportedPackCompiler.merge(try BuiltInData.indicatorPack(), with: loaded.map(ImportedPackCompiler.compile))
                _ = try RuleEngine(pack: merged, literalPrefilter: false)
            } catch {
                let pos = JSONLocator([UInt8](data)).position(of: [.key("indicatorPacks")])
                out.append(Report(file: store.fileURL.path, line: pos.line, column: pos.column,
                                  message: "the enabled indicator packs do not compile: \(error)", isError: true))
            }
            // Their YARA rules for files: one that does not compile is left out when scanning (a warning).
            let sources = ContentRuleSource.from(loaded)
            if !sources.isEmpty {
                for e in ContentRules.load(caseFolder: store.folder, imported: sources).errors {
                    guard let (pack, rule) = ContentRuleSource.parts(of: e.file), let url = urls[pack] else { continue }
                    out.append(Report(file: url.path, line: 1, column: 1,
                                      message: "YARA rule not used: \(rule), rule line \(e.line): \(e.message)", isError: false))
                }
            }
        }
        return out
    }

    /// Case YARA rule files (`rules/`) that do not compile: one report per error libyara gives.
    /// libyara names a line but no column: column 1.
    private static func ruleReports(_ folder: URL) -> [Report] {
        ContentRules.load(caseFolder: folder).errors.filter { $0.file.hasPrefix("rules/") }.map { e in
            Report(file: folder.appendingPathComponent(e.file).path, line: max(1, e.line), column: 1,
                   message: "YARA rule file not used: \(e.message)", isError: true)
        }
    }
}
