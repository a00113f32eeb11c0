@testable import Training

/// Runs `shard.update` on Swift arrays standing for the flat parameter and gradient buffers.
func apply(_ shard: AdamWShard, params: inout [Float], grads: [Float], layout: OptimizerLayout,
           settings: AdamWStepSettings) throws {
    try params.withUnsafeMutableBufferPointer { p in
        try grads.withUnsafeBufferPointer { g in
            try shard.update(params: p.baseAddress!, grads: g.baseAddress!, layout: layout, settings: settings)
        }
    }
}

/// True when a Float result matches a Double reference to within Float rounding of a few
/// operations: `1e-6` relative to `max(1, |expected|)`.
func close(_ actual: Float, _ expected: Double, tolerance: Double = 1e-6) -> Bool {
    abs(Double(actual) - expected) <= tolerance * max(1, abs(expected))
}

func close(_ actual: Double, _ expected: Double, tolerance: Double = 1e-12) -> Bool {
    abs(actual - expected) <= tolerance * max(1, abs(expected))
}

/// A one-group layout over `count` parameters.
func singleGroupLayout(_ count: Int) throws -> OptimizerLayout {
    try OptimizerLayout(groups: [LayerGroup(name: "all", ranges: [0..<count])], parameterCount: count)
}

/// Deterministic, irregular test values in about [-1, 1].
func wavy(_ count: Int, phase: Double) -> [Float] {
    (0..<count).map { Float(sin(Double($0) * 0.731 + phase) * cos(Double($0) * 0.117)) }
}

import Foundation
