// Small SIMD loops over unsafe buffers shared by the layers.

/// x[i] *= m[i]
@inline(__always)
func multiply(_ x: UnsafeMutablePointer<Float>, by m: UnsafePointer<Float>, count: Int) {
    var i = 0
    while i + 8 <= count {
        let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            * UnsafeRawPointer(m + i).loadUnaligned(as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(x + i).storeBytes(of: v, as: SIMD8<Float>.self)
        i += 8
    }
    while i < count { x[i] *= m[i]; i += 1 }
}

/// y[i] += a * x[i]
@inline(__always)
func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
    let av = SIMD8<Float>(repeating: a)
    var i = 0
    while i + 8 <= count {
        let v = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
            + av * UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(y + i).storeBytes(of: v, as: SIMD8<Float>.self)
        i += 8
    }
    while i < count { y[i] += a * x[i]; i += 1 }
}

/// y[i] += x[i]
@inline(__always)
func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
    var i = 0
    while i + 8 <= count {
        let v = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
            + UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(y + i).storeBytes(of: v, as: SIMD8<Float>.self)
        i += 8
    }
    while i < count { y[i] += x[i]; i += 1 }
}

/// out[c] += sum over rows of x[r, c]   (bias gradients). x: [rows, columns]
@inline(__always)
func addColumnSums(_ x: UnsafePointer<Float>, rows: Int, columns: Int,
                   into out: UnsafeMutablePointer<Float>) {
    for r in 0 ..< rows { add(x + r * columns, into: out, count: columns) }
}

/// a[c] += sum over rows of x[r, c] and b[c] += the same (both LSTM biases' gradients in one
/// pass over x).
@inline(__always)
func addColumnSums(_ x: UnsafePointer<Float>, rows: Int, columns: Int,
                   into a: UnsafeMutablePointer<Float>, and b: UnsafeMutablePointer<Float>) {
    for r in 0 ..< rows {
        let row = x + r * columns
        var i = 0
        while i + 8 <= columns {
            let v = UnsafeRawPointer(row + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(a + i).storeBytes(of: UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self) + v,
                                                      as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(b + i).storeBytes(of: UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self) + v,
                                                      as: SIMD8<Float>.self)
            i += 8
        }
        while i < columns { a[i] += row[i]; b[i] += row[i]; i += 1 }
    }
}

/// Loads up to 8 floats (zero-filled past `count`).
@inline(__always)
func loadPartial(_ p: UnsafePointer<Float>, _ count: Int) -> SIMD8<Float> {
    if count >= 8 { return UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }
    var v = SIMD8<Float>(repeating: 0)
    for i in 0 ..< count { v[i] = p[i] }
    return v
}

/// Stores the first `count` (<= 8) lanes.
@inline(__always)
func storePartial(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
    if count >= 8 {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
        return
    }
    for i in 0 ..< count { p[i] = v[i] }
}
