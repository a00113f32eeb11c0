/// A benchmark that could not produce a valid measurement (a wrong result, a launched job that
/// failed), in words.
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
