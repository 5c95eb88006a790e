// The theme files of this folder, compiled into the binary (SwiftPM `embedInCode`).

/// The themes shipped in `Themes/`, as raw JSON bytes keyed by theme name.
public enum BundledThemes {
    public static let files: [String: [UInt8]] = [
        "default": PackageResources.default_json,
        "monochrome": PackageResources.monochrome_json,
        "light": PackageResources.light_json,
        "high-contrast": PackageResources.high_contrast_json,
    ]
}
