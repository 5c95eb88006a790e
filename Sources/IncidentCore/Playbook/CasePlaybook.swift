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
    /// - Throws: ``IndicatorPackError/malformed(file:line:column:message:)``.
    public func applying(_ bytes: [UInt8], name file: String) throws -> Playbook {
        let override = try BuiltInData.decode(PlaybookOverride.self, bytes, name: file)
        let locator = JSONLocator(bytes)
        func fail(_ path: [JSONLocator.Step], _ message: String) -> IndicatorPackError {
            let pos = locator.position(of: path)
            return .malformed(file: file, line: pos.line, column: pos.column, message: message)
        }
        var result = self
        if let name = override.name { result.name = name }
        if let version = override.version { result.version = version }
        for (i, id) in (override.remove ?? []).enumerated() {
            guard result.steps.contains(where: { $0.id == id }) else {
                throw fail([.key("remove"), .index(i)], "remove: no built-in step \"\(id)\"")
            }
            result.steps.removeAll { $0.id == id }
        }
        var seen = Set<String>()
        for (i, step) in (override.steps ?? []).enumerated() {
            guard !step.id.isEmpty, seen.insert(step.id).inserted else {
                throw fail([.key("steps"), .index(i), .key("id")], "step id \"\(step.id)\" is empty or used twice")
            }
            if let at = result.steps.firstIndex(where: { $0.id == step.id }) {
                result.steps[at] = step
            } else {
                result.steps.append(step)
            }
        }
        let ids = Set(result.steps.map(\.id))
        for (i, step) in (override.steps ?? []).enumerated() {
            for (j, dep) in step.dependsOn.enumerated() where !ids.contains(dep) {
                throw fail([.key("steps"), .index(i), .key("dependsOn"), .index(j)], "step \"\(step.id)\" depends on unknown step \"\(dep)\"")
            }
        }
        return result
    }
}
