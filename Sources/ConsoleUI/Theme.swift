import BundledThemes
import Foundation
import IncidentCore
import TerminalCore

/// A console theme: a style for each role.
public struct Theme: Equatable, Sendable {
    public var name: String
    public var description: String
    public var styles: [Role: Style]

    /// The style of a role; roles the theme does not name are plain.
    public func style(_ role: Role) -> Style { styles[role] ?? Style() }

    /// The same theme with every colour removed (for `NO_COLOR`, `--no-color`, or terminals
    /// without colour): attributes stay, and roles that relied on colour alone get bold or dim.
    public func withoutColor() -> Theme {
        var copy = self
        for (role, style) in styles {
            var s = style
            let hadColor = s.fg != nil || s.bg != nil
            s.fg = nil
            s.bg = nil
            if hadColor && !s.bold && !s.reverse && !s.underline && !s.dim {
                switch role {
                case .muted, .severityInfo, .verdictNotAssessed, .stepNotApplicable: s.dim = true
                case .selection, .statusBar, .verdictCompromised: s.reverse = true
                default: s.bold = true
                }
            }
            copy.styles[role] = s
        }
        return copy
    }
}

/// Errors loading a theme. Each names the file and, for malformed files, line and column.
public enum ThemeError: Error, CustomStringConvertible, Equatable {
    case unknown(name: String, available: [String])
    case malformed(file: String, line: Int, column: Int, message: String)

    public var description: String {
        switch self {
        case let .unknown(name, available): "no theme named \"\(name)\" (available: \(available.joined(separator: ", ")))"
        case let .malformed(file, line, column, message): "\(file):\(line):\(column): \(message)"
        }
    }
}

/// Finds and parses themes: user themes in `$XDG_CONFIG_HOME/incident/themes/NAME.json`
/// (default `~/.config/incident/themes`) override the ones shipped in `Themes/`.
public enum ThemeLoader {
    /// Names of every theme available, sorted.
    public static func available(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        var names = Set(BundledThemes.files.keys)
        if let dir = userDirectory(environment), let files = try? FileManager.default.contentsOfDirectory(atPath: dir.path) {
            for f in files where f.hasSuffix(".json") { names.insert(String(f.dropLast(5))) }
        }
        return names.sorted()
    }

    /// Loads a theme by name.
    /// - Throws: ``ThemeError``.
    public static func load(_ name: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Theme {
        if let dir = userDirectory(environment) {
            let url = dir.appendingPathComponent(name + ".json")
            if let data = FileManager.default.contents(atPath: url.path) {
                return try parse([UInt8](data), file: url.path)
            }
        }
        guard let bytes = BundledThemes.files[name] else {
            throw ThemeError.unknown(name: name, available: available(environment: environment))
        }
        return try parse(bytes, file: "Themes/\(name).json")
    }

    /// The shipped default theme (never fails: it is part of the binary and tested).
    public static func builtInDefault() -> Theme {
        (try? parse(BundledThemes.files["default"] ?? [], file: "Themes/default.json"))
            ?? Theme(name: "default", description: "", styles: [:])
    }

    /// Parses theme JSON.
    /// - Throws: ``ThemeError/malformed(file:line:column:message:)`` with the position of the problem.
    public static func parse(_ bytes: [UInt8], file: String) throws -> Theme {
        let locator = JSONLocator(bytes)
        if let (pos, message) = locator.firstSyntaxError() {
            throw ThemeError.malformed(file: file, line: pos.line, column: pos.column, message: message)
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw ThemeError.malformed(file: file, line: 1, column: 1, message: "a theme is a JSON object")
        }
        let name = object["name"] as? String ?? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        let description = object["description"] as? String ?? ""
        guard let roles = object["roles"] as? [String: Any] else {
            throw ThemeError.malformed(file: file, line: 1, column: 1, message: "missing \"roles\" object")
        }
        var styles: [Role: Style] = [:]
        for (key, value) in roles {
            func fail(_ message: String, _ path: [JSONLocator.Step]) -> ThemeError {
                let pos = locator.position(of: [.key("roles"), .key(key)] + path)
                return .malformed(file: file, line: pos.line, column: pos.column, message: message)
            }
            guard let role = Role(rawValue: key) else {
                throw fail("unknown role \"\(key)\" (roles: \(Role.allCases.map(\.rawValue).joined(separator: ", ")))", [])
            }
            guard let spec = value as? [String: Any] else { throw fail("a role's style is an object", []) }
            var style = Style()
            for (attr, v) in spec {
                switch attr {
                case "fg", "bg":
                    guard let text = v as? String, let color = ThemeColor(parsing: text) else {
                        throw fail("\(attr) must be default, a colour name or #rrggbb", [.key(attr)])
                    }
                    if attr == "fg" { style.fg = color } else { style.bg = color }
                case "bold", "reverse", "underline", "dim":
                    guard let flag = v as? Bool else { throw fail("\(attr) must be true or false", [.key(attr)]) }
                    switch attr {
                    case "bold": style.bold = flag
                    case "reverse": style.reverse = flag
                    case "underline": style.underline = flag
                    default: style.dim = flag
                    }
                default:
                    throw fail("unknown attribute \"\(attr)\" (fg, bg, bold, reverse, underline, dim)", [.key(attr)])
                }
            }
            styles[role] = style
        }
        return Theme(name: name, description: description, styles: styles)
    }

    /// The user's file for a theme name, when it exists (it overrides the shipped theme).
    public static func userFile(_ name: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> URL? {
        guard let dir = userDirectory(environment) else { return nil }
        let url = dir.appendingPathComponent(name + ".json")
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    static func userDirectory(_ env: [String: String]) -> URL? {
        if let xdg = env["XDG_CONFIG_HOME"], !xdg.isEmpty {
            return URL(fileURLWithPath: xdg).appendingPathComponent("incident/themes")
        }
        if let home = env["HOME"], !home.isEmpty {
            return URL(fileURLWithPath: home).appendingPathComponent(".config/incident/themes")
        }
        return nil
    }
}
