// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "incident-console",
    products: [
        .executable(name: "incident", targets: ["incident"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // System libraries: ncursesw (wide-character API) and libc's wcwidth.
        .systemLibrary(name: "CNcursesw", path: "Sources/CNcursesw",
                       providers: [.apt(["libncursesw5-dev"])]),
        .systemLibrary(name: "CWidth", path: "Sources/CWidth"),
        // Windows event logs (EVTX) through libevtx, and content signatures through libyara.
        .systemLibrary(name: "CEvtx", path: "Sources/CEvtx",
                       providers: [.apt(["libevtx-dev", "libbfio-dev"])]),
        .systemLibrary(name: "CYara", path: "Sources/CYara",
                       providers: [.apt(["libyara-dev"])]),
        .systemLibrary(name: "CHyperscan", path: "Sources/CHyperscan",
                       providers: [.apt(["libhyperscan-dev"])]),

        // The scanner's vectorised quick path over lines the literal prefilter ruled out (our own C).
        .target(name: "CLineSweep"),

        // Core: case model, case store, indicators, parsers, scanner, playbook. No UI, no curses.
        .target(
            name: "IncidentCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto"), .product(name: "Yams", package: "Yams"), "CEvtx", "CYara", "CHyperscan", "CLineSweep"],
            resources: [.embedInCode("Resources/indicators.json"), .embedInCode("Resources/playbook.json"),
                        .embedInCode("Resources/webshells.yar")]
        ),
        // Cells, grid, text width and sanitising, keys. No curses.
        .target(name: "TerminalCore", dependencies: ["CWidth"]),
        // Themes shipped in the top-level Themes/ folder, compiled into the binary.
        .target(name: "BundledThemes", path: "Themes",
                exclude: ["README.md"],
                resources: [.embedInCode("default.json"), .embedInCode("monochrome.json"),
                            .embedInCode("light.json"), .embedInCode("high-contrast.json")]),
        // State -> update -> render into a CellGrid. Pure.
        .target(name: "ConsoleUI", dependencies: ["IncidentCore", "TerminalCore", "BundledThemes"]),
        // The thin ncurses backend: every curses call lives here, on the main thread.
        .target(name: "NcursesBackend", dependencies: ["CNcursesw", "TerminalCore"]),
        .executableTarget(
            name: "incident",
            dependencies: [
                "IncidentCore", "ConsoleUI", "NcursesBackend", "TerminalCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            resources: [.copy("DemoCase")]
        ),
        .testTarget(name: "IncidentCoreTests", dependencies: ["IncidentCore", "CLineSweep"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "ConsoleUITests", dependencies: ["ConsoleUI", "IncidentCore", "TerminalCore"],
                    exclude: ["__Snapshots__"]),
        .testTarget(name: "EndToEndTests", dependencies: ["IncidentCore"]),
    ]
)
