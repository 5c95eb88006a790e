import ConsoleUI
import Dispatch
import Foundation
import IncidentCore
import NcursesBackend
import Synchronization
import TerminalCore

/// The file descriptor signal handlers write to, to wake the main loop (async-signal-safe).
nonisolated(unsafe) private var signalWakeFD: Int32 = -1
nonisolated(unsafe) private var caughtSignal: Int32 = 0

/// Hands snapshots from the case session's queue to the main thread.
final class SnapshotMailbox: Sendable {
    private let latest = Mutex<CaseSnapshot?>(nil)
    let readFD: Int32
    let writeFD: Int32

    init() {
        var fds: [Int32] = [0, 0]
        _ = pipe(&fds)
        readFD = fds[0]
        writeFD = fds[1]
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
    }

    /// Called on the session queue: keeps only the newest snapshot and wakes the main loop.
    func post(_ snapshot: CaseSnapshot) {
        latest.withLock { $0 = snapshot }
        var b: UInt8 = 1
        _ = write(writeFD, &b, 1)
    }

    /// Called on the main thread.
    func take() -> CaseSnapshot? {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(readFD, &buffer, buffer.count) > 0 {}
        return latest.withLock { s in
            defer { s = nil }
            return s
        }
    }
}

enum ConsoleLauncher {
    static func open(casePath: String, options: ConsoleOptions) throws {
        let (store, caseFile, engine, playbook) = CaseLoader.load(casePath, writes: !options.readOnly,
                                                                     interactive: !options.readOnly && isatty(STDIN_FILENO) != 0)
        let env = ProcessInfo.processInfo.environment
        let noColor = options.noColor || !(env["NO_COLOR"] ?? "").isEmpty
        var theme: Theme
        var themeName = options.theme
        var startMessage: String?
        do { theme = try ThemeLoader.load(options.theme) } catch let error as ThemeError {
            guard case .malformed = error else { fail("\(error)") }
            // A broken theme file never stops the console: say where it is broken, use the default.
            FileHandle.standardError.write(Data("incident: theme \(TextSafety.escape(error.description)); using the default theme\n".utf8))
            startMessage = "theme \(error.description); using default"
            theme = ThemeLoader.builtInDefault()
            themeName = "default"
        } catch {
            fail("\(error)")
        }
        if noColor { theme = theme.withoutColor() }
        let interval: Double
        if let given = options.interval {
            guard given.isFinite, given > 0 else { fail("--interval must be more than 0 seconds") }
            interval = given
        } else {
            // The case's own setting: name it and where it is, not an option nobody gave.
            interval = caseFile.settings.rescanIntervalSeconds
            if let problem = CaseCheck.rescanIntervalProblem(interval) {
                let data = (try? Data(contentsOf: store.fileURL)) ?? Data()
                let pos = JSONLocator([UInt8](data)).position(of: [.key("settings"), .key("rescanIntervalSeconds")])
                fail("\(store.fileURL.path):\(pos.line):\(pos.column): \(problem); set it in the case file, or give --interval SECONDS")
            }
        }
        let code = MainActor.assumeIsolated {
            runConsole(store: store, caseFile: caseFile, engine: engine, playbook: playbook,
                       theme: theme, themeName: themeName, startMessage: startMessage,
                       noColor: noColor, ascii: options.ascii, interval: interval, readOnly: options.readOnly)
        }
        if code != 0 { Foundation.exit(code) }
    }

