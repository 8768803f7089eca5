// swift-tools-version:6.0
import PackageDescription

/// The HAMburger inference server. Imports point downward only; see ../shared/design/ARCHITECTURE.md.
let package = Package(
    name: "hamburger",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "hamburger", targets: ["hamburger"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
    ],
    targets: [
        // System-library shims (Debian: libopenblas-dev, libssl-dev, zlib1g-dev).
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),

        // Hand-vectorised C kernels (quantized dot products, bf16); chosen at run time by CPU features.
        .target(
            name: "CKernels",
            cSettings: [.unsafeFlags(["-O3"])]
        ),
        .target(name: "Kernels", dependencies: ["CBLAS", "CKernels"]),
        .target(name: "GGUF", dependencies: ["CKernels"]),
        .target(name: "Tokenization", dependencies: ["GGUF"]),
        .target(name: "KVCache"),
        // JSON Schema -> byte-level JSON automaton -> allowed-token masks (structured outputs). No imports.
        .target(name: "StructuredOutput"),
        .target(name: "Llama", dependencies: ["Kernels", "GGUF", "KVCache"]),
        .target(name: "Hamburger", dependencies: ["Kernels", "Llama", "COpenSSL", "CBLAS"]),
        .target(
            name: "Engine",
            dependencies: [
                "Llama", "Hamburger", "KVCache", "Kernels", "StructuredOutput",
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        .target(name: "HTTPServer", dependencies: ["COpenSSL", "CZlib"]),
        .target(
            name: "OpenAIAPI",
            dependencies: [
                "HTTPServer", "Engine", "Tokenization", "StructuredOutput",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "hamburger",
            dependencies: [
                "GGUF", "Tokenization", "Kernels", "KVCache", "Llama", "Hamburger", "Engine",
                "HTTPServer", "OpenAIAPI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),

        // Fuzz targets (libFuzzer, `make fuzz`; see Fuzz/README.md). A plain build makes each a replay
        // tool for its corpus and crash files, with no fuzzer runtime; `make fuzz` rebuilds them with
        // -sanitize=fuzzer,address -DFUZZING in .build-fuzz.
        .target(name: "CFuzzerDriver", path: "Fuzz/CFuzzerDriver"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzerDriver", "HTTPServer"], path: "Fuzz/FuzzSupport"),
        .executableTarget(name: "FuzzHTTPParser", dependencies: ["FuzzSupport", "HTTPServer"], path: "Fuzz/FuzzHTTPParser"),
        .executableTarget(name: "FuzzChunkedBody", dependencies: ["FuzzSupport", "HTTPServer"], path: "Fuzz/FuzzChunkedBody"),
        .executableTarget(name: "FuzzRequestJSON", dependencies: ["FuzzSupport", "OpenAIAPI"], path: "Fuzz/FuzzRequestJSON"),
        .executableTarget(name: "FuzzGGUF", dependencies: ["FuzzSupport", "GGUF", "Tokenization"], path: "Fuzz/FuzzGGUF"),
        .executableTarget(name: "FuzzSafetensors", dependencies: ["FuzzSupport", "Hamburger"], path: "Fuzz/FuzzSafetensors"),

        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "KernelsTests", dependencies: ["TestSupport", "Kernels", "CKernels"]),
        .testTarget(name: "GGUFTests", dependencies: ["TestSupport", "GGUF"]),
        .testTarget(name: "TokenizationTests", dependencies: ["TestSupport", "Tokenization", "GGUF"]),
        .testTarget(name: "StructuredOutputTests", dependencies: ["TestSupport", "StructuredOutput"]),
        .testTarget(name: "KVCacheTests", dependencies: ["TestSupport", "KVCache"]),
        .testTarget(name: "LlamaTests", dependencies: ["TestSupport", "Llama", "GGUF", "KVCache", "Tokenization"]),
        .testTarget(name: "EngineTests", dependencies: ["TestSupport", "Engine", "Hamburger", "Kernels", "Llama", "KVCache", "Tokenization", "GGUF", "StructuredOutput", "OpenAIAPI", "HTTPServer"]),
        .testTarget(name: "HamburgerTests", dependencies: ["TestSupport", "Hamburger", "Kernels", "Llama", "Engine", "KVCache", "GGUF", "Tokenization", "OpenAIAPI"]),
        .testTarget(name: "HTTPServerTests", dependencies: ["TestSupport", "HTTPServer"]),
        .testTarget(name: "OpenAIAPITests", dependencies: ["TestSupport", "OpenAIAPI", "HTTPServer", "Engine", "Tokenization"]),
    ],
    swiftLanguageModes: [.v6]
)
