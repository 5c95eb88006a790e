import Foundation

/// A case's own changes to the built-in playbook, read from `CASE/playbook.json`.
///
/// JSON shape (every key optional): `{"name": String, "version": String, "steps": [PlaybookStep],
/// "remove": [step id]}`. A step whose `id` is a built-in step's replaces it in place; other
/// steps are added at the end, in file order; `remove` drops built-in steps. The file is only
/// read, never written.
public struct PlaybookOverride: Codable, Sendable, Equatable {
    public var name: String?
    public var version: String?
    public var steps: [PlaybookStep]?
    public var remove: [String]?
}

extension Playbook {
    /// The file name of a case's playbook override, in the case folder.
    public static let caseFileName = "playbook.json"

    /// The playbook for a case: the built-in one with `CASE/playbook.json` applied when that
    /// file exists.
    /// - Throws: ``IndicatorPackError/malformed(file:line:column:message:)`` naming the file with
    ///   the 1-based line and column of the problem: bad JSON, a wrong shape, a duplicate step id,
    ///   `dependsOn` naming an unknown step, or `remove` naming an unknown step.
    public static func forCase(folder: URL) throws -> Playbook {
        let base = try builtIn()
        let url = folder.appendingPathComponent(caseFileName)
        guard FileManager.default.fileExists(atPath: url.path) else { return base }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw IndicatorPackError.malformed(file: url.path, line: 1, column: 1, message: "cannot read: \(error.localizedDescription)")
        }
        return try base.applying(Array(data), name: url.path)
    }

    /// This playbook with an override file's bytes applied (see ``PlaybookOverride``).
    /// - Throws: ``IndicatorPackError/malformed(file:line:column:message:)``: the first problem.
    public func applying(_ bytes: [UInt8], name file: String) throws -> Playbook {
        let (result, problems) = try applyingAll(bytes, name: file)
        if let first = problems.first { throw first }
        return result
    }

    /// Applies an override file, going on past problems of its content so that all of them are
    /// found: an unknown step in `remove`, an empty or repeated step id (that step is left out),
    /// `dependsOn` naming an unknown step.
    /// - Returns: the playbook with what could be applied, and every problem, in file order
    ///   within each kind (empty when the file is fine).
    /// - Throws: ``IndicatorPackError/malformed(file:line:column:message:)`` when the file is not
    ///   JSON of the right shape (nothing after that can be checked).
    func applyingAll(_ bytes: [UInt8], name file: String) throws -> (Playbook, [IndicatorPackError]) {
        let override = try BuiltInData.decode(PlaybookOverride.self, bytes, name: file)
        let locator = JSONLocator(bytes)
        var problems: [IndicatorPackError] = []
        func problem(_ path: [JSONLocator.Step], _ message: String) {
            let pos = locator.position(of: path)
            problems.append(.malformed(file: file, line: pos.line, column: pos.column, message: message))
        }
        var result = self
        if let name = override.name { result.name = name }
        if let version = override.version { result.version = version }
        for (i, id) in (override.remove ?? []).enumerated() {
            guard result.steps.contains(where: { $0.id == id }) else {
                problem([.key("remove"), .index(i)], "remove: no built-in step \"\(id)\"")
                continue
            }
            result.steps.removeAll { $0.id == id }
        }
        var seen = Set<String>()
        var applied = Set<Int>()
        for (i, step) in (override.steps ?? []).enumerated() {
            guard !step.id.isEmpty, seen.insert(step.id).inserted else {
                problem([.key("steps"), .index(i), .key("id")], "step id \"\(step.id)\" is empty or used twice")
                continue
            }
            applied.insert(i)
            if let at = result.steps.firstIndex(where: { $0.id == step.id }) {
                result.steps[at] = step
            } else {
                result.steps.append(step)
            }
        }
        let ids = Set(result.steps.map(\.id))
        for (i, step) in (override.steps ?? []).enumerated() where applied.contains(i) {
            for (j, dep) in step.dependsOn.enumerated() where !ids.contains(dep) {
                problem([.key("steps"), .index(i), .key("dependsOn"), .index(j)], "step \"\(step.id)\" depends on unknown step \"\(dep)\"")
            }
        }
        return (result, problems)
    }

    /// Every problem of a case's `playbook.json` (see ``applyingAll(_:name:)``), for
    /// `incident check`.
    /// - Returns: the playbook as far as it applies (the built-in one when the file does not
    ///   decode or cannot be read), and the problems (empty when there is no file or it is fine).
    /// - Throws: only when the built-in playbook does not load.
    public static func checkCase(folder: URL) throws -> (Playbook, [IndicatorPackError]) {
        let base = try builtIn()
        let url = folder.appendingPathComponent(caseFileName)
        guard FileManager.default.fileExists(atPath: url.path) else { return (base, []) }
        guard let data = FileManager.default.contents(atPath: url.path) else {
            return (base, [.malformed(file: url.path, line: 1, column: 1, message: "cannot read")])
        }
        do {
            return try base.applyingAll(Array(data), name: url.path)
        } catch let error as IndicatorPackError {
            return (base, [error])
        } catch {
            return (base, [.malformed(file: url.path, line: 1, column: 1, message: "\(error)")])
        }
    }
}
