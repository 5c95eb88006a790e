import ArgumentParser
import ConsoleUI
import Foundation
import TerminalCore

/// `incident themes`: the colour themes the console can use.
struct ThemesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "themes",
        abstract: "List the console's colour themes.",
        subcommands: [ThemesListCommand.self],
        defaultSubcommand: ThemesListCommand.self
    )
}

/// `incident themes list`: every theme, where it comes from, and whether it loads.
struct ThemesListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the shipped themes and the user's, with where each comes from.",
        discussion: """
        Shipped themes are compiled in from Themes/; a file $XDG_CONFIG_HOME/incident/themes/NAME.json (default ~/.config/incident/themes) adds a theme or overrides the shipped one of the same name. A theme file that does not load is listed with file, line and column; the console then uses the default theme.

        Exit codes: 0 every theme loads; 2 a theme file is broken.

        Example:
          incident themes list
          incident open ./case --theme high-contrast     (t in the console switches theme)
        """
    )

    func run() throws {
        let env = ProcessInfo.processInfo.environment
        var broken = false
        for name in ThemeLoader.available(environment: env) {
            let source = ThemeLoader.userFile(name, environment: env).map { "user file \($0.path)" } ?? "shipped"
            do {
                let theme = try ThemeLoader.load(name, environment: env)
                print("\(TextSafety.escape(name))\t\(source)\t\(TextSafety.escape(theme.description))")
            } catch {
                broken = true
                print("\(TextSafety.escape(name))\t\(source)\tBROKEN: \(TextSafety.escape("\(error)"))")
            }
        }
        if broken { throw ExitCode(2) }
    }
}
