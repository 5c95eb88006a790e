import CNcursesw
import Foundation
import TerminalCore

/// Why the terminal cannot be used.
public enum TerminalError: Error, CustomStringConvertible {
    case notATerminal
    case noCursorAddressing(term: String)
    case unknownTerminal(term: String)
    case initFailed(term: String)

    public var description: String {
        switch self {
        case .notATerminal:
            "standard input and output must be a terminal (use `incident scan` for scripts)"
        case let .noCursorAddressing(term):
            "this terminal (TERM=\(term)) cannot move the cursor; run the console in a terminal such as xterm-256color, screen-256color or tmux-256color, or use `incident scan`"
        case let .unknownTerminal(term):
            "TERM=\(term) is not in this system's terminfo database; set TERM to a known type such as xterm-256color (or install ncurses-term)"
        case let .initFailed(term):
            "cannot start the terminal interface for TERM=\(term)"
        }
    }
}

/// One decoded input event.
public enum TerminalEvent: Equatable, Sendable {
    case key(Key)
    case resized(Size)
}

/// The thin ncurses backend: start-up and restore, input decoding, colour pairs and drawing a
/// ``CellGrid``. Every curses call happens here, on the main thread.
@MainActor
public final class NcursesTerminal {
    /// True when the locale is not UTF-8 (or `--ascii`): the UI then draws ASCII only.
    public private(set) var ascii: Bool
    public private(set) var colors: Int = 0
    private var styles: [Role: Style]
    private var noColor: Bool
    private var attrCache: [Role: (attr_t, Int32)] = [:]
    private var pairs: [String: Int32] = [:]
    private var started = false

    /// Sets the locale and checks the terminal; does not yet take over the screen.
    /// - Throws: ``TerminalError`` for a dumb terminal or one without cursor addressing.
    public init(styles: [Role: Style], noColor: Bool, forceASCII: Bool) throws {
        self.styles = styles
        self.noColor = noColor
        setlocale(LC_ALL, "")
        let codeset = String(cString: inc_codeset()).uppercased()
        self.ascii = forceASCII || !(codeset == "UTF-8" || codeset == "UTF8")
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else { throw TerminalError.notATerminal }
        let term = ProcessInfo.processInfo.environment["TERM"] ?? ""
        var err: Int32 = 0
        if term.isEmpty || term == "dumb" {
            throw TerminalError.noCursorAddressing(term: term.isEmpty ? "(unset)" : term)
        }
        if setupterm(nil, STDOUT_FILENO, &err) != OK {
            throw err == 0 ? TerminalError.unknownTerminal(term: term) : TerminalError.noCursorAddressing(term: term)
        }
        if inc_has_cursor_addressing() == 0 { throw TerminalError.noCursorAddressing(term: term) }
    }

    /// Takes over the screen.
    public func start() throws {
        guard initscr() != nil else {
            throw TerminalError.initFailed(term: ProcessInfo.processInfo.environment["TERM"] ?? "")
        }
        started = true
        cbreak()
        noecho()
        nonl()
        _ = keypad(inc_stdscr(), true)
        _ = nodelay(inc_stdscr(), true)
        _ = curs_set(0)
        _ = set_escdelay(25)
        if !noColor && has_colors() {
            start_color()
            _ = use_default_colors()
            colors = Int(inc_colors())
        }
        attrCache = [:]
        pairs = [:]
    }

    /// Restores the terminal. Safe to call more than once.
    public func stop() {
        guard started else { return }
        started = false
        // Terminals without an alternate screen (vt100, linux) would keep the last frame.
        werase(inc_stdscr())
        wrefresh(inc_stdscr())
        _ = curs_set(1)
        endwin()
    }

    /// The current screen size.
    public var size: Size { Size(cols: Int(inc_cols()), rows: Int(inc_lines())) }

    /// Changes the styles (theme switch).
    public func setStyles(_ styles: [Role: Style]) {
        self.styles = styles
        attrCache = [:]
    }

