import Foundation

/// IP addresses in indicator lists and log fields, compared as Windows writes them.
///
/// A list with IPv4 or IPv6 addresses (`inet_pton`) among its members is matched on canonical
/// text (other members as written): IPv4 dotted-decimal, IPv6 in the compressed lowercase form of RFC 5952
/// (https://www.rfc-editor.org/rfc/rfc5952), which is what IIS and Exchange write, and an
/// IPv4-mapped IPv6 member (`::ffff:5.254.43.18`) as its IPv4 address. A field value is looked up
/// after dropping an IPv6 zone id (`fe80::1%12`) and the `::ffff:` of an IPv4-mapped address (a
/// dual-stack IIS writes `::ffff:5.254.43.18` for an IPv4 client). An IPv6 value written in another
/// form (`2001:db8:0:0:0:0:0:7`, leading zeros, brackets) is compared as written; the literal
/// prefilter relies on this (see `RequiredLiterals.alternatives`).
public enum IPAddressText {
    /// The canonical text of an address, or nil when `s` is not an IPv4 or IPv6 address.
    public static func canonical(_ s: String) -> String? {
        var v4 = in_addr()
        if inet_pton(AF_INET, s, &v4) == 1 { return text(v4) }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, s, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: v6) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
            var mapped = in_addr()
            withUnsafeMutableBytes(of: &mapped) { $0.copyBytes(from: bytes[12..<16]) }
            return text(mapped)
        }
        var out = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &v6, &out, socklen_t(out.count)) != nil else { return nil }
        return String(decoding: out.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func text(_ a: in_addr) -> String? {
        var a = a
        var out = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        guard inet_ntop(AF_INET, &a, &out, socklen_t(out.count)) != nil else { return nil }
        return String(decoding: out.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The members of a list with each address in canonical text (other members as they are),
    /// when at least one member is an address; nil otherwise (the list is then plain text).
    public static func canonicalSet<S: Sequence<String>>(_ members: S) -> Set<String>? {
        var out = Set<String>()
        var addresses = 0
        for m in members {
            if let c = canonical(m.trimmingCharacters(in: .whitespaces)) {
                out.insert(c)
                addresses += 1
            } else {
                out.insert(m)
            }
        }
        return addresses == 0 ? nil : out
    }

    /// The text a (lowercased) field value is looked up by: without an IPv6 zone id, and an
    /// IPv4-mapped address as its IPv4 part when that part is dotted-decimal.
    public static func lookupForm(_ value: String) -> String {
        guard value.contains(":") else { return value }
        var v = Substring(value)
        if let percent = v.firstIndex(of: "%") { v = v[..<percent] }
        if v.hasPrefix("::ffff:") {
            let rest = v.dropFirst(7)
            var a = in_addr()
            if rest.contains("."), inet_pton(AF_INET, String(rest), &a) == 1 { return String(rest) }
        }
        return String(v)
    }
}
