import Crypto

/// SHA-256 helpers over swift-crypto.
public enum SHA256Hex {
    /// Lowercase hex SHA-256 of the bytes.
    public static func digest(_ bytes: [UInt8]) -> String {
        hex(SHA256.hash(data: bytes))
    }

    /// Lowercase hex of a finished digest.
    public static func hex(_ digest: SHA256.Digest) -> String {
        var out = ""
        out.reserveCapacity(64)
        for byte in digest {
            out.append(hexDigits[Int(byte >> 4)])
            out.append(hexDigits[Int(byte & 0xF)])
        }
        return out
    }

    /// Whether `s` is 64 hexadecimal digits (either case), the text form of a SHA-256.
    public static func isHex64(_ s: String) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x46) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    private static let hexDigits = Array("0123456789abcdef")
}