    /// Draws a grid: erase, draw every cell, then one `doupdate` (ncurses sends only what changed).
    public func present(_ grid: CellGrid, fullRedraw: Bool = false) {
        let win = inc_stdscr()
        if fullRedraw { _ = clearok(inc_curscr(), true) }
        werase(win)
        let rows = min(grid.size.rows, Int(inc_lines()))
        let cols = min(grid.size.cols, Int(inc_cols()))
        var cc = cchar_t()
        var wcs: [wchar_t] = [0, 0, 0, 0, 0, 0]
        for y in 0..<rows {
            for x in 0..<cols {
                let cell = grid[x, y]
                if cell.isContinuation { continue }
                let (attr, pairNumber) = attributes(for: cell.role)
                var n = 0
                for scalar in cell.ch.unicodeScalars.prefix(4) {
                    wcs[n] = wchar_t(bitPattern: scalar.value)
                    n += 1
                }
                wcs[n] = 0
                var pair = pairNumber
                _ = wcs.withUnsafeBufferPointer { setcchar(&cc, $0.baseAddress, attr, 0, &pair) }
                _ = mvwadd_wch(win, Int32(y), Int32(x), &cc)
            }
        }
        wnoutrefresh(win)
        doupdate()
    }

    /// Reads every pending input event without blocking.
    public func readEvents() -> [TerminalEvent] {
        var events: [TerminalEvent] = []
        while true {
            var wch: wint_t = 0
            let rc = get_wch(&wch)
            if rc == ERR { break }
            if rc == KEY_CODE_YES {
                let code = Int32(wch)
                if code == inc_key_resize() {
                    events.append(.resized(size))
                    continue
                }
                if let key = Self.decodeKeyCode(code) { events.append(.key(key)) }
            } else if let key = Self.decodeCharacter(UInt32(wch)) {
                events.append(.key(key))
            }
        }
        return events
    }

    static func decodeKeyCode(_ code: Int32) -> Key? {
        switch code {
        case KEY_UP: .up
        case KEY_DOWN: .down
        case KEY_LEFT: .left
        case KEY_RIGHT: .right
        case KEY_HOME: .home
        case KEY_END: .end
        case KEY_NPAGE: .pageDown
        case KEY_PPAGE: .pageUp
        case KEY_BTAB: .backTab
        case KEY_ENTER: .enter
        case KEY_BACKSPACE: .backspace
        case KEY_F0...(KEY_F0 + 63): .function(Int(code - KEY_F0))
        default: nil
        }
    }

    static func decodeCharacter(_ v: UInt32) -> Key? {
        switch v {
        case 10, 13: return .enter
        case 9: return .tab
        case 27: return .escape
        case 8, 127: return .backspace
        case 1...26: return .ctrl(Character(UnicodeScalar(v + 96)!))
        default:
            guard let scalar = UnicodeScalar(v) else { return nil }
            return .character(Character(scalar))
        }
    }

    /// The colour depth in use: what the terminal reports (`COLORS`), or none with `--no-color`.
    public var depth: ColorDepth { ColorDepth(colors: colors) }

    /// curses attributes and colour pair for a role: the theme's style resolved for the
    /// terminal's colour depth (256 → 16 → 8 → attributes only, see ``Style/resolved(for:at:)``).
    private func attributes(for role: Role) -> (attr_t, Int32) {
        if let cached = attrCache[role] { return cached }
        let style = (styles[role] ?? Style()).resolved(for: role, at: depth)
        var attr = inc_a_normal()
        if style.bold { attr |= inc_a_bold() }
        if style.reverse { attr |= inc_a_reverse() }
        if style.underline { attr |= inc_a_underline() }
        if style.dim { attr |= inc_a_dim() }
        var pair: Int32 = 0
        if depth != .none, style.fg >= 0 || style.bg >= 0 {
            let key = "\(style.fg)/\(style.bg)"
            if let p = pairs[key] {
                pair = p
            } else if Int32(pairs.count + 1) < inc_color_pairs() {
                pair = Int32(pairs.count + 1)
                _ = init_extended_pair(pair, Int32(style.fg), Int32(style.bg))
                pairs[key] = pair
            }
        }
        attrCache[role] = (attr, pair)
        return (attr, pair)
    }
}
