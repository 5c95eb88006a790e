import BundledThemes
import Foundation
import IncidentCore
import Testing
@testable import ConsoleUI
import TerminalCore

/// The grid as the terminal would colour it under a theme: one letter per distinct resolved
/// style (in order of first use), then a legend naming each style and the roles that have it.
func styledDump(_ grid: CellGrid, theme: Theme, depth: ColorDepth) -> String {
    var letters: [ResolvedStyle: Character] = [:]
    var roles: [ResolvedStyle: [Role]] = [:]
    var order: [ResolvedStyle] = []
    let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    var rows: [String] = []
    for y in 0..<grid.size.rows {
        var row = ""
        for x in 0..<grid.size.cols {
            let role = grid[x, y].role
            let style = theme.style(role).resolved(for: role, at: depth)
            if letters[style] == nil {
                letters[style] = alphabet[min(order.count, alphabet.count - 1)]
                order.append(style)
            }
            if !(roles[style]?.contains(role) ?? false) { roles[style, default: []].append(role) }
            row.append(letters[style]!)
        }
        rows.append(row)
    }
    var legend = ["theme \(theme.name) at \(depth):"]
    for style in order {
        legend.append("\(letters[style]!) = \(style)  [\(roles[style]!.map(\.rawValue).joined(separator: ", "))]")
    }
    return (legend + rows).joined(separator: "\n")
}

/// The style of every role at every colour depth.
func resolutionTable(_ theme: Theme) -> String {
    var lines = ["theme \(theme.name): \(theme.description)"]
    for role in Role.allCases {
        let style = theme.style(role)
        let cells = ColorDepth.allCases.reversed().map { "\($0.rawValue): \(style.resolved(for: role, at: $0))" }
        lines.append(TextWidth.pad(role.rawValue, to: 21) + cells.joined(separator: " | "))
    }
    return lines.joined(separator: "\n")
}

@Suite("Shipped themes")
struct ThemeSnapshotTests {
    static let shipped = ["default", "high-contrast", "light", "monochrome"]

    @Test("the four themes ship and load")
    func shippedThemes() throws {
        #expect(BundledThemes.files.keys.sorted() == Self.shipped)
        for name in Self.shipped {
            let theme = try ThemeLoader.load(name, environment: [:])
            #expect(theme.name == name)
            #expect(!theme.description.isEmpty)
        }
    }

    @Test("roles → colours at 256, 16, 8 colours and attributes only", arguments: shipped)
    func resolution(name: String) throws {
        let theme = try ThemeLoader.load(name, environment: [:])
        assertSnapshot(resolutionTable(theme), named: "theme-\(name)-resolution")
    }

    @Test("the demo at 80×24 under each theme (256 colours)", arguments: shipped)
    func demo80x24(name: String) throws {
        let theme = try ThemeLoader.load(name, environment: [:])
        let grid = render(try demoState())
        assertSnapshot(styledDump(grid, theme: theme, depth: .xterm256), named: "theme-\(name)-80x24")
    }

    @Test("too small (50×12) under each theme, 8 colours", arguments: shipped)
    func tooSmall(name: String) throws {
        let theme = try ThemeLoader.load(name, environment: [:])
        let grid = render(try demoState(cols: 50, rows: 12))
        assertSnapshot(styledDump(grid, theme: theme, depth: .ansi8), named: "theme-\(name)-too-small-50x12")
    }

    @Test("colours degrade: #rrggbb to the nearest 256, 16 and 8 colour, names stay")
    func degrade() {
        let orange = ThemeColor(parsing: "#ff8700")!
        #expect(orange.xterm256 == 208)
        #expect(orange.ansi16 == 3)    // yellow (205,205,0) is nearest of the 16
        #expect(orange.ansi8 == 1)     // red: only red is at 60 % of the brightest channel
        let grey = ThemeColor(parsing: "#808080")!
        #expect(grey.xterm256 == 244)
        #expect(grey.ansi16 == 8)
        #expect(ThemeColor(parsing: "bright-red")!.ansi16 == 9)
        #expect(ThemeColor(parsing: "bright-red")!.ansi8 == 1)
        #expect(ThemeColor(parsing: "bright-red")!.xterm256 == 9)
        let style = Style(fg: orange)
        #expect(style.resolved(for: .severityHigh, at: .xterm256) == ResolvedStyle(fg: 208))
        #expect(style.resolved(for: .severityHigh, at: .ansi16) == ResolvedStyle(fg: 3))
        #expect(style.resolved(for: .severityHigh, at: .ansi8) == ResolvedStyle(fg: 1))
        // No colour: a role told apart by colour alone gets an attribute.
        #expect(style.resolved(for: .severityHigh, at: .none) == ResolvedStyle(bold: true))
        #expect(Style(bg: .ansi(6)).resolved(for: .selection, at: .none) == ResolvedStyle(reverse: true))
        #expect(Style(fg: grey).resolved(for: .muted, at: .none) == ResolvedStyle(dim: true))
        #expect(Style(fg: .ansi(1), bold: true).resolved(for: .severityCritical, at: .none) == ResolvedStyle(bold: true))
        #expect(ColorDepth(colors: 256) == .xterm256)
        #expect(ColorDepth(colors: 88) == .ansi16)
        #expect(ColorDepth(colors: 8) == .ansi8)
        #expect(ColorDepth(colors: 0) == .none)
        #expect(ColorDepth(colors: -1) == .none)
    }

    @Test("a user theme overrides a shipped one; a broken one names file, line and column")
    func userThemes() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("themes-\(UUID().uuidString)")
        let dir = home.appendingPathComponent("incident/themes")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        try Data(##"{"name": "light", "description": "mine", "roles": {"selection": {"fg": "#000000", "bg": "#ffff00"}}}"##.utf8)
            .write(to: dir.appendingPathComponent("light.json"))
        let broken = "{\n  \"roles\": {\n    \"selection\": { \"fg\": \"mauve\" }\n  }\n}\n"
        try Data(broken.utf8).write(to: dir.appendingPathComponent("broken.json"))
        let env = ["XDG_CONFIG_HOME": home.path]
        #expect(ThemeLoader.available(environment: env) == ["broken", "default", "high-contrast", "light", "monochrome"])
        let light = try ThemeLoader.load("light", environment: env)
        #expect(light.description == "mine")
        #expect(light.style(.selection) == Style(fg: .rgb(0, 0, 0), bg: .rgb(255, 255, 0)))
        #expect(ThemeLoader.userFile("light", environment: env)?.lastPathComponent == "light.json")
        #expect(ThemeLoader.userFile("default", environment: env) == nil)
        #expect(throws: ThemeError.malformed(file: dir.appendingPathComponent("broken.json").path, line: 3, column: 26,
                                             message: "fg must be default, a colour name or #rrggbb")) {
            try ThemeLoader.load("broken", environment: env)
        }
    }

    @Test("t cycles the themes and names the new one; the runtime is asked to load it")
    func cycle() throws {
        var state = try demoState()
        state.themeNames = Self.shipped
        state.themeName = "default"
        #expect(press(&state, .character("t")) == [.switchTheme("high-contrast")])
        #expect(state.message == "theme: high-contrast (t for the next)")
        _ = press(&state, .character("t"), .character("t"))
        #expect(state.themeName == "monochrome")
        #expect(press(&state, .character("t")) == [.switchTheme("default")])
    }
}
