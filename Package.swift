// swift-tools-version:6.0
// GenomicULMFiT: a data-parallel genomic ULMFiT trainer for many-core CPU servers.
//
// Module layout follows the data flow:
//   SeededRandom (counter-based random streams: masks, shuffles, splits, initialization),
//   OutputFiles (every file a run writes: atomic, errors that name the path and the cause)
//   -> GenomicData (FASTA, k-mer tokenizer, vocabulary, datasets, batches)
//   -> Memory (the aligned FloatBuffer, huge-page allocation: what Parallel needs, without BLAS)
//   -> Kernels (GEMM, vectorized math; re-exports Memory) -> Model (AWD-LSTM layers, heads, losses)
//   -> Parallel (hwloc topology, pinned workers, barriers, reduce-scatter, the process-group seam)
//   -> Cluster (processes on several nodes: launcher detection, Open MPI loaded at run time)
//   -> Training (AdamW, schedules, layer groups, the data-parallel engine and trainers)
//   -> Reporting (metrics logs, SVG charts) -> Pipeline (the config schema, checkpoints, the checked runs)
//   -> ulmfit (the command line; benchmarks in Sources/ulmfit/Bench)
import PackageDescription

/// Hot loops are written with `SIMD8<Float>`; without a target CPU the compiler lowers them to
/// SSE2 plus scalar `fmaf` calls (~100x slower, ../shared/notes/swift-cpu-facts.md).
/// `haswell` = AVX2 + FMA, present on every x86 server this trainer targets (the `x86-64-v3`
/// spelling is rejected by the Clang importer of Swift 6.3). `-fno-math-errno` lets `squareRoot()`
/// on SIMD vectors become one vsqrtps instead of eight sqrtf calls with errno checks (AdamW: 2.2x).
let simdFlags: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell", "-Xcc", "-fno-math-errno"])]

let package = Package(
    name: "GenomicULMFiT",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "ulmfit", targets: ["ulmfit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // System libraries (installed by scripts/setup.sh).
        .systemLibrary(name: "CHwloc", path: "Sources/CHwloc", pkgConfig: "hwloc",
                       providers: [.apt(["libhwloc-dev"])]),
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        // SHA-256 for checkpoints (OpenSSL; swift-crypto compiled its own BoringSSL in every fresh build).
        .systemLibrary(name: "CLibcrypto", path: "Sources/CLibcrypto", pkgConfig: "libcrypto",
                       providers: [.apt(["libssl-dev"])]),

        .target(name: "SeededRandom", swiftSettings: simdFlags),
        .target(name: "OutputFiles", swiftSettings: simdFlags),
        .target(name: "GenomicData", dependencies: ["CZlib", "SeededRandom", "OutputFiles"], swiftSettings: simdFlags),
        .target(name: "Memory", swiftSettings: simdFlags),
        .target(name: "Kernels", dependencies: ["COpenBLAS", "Memory"], swiftSettings: simdFlags),
        .target(name: "Model", dependencies: ["Kernels", "SeededRandom"], swiftSettings: simdFlags),
        .target(name: "Parallel", dependencies: ["CHwloc", "Memory"], swiftSettings: simdFlags),
        // Several processes (mpirun, srun): Open MPI, loaded at run time only when a launcher
        // started the job, so neither the build nor a single-node run needs MPI (Cluster/MPILibrary.swift).
        .target(name: "Cluster", dependencies: ["Parallel"], swiftSettings: simdFlags),
        .target(name: "Reporting", dependencies: ["OutputFiles"], swiftSettings: simdFlags),
        // Sharded checkpoint folders: manifest, safetensors shards, atomic writes, integrity.
        .target(name: "Checkpoint", dependencies: ["OutputFiles", "CLibcrypto"], swiftSettings: simdFlags),
        .target(name: "Training",
                dependencies: ["GenomicData", "Kernels", "Model", "Parallel"],
                swiftSettings: simdFlags),
        .target(name: "Pipeline",
                dependencies: ["GenomicData", "Model", "Parallel", "Training", "Reporting", "Kernels", "Checkpoint", "SeededRandom",
                               "OutputFiles", .product(name: "Logging", package: "swift-log"),
                               .product(name: "Yams", package: "Yams")],
                swiftSettings: simdFlags),
        .executableTarget(
            name: "ulmfit",
            dependencies: ["GenomicData", "Kernels", "Model", "Parallel", "Cluster", "SeededRandom", "Training", "Reporting",
                           "Pipeline", "Checkpoint", "OutputFiles",
                           .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "Logging", package: "swift-log")],
            swiftSettings: simdFlags),

        .testTarget(name: "GenomicDataTests", dependencies: ["GenomicData"], swiftSettings: simdFlags),
        // The command line: commands parsed in process (@testable), and the built binary run as a
        // user runs it (CLI.swift, ResumeProcessTests).
        .testTarget(name: "ulmfitTests", dependencies: ["ulmfit", "GenomicData", "Checkpoint"], swiftSettings: simdFlags),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels"], swiftSettings: simdFlags),
        .testTarget(name: "ModelTests", dependencies: ["Model", "Kernels"],
                    resources: [.copy("Fixtures")], swiftSettings: simdFlags),
        .testTarget(name: "ParallelTests", dependencies: ["Parallel", "Kernels"], swiftSettings: simdFlags),
        .testTarget(name: "ClusterTests", dependencies: ["Cluster", "Parallel", "Pipeline"], swiftSettings: simdFlags),
        .testTarget(name: "ReportingTests", dependencies: ["Reporting", "OutputFiles"], swiftSettings: simdFlags),
        .testTarget(name: "CheckpointTests", dependencies: ["Checkpoint"], swiftSettings: simdFlags),
        .testTarget(name: "PipelineTests",
                    dependencies: ["Pipeline", "Training", "Model", "Kernels", "GenomicData", "Parallel", "Checkpoint"],
                    swiftSettings: simdFlags),
        .testTarget(name: "TrainingTests",
                    dependencies: ["Training", "Model", "Kernels", "GenomicData", "Parallel"],
                    swiftSettings: simdFlags),
    ],
    swiftLanguageModes: [.v5]
)
