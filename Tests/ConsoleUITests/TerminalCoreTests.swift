import Foundation
import Testing
@testable import ConsoleUI
import TerminalCore

@Suite("Sanitizer, widths and the cell grid")
struct TerminalCoreTests {
    @Test("control characters become visible escapes")
    func sanitize() {
        #expect(Sanitizer.sanitize("a\u{1B}[31mb") == "a␛[31mb")
        #expect(Sanitizer.sanitize("\u{7}\u{7F}") == "␇␡")
        #expect(Sanitizer.sanitize("x\u{9B}2J") == "x<9B>2J")
        #expect(Sanitizer.sanitize("abc\u{202E}gpj.exe") == "abc<U+202E>gpj.exe")
        #expect(Sanitizer.sanitize("zero\u{200B}width\u{FEFF}") == "zero<U+200B>width<U+FEFF>")
        #expect(Sanitizer.sanitize("tab\there") == "tab␉here")
        #expect(Sanitizer.sanitize("plain ümlaut 東京") == "plain ümlaut 東京")
    }

    @Test("ASCII mode uses caret notation and ? for non-ASCII")
    func sanitizeASCII() {
        #expect(Sanitizer.sanitize("a\u{1B}b", ascii: true) == "a^[b")
        #expect(Sanitizer.sanitize("é東\u{7F}", ascii: true) == "??^?")
    }

    @Test("escaped pieces are marked")
    func pieces() {
        let p = Sanitizer.pieces("a\u{1B}\u{7}b")
        #expect(p == [.init(text: "a", escaped: false), .init(text: "␛␇", escaped: true), .init(text: "b", escaped: false)])
    }

    @Test("double-width characters take two cells and keep borders in place")
    func wide() {
        _ = utf8Locale
        #expect(TextWidth.width(of: "東京") == 4)
        #expect(TextWidth.width(of: "abc") == 3)
        var grid = CellGrid(size: Size(cols: 6, rows: 1))
        grid.put("|", x: 5, y: 0, role: .border)
        let used = grid.put("東京東", x: 0, y: 0, maxWidth: 5, role: .normal)
        #expect(used == 4)
        #expect(grid.row(0) == "東京 |")
        #expect(grid[1, 0].isContinuation)
    }

    @Test("truncate and pad count columns, not characters")
    func truncate() {
        _ = utf8Locale
        #expect(TextWidth.truncate("EXCH01-very-long", to: 8) == "EXCH01-…")
        #expect(TextWidth.pad("東", to: 4) == "東  ")
        #expect(TextWidth.truncate("abc", to: 0) == "")
    }

    @Test("putUntrusted never writes control characters into the grid")
    func untrusted() {
        _ = utf8Locale
        var grid = CellGrid(size: Size(cols: 30, rows: 1))
        grid.putUntrusted("ua\u{1B}]0;pwned\u{7}\u{9B}", x: 0, y: 0, role: .normal)
        #expect(grid.row(0).hasPrefix("ua␛]0;pwned␇<9B>"))
        #expect(grid[2, 0].role == .escaped)
        #expect(grid[3, 0].role == .normal)
    }

    @Test("wrap breaks at spaces and hard-cuts long words")
    func wrapping() {
        _ = utf8Locale
        #expect(wrap("one two three", width: 7) == ["one two", "three"])
        #expect(wrap("abcdefghij", width: 4) == ["abcd", "efgh", "ij"])
        #expect(wrap("", width: 4) == [""])
    }

    @Test("colours degrade: #rrggbb to the 256 palette and to 8 colours")
    func colors() {
        #expect(ThemeColor(parsing: "#ff0000")?.xterm256 == 196)
        #expect(ThemeColor(parsing: "#ff0000")?.ansi8 == 1)
        #expect(ThemeColor(parsing: "#808080")?.xterm256 == 244)
        #expect(ThemeColor(parsing: "bright-cyan") == .ansi(14))
        #expect(ThemeColor(parsing: "default") == .terminalDefault)
        #expect(ThemeColor(parsing: "#12345") == nil)
        #expect(ThemeColor(parsing: "chartreuse") == nil)
    }
}

@Suite("Themes")
struct ThemeTests {
    @Test("shipped themes parse", arguments: ["default", "monochrome"])
    func shipped(name: String) throws {
        let theme = try ThemeLoader.load(name, environment: [:])
        #expect(theme.name == name)
        #expect(!theme.styles.isEmpty)
    }

    @Test("monochrome has no colour at all")
    func monochrome() throws {
        let theme = try ThemeLoader.load("monochrome", environment: [:])
        #expect(theme.styles.values.allSatisfy { $0.fg == nil && $0.bg == nil })
    }

    @Test("withoutColor keeps roles distinguishable")
    func noColor() throws {
        let theme = try ThemeLoader.load("default", environment: [:]).withoutColor()
        #expect(theme.styles.values.allSatisfy { $0.fg == nil && $0.bg == nil })
        #expect(theme.style(.selection).reverse)
        #expect(theme.style(.severityCritical).bold)
    }

    @Test("a broken theme is reported with file, line and column")
    func broken() {
        let text = "{\n  \"name\": \"x\",\n  \"roles\": {\n    \"border\": { \"fg\": \"blurple\" }\n  }\n}\n"
        #expect(throws: ThemeError.malformed(file: "x.json", line: 4, column: 23, message: "fg must be default, a colour name or #rrggbb")) {
            try ThemeLoader.parse(Array(text.utf8), file: "x.json")
        }
        let syntax = "{\n  \"roles\": {\n    \"border\": { \"fg\": \"red\"\n      \"bold\": true }\n  }\n}\n"
        #expect(throws: ThemeError.malformed(file: "y.json", line: 4, column: 7, message: "expected ',' or '}'")) {
            try ThemeLoader.parse(Array(syntax.utf8), file: "y.json")
        }
        let role = "{ \"roles\": { \"bordr\": {} } }"
        #expect(throws: (any Error).self) { try ThemeLoader.parse(Array(role.utf8), file: "z.json") }
    }

    @Test("a user theme overrides a shipped one")
    func userOverride() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("themes-\(UUID().uuidString)")
        let themes = dir.appendingPathComponent("incident/themes")
        try FileManager.default.createDirectory(at: themes, withIntermediateDirectories: true)
        try Data("{\"name\":\"default\",\"roles\":{\"border\":{\"fg\":\"green\"}}}".utf8).write(to: themes.appendingPathComponent("default.json"))
        let theme = try ThemeLoader.load("default", environment: ["XDG_CONFIG_HOME": dir.path])
        #expect(theme.style(.border).fg == .ansi(2))
        #expect(theme.styles.count == 1)
        #expect(throws: ThemeError.self) { try ThemeLoader.load("nope", environment: ["XDG_CONFIG_HOME": dir.path]) }
    }
}
