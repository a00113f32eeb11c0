import Checkpoint

extension RunConfig {
    /// The settings of `keys` as JSON (`{"training": {"lr": 0.002, ...}, "out": "/abs/run"}`; paths
    /// absolute): what a run records in every checkpoint's manifest.
    public func json(keys: [ConfigKey]) -> JSONValue {
        var sections: [String: [String: JSONValue]] = [:]
        var top: [String: JSONValue] = [:]
        for key in keys {
            guard let value = key.get(self).map(Self.json) else { continue }
            if key.section.isEmpty { top[key.name] = value } else { sections[key.section, default: [:]][key.name] = value }
        }
        for (name, entries) in sections { top[name] = .object(entries) }
        return .object(top)
    }

    private static func json(_ value: Any) -> JSONValue {
        switch value {
        case let v as Int: return .int(Int64(v))
        case let v as UInt64: return .uint(v)
        case let v as Double: return .double(v)
        case let v as Float: return .double(Double("\(v)") ?? Double(v))   // 0.1, not 0.10000000149
        case let v as Bool: return .bool(v)
        case let v as String: return .string(v)
        case let v as [String]: return .array(v.map(JSONValue.string))
        case let v as any RawRepresentable<String>: return .string(v.rawValue)
        default: return .string("\(value)")
        }
    }
}
