import Foundation
import IncidentCore

/// Loading a case for a command: older schemas and broken files with a good backup.
enum CaseOpening {
    /// A load error as the responder should read it: for a case that does not load, names the
    /// backup when it loads and the command that restores it.
    static func describeLoadError(_ error: Error, store: CaseStore) -> String {
        guard case CaseStoreError.malformed = error, let backup = usableBackup(store) else { return "\(error)" }
        return "\(error)\nthe previous good version is kept as \(backup.path) (saved \(backup.saved)); to use it run: incident restore \(store.folder.path) (the broken file is kept as case.json.broken-<time>, nothing is deleted)"
    }

    /// The backup, when there is one and it loads.
    static func usableBackup(_ store: CaseStore) -> (path: String, saved: String)? {
        guard let data = try? Data(contentsOf: store.backupURL), (try? CaseStore.decode(data, path: store.backupURL.path)) != nil else { return nil }
        var st = stat()
        let saved = stat(store.backupURL.path, &st) == 0
            ? Timestamps.iso8601(Date(timeIntervalSince1970: Double(st.st_mtim.tv_sec))) : "at an unknown time"
        return (store.backupURL.path, saved)
    }

    /// Loads the case. Writers (`writes`) need the current schema: an older case is an error
    /// naming `incident migrate`, or, when `interactive`, a y/N question (default No) on the
    /// terminal before migrating. A case that does not load but has a good backup is an error
    /// naming `incident restore`, or, when `interactive`, a y/N question before restoring.
    /// Until the responder says yes, the file is not touched.
    static func load(_ store: CaseStore, writes: Bool, interactive: Bool) -> CaseFile {
        do {
            return writes ? try store.loadCurrent() : try store.load()
        } catch let CaseStoreError.olderSchema(_, found, current) where interactive {
            let question = "\(store.fileURL.path) was written by an older version (schemaVersion \(found)).\nMigrate it to schemaVersion \(current)? A copy of the old file is kept as case.json.schema\(found).bak. [y/N] "
            guard ask(question) else { fail("not migrated; \(store.fileURL.path) is unchanged (incident open --read-only works without migrating)") }
            do { try store.migrate() } catch { fail("migration failed: \(error)") }
            return load(store, writes: writes, interactive: false)
        } catch let error as CaseStoreError {
            if case .malformed = error, interactive, let backup = usableBackup(store) {
                let question = "\(error)\nThe previous good version \(backup.path) (saved \(backup.saved)) loads.\nRestore it? The broken case.json is kept as case.json.broken-<time>. [y/N] "
                if ask(question) {
                    do {
                        let kept = try store.restoreBackup()
                        FileHandle.standardError.write(Data("incident: restored \(backup.path); the broken file is kept as \(kept?.lastPathComponent ?? "-")\n".utf8))
                    } catch { fail("restore failed: \(error)") }
                    return load(store, writes: writes, interactive: false)
                }
                fail("not restored; nothing was changed")
            }
            fail(describeLoadError(error, store: store))
        } catch {
            fail("\(error)")
        }
    }

    /// Asks on the terminal; true only for an answer starting with y or Y.
    private static func ask(_ question: String) -> Bool {
        FileHandle.standardError.write(Data(TextSafety.escape(question).replacingOccurrences(of: "\\u{A}", with: "\n").utf8))
        guard let answer = readLine() else { return false }
        return answer.trimmingCharacters(in: .whitespaces).lowercased().hasPrefix("y")
    }
}
