/// Work done on a finished tile of C while it is still in L1: the own GEMM calls `apply` once
/// per micro-tile, after the last depth block has been added into it.
protocol GemmEpilogue {
    /// `c` points at element (0, `firstColumn`) of a `rows x columns` tile (row stride `ldc`);
    /// `firstColumn` is the tile's column in the whole product.
    func apply(c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, firstColumn: Int, columns: Int)
}

/// No epilogue: the plain product.
struct NoEpilogue: GemmEpilogue {
    @inline(__always)
    func apply(c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, firstColumn: Int, columns: Int) {}
}

/// The LSTM gate nonlinearities, as the recurrent product's epilogue: each row of C holds one
/// sequence's four gate blocks of `hidden` pre-activations, [i | f | g | o] (PyTorch's order);
/// the epilogue adds both biases and applies sigmoid to i, f, o and tanh to g, so the cell
/// reads finished gates and no separate pass over the [b, 4H] gate matrix is needed.
///
/// The same function serves the cell when the product is not the own GEMM
/// (`apply(row:hidden:)`), so both paths compute every gate with the same instructions.
public struct GateActivation: GemmEpilogue, @unchecked Sendable {
    typealias V = SIMD8<Float>
    /// [4H] each.
    public let biasIH, biasHH: UnsafePointer<Float>
    public let hidden: Int

    public init(biasIH: UnsafePointer<Float>, biasHH: UnsafePointer<Float>, hidden: Int) {
        self.biasIH = biasIH
        self.biasHH = biasHH
        self.hidden = hidden
    }

    func apply(c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, firstColumn: Int, columns: Int) {
        for r in 0 ..< rows { activate(c + r * ldc, firstColumn: firstColumn, columns: columns) }
    }

    /// One whole row of gates, [4H], in place.
    public func apply(row: UnsafeMutablePointer<Float>) {
        activate(row, firstColumn: 0, columns: 4 * hidden)
    }

    /// `x` points at column `firstColumn` of a gate row; activates `columns` columns in place.
    /// Eight columns at a time; a vector that straddles the tanh block's edge computes both
    /// functions and takes each lane from the right one.
    @inline(__always)
    func activate(_ x: UnsafeMutablePointer<Float>, firstColumn j0: Int, columns n: Int) {
        let tanhStart = 2 * hidden, tanhEnd = 3 * hidden
        var j = 0
        while j + 8 <= n {
            let column = j0 + j
            let v = Self.load8(x + j) + Self.load8(biasIH + column) + Self.load8(biasHH + column)
            Self.store8(Self.activate(v, column: column, tanhStart: tanhStart, tanhEnd: tanhEnd), x + j)
            j += 8
        }
        if j < n {
            let count = n - j, column = j0 + j
            let v = Self.load(x + j, count) + Self.load(biasIH + column, count) + Self.load(biasHH + column, count)
            Self.store(Self.activate(v, column: column, tanhStart: tanhStart, tanhEnd: tanhEnd), x + j, count)
        }
    }

    /// The gate function of each lane of the 8 columns from `column`.
    @inline(__always)
    static func activate(_ v: V, column: Int, tanhStart: Int, tanhEnd: Int) -> V {
        if column >= tanhStart && column + 8 <= tanhEnd { return VectorMath.tanh(v) }
        if column + 8 <= tanhStart || column >= tanhEnd { return VectorMath.sigmoid(v) }
        let lanes = SIMD8<Int32>(repeating: Int32(column)) &+ SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7)
        let inTanh = (lanes .>= SIMD8<Int32>(repeating: Int32(tanhStart))) .& (lanes .< SIMD8<Int32>(repeating: Int32(tanhEnd)))
        return VectorMath.sigmoid(v).replacing(with: VectorMath.tanh(v), where: inTanh)
    }

    @inline(__always)
    static func load8(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }

    @inline(__always)
    static func store8(_ v: V, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self) }

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ count: Int) -> V {
        if count >= 8 { return UnsafeRawPointer(p).loadUnaligned(as: V.self) }
        var v = V(repeating: 0)
        for i in 0 ..< count { v[i] = p[i] }
        return v
    }

    @inline(__always)
    static func store(_ v: V, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
        if count >= 8 { return UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self) }
        for i in 0 ..< count { p[i] = v[i] }
    }
}
