import Foundation

/// The modes case files get: private (0600) unless the case folder is shared with a group.
enum FilePermissions {
    /// The mode and group for a file written at `url`: those of the file it replaces when there
    /// is one; otherwise 0660 with the folder's group when the folder is group-writable (a
    /// shared case), else 0600.
    static func fileMode(replacing url: URL, in folder: URL) -> (mode: mode_t, group: gid_t?) {
        var st = stat()
        if stat(url.path, &st) == 0 {
            return (mode_t(st.st_mode) & 0o7777, st.st_gid)
        }
        if stat(folder.path, &st) == 0, mode_t(st.st_mode) & 0o020 != 0 {
            return (0o660, st.st_gid)
        }
        return (0o600, nil)
    }

    /// Sets mode (not limited by the umask) and group on an open file; failures are ignored
    /// (the file then keeps the stricter mode it was created with).
    static func apply(fd: Int32, _ mode: (mode: mode_t, group: gid_t?)) {
        if let group = mode.group { _ = fchown(fd, uid_t.max, group) }
        _ = fchmod(fd, mode.mode)
    }
}