    @MainActor
    static func runConsole(store: CaseStore, caseFile: CaseFile, engine: RuleEngine, playbook: Playbook,
                           theme: Theme, themeName: String = "default", startMessage: String? = nil,
                           noColor: Bool, ascii: Bool, interval: Double, readOnly: Bool) -> Int32 {
        let terminal: NcursesTerminal
        do {
            terminal = try NcursesTerminal(styles: theme.styles, noColor: noColor, forceASCII: ascii)
        } catch {
            fail("\(error)")
        }
        // A parent may have started us with these signals blocked; the console must see them.
        var unblock = sigset_t()
        sigemptyset(&unblock)
        for sig in [SIGINT, SIGTERM, SIGHUP, SIGWINCH] { sigaddset(&unblock, sig) }
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
        let mailbox = SnapshotMailbox()
        signalWakeFD = mailbox.writeFD
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig) { s in
                caughtSignal = s
                var b: UInt8 = 2
                _ = write(signalWakeFD, &b, 1)
            }
        }
        do { try terminal.start() } catch { fail("\(error)") }

        let session = CaseSession(store: store, caseFile: caseFile, engine: engine, playbook: playbook, readOnly: readOnly)
        var state = AppState(caseName: caseFile.name, playbook: playbook, size: terminal.size, readOnly: readOnly)
        state.indicatorTitles = Dictionary(engine.pack.indicators.map { ($0.id, $0.title) }, uniquingKeysWith: { a, _ in a })
        state.indicatorTitles.merge(ContentRules.load(caseFolder: store.folder, imported: engine.importedContentRules).titles) { pack, _ in pack }
        state.themeNames = ThemeLoader.available()
        state.themeName = themeName
        state.message = startMessage
        session.start(interval: interval) { snapshot in mailbox.post(snapshot) }

        var running = true
        var dirty = true
        var fds = [pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: mailbox.readFD, events: Int16(POLLIN), revents: 0)]
        // Panes that follow a moving selection catch up this long after the last key.
        let settleDelay = Duration.milliseconds(150)
        var settleAt: ContinuousClock.Instant?
        while running {
            if dirty {
                terminal.present(render(state, ascii: terminal.ascii), fullRedraw: state.needsFullRedraw)
                state.needsFullRedraw = false
                dirty = false
            }
            fds[0].revents = 0
            fds[1].revents = 0
            var timeout: Int32 = 1000
            if let at = settleAt {
                let left = ContinuousClock.now.duration(to: at).components
                timeout = max(0, min(1000, Int32(left.seconds * 1000 + left.attoseconds / 1_000_000_000_000_000)))
            }
            _ = poll(&fds, 2, timeout)
            if caughtSignal != 0 { break }
            if let snapshot = mailbox.take() {
                _ = update(&state, .snapshot(snapshot))
                dirty = true
            }
            var hadKey = false
            for event in terminal.readEvents() {
                dirty = true
                if case .key = event { hadKey = true }
                let effects: [Effect]
                switch event {
                case let .resized(size): effects = update(&state, .resized(size))
                case let .key(key): effects = update(&state, .key(key))
                }
                for effect in effects {
                    switch effect {
                    case .quit: running = false
                    case let .perform(edit): session.perform(edit)
                    case let .switchTheme(name):
                        do {
                            var next = try ThemeLoader.load(name)
                            if noColor { next = next.withoutColor() }
                            terminal.setStyles(next.styles)
                        } catch {
                            // The broken file is named with line and column; the current theme stays.
                            state.message = "theme \(error); kept the previous theme"
                        }
                    case let .readExcerpt(path, line):
                        let references = Set((state.snapshot?.caseFile.evidence ?? []).filter(\.isReference).map(\.path))
                        _ = update(&state, .excerpt(EvidenceExcerpt.read(caseFolder: store.folder, path: path, line: line, references: references)))
                    }
                }
            }
            if state.settledSelection != nil {
                if hadKey {
                    settleAt = ContinuousClock.now.advanced(by: settleDelay)
                } else if let at = settleAt, ContinuousClock.now >= at {
                    _ = update(&state, .settled)
                    settleAt = nil
                    dirty = true
                }
            } else {
                settleAt = nil
            }
        }
        let (unsaved, reason) = session.stop()
        terminal.stop()
        if !unsaved.isEmpty {
            // Never drop a responder's change in silence: say what was not written, and fail.
            var lines = ["incident: \(unsaved.count) change(s) could not be saved to \(store.fileURL.path): \(reason ?? "unknown error")"]
            for edit in unsaved { lines.append("  not saved: \(edit)") }
            let text = lines.map(TextSafety.escape).joined(separator: "\n") + "\n"
            FileHandle.standardError.write(Data(text.utf8))
            return 2
        }
        if caughtSignal != 0 { return 128 + caughtSignal }
        return 0
    }
}
