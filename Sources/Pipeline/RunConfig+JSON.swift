import Checkpoint
import Foundation
import Yams

extension RunConfig {
    /// The settings of `keys` as JSON (`{"training": {"lr": 0.002, ...}, "out": "/abs/run"}`; paths
    /// absolute): what a run records in every checkpoint's manifest, and what `--resume` reads
    /// back. Numbers are written as a manifest stores them (an integral Double as an integer), so
    /// that a recorded config and a new one compare value for value.
    public func json(keys: [ConfigKey]) -> JSONValue {
        var sections: [String: [String: JSONValue]] = [:]
        var top: [String: JSONValue] = [:]
        for key in keys {
            guard let value = key.get(self).map(Self.json) else { continue }
            if key.section.isEmpty { top[key.name] = value } else { sections[key.section, default: [:]][key.name] = value }
        }
        for (name, entries) in sections { top[name] = .object(entries) }
        let value = JSONValue.object(top)
        // Through JSON text and back: the representation a manifest read from disk has.
        guard let data = try? JSONEncoder().encode(value), let back = try? JSONDecoder().decode(JSONValue.self, from: data)
        else { return value }
        return back
    }

    private static func json(_ value: Any) -> JSONValue {
        switch value {
        case let v as Int: return .int(Int64(v))
        case let v as UInt64: return v <= UInt64(Int64.max) ? .int(Int64(v)) : .uint(v)
        case let v as Double: return .double(v)
        case let v as Float: return .double(Double("\(v)") ?? Double(v))   // 0.1, not 0.10000000149
        case let v as Bool: return .bool(v)
        case let v as String: return .string(v)
        case let v as [String]: return .array(v.map(JSONValue.string))
        case let v as any RawRepresentable<String>: return .string(v.rawValue)
        default: return .string("\(value)")
        }
    }

    /// The entries of a config recorded by `json(keys:)` (a resumed run's settings), each with
    /// `source`; keys this build does not know are left out (the resume check names them).
    static func entries(recorded json: JSONValue, source: SettingSource) -> [String: ConfigReader.Entry] {
        guard case let .object(top) = json else { return [:] }
        var entries: [String: ConfigReader.Entry] = [:]
        func add(_ path: String, _ value: JSONValue) {
            guard ConfigSchema.key(path) != nil, let node = node(value) else { return }
            entries[path] = ConfigReader.Entry(node: node, source: source, base: nil)
        }
        for (name, value) in top {
            if case let .object(members) = value {
                for (key, member) in members { add("\(name).\(key)", member) }
            } else {
                add(name, value)
            }
        }
        return entries
    }

    /// A JSON value as the YAML node a config file would hold.
    private static func node(_ value: JSONValue) -> Node? {
        func plain(_ text: String) -> Node { .scalar(.init(text, .implicit, .plain)) }
        switch value {
        case .null, .object: return nil
        case let .bool(v): return plain(v ? "true" : "false")
        case let .int(v): return plain("\(v)")
        case let .uint(v): return plain("\(v)")
        case let .double(v): return plain("\(v)")
        case let .string(v): return .scalar(.init(v, .implicit, .doubleQuoted))
        case let .array(items): return .sequence(.init(items.compactMap(node)))
        }
    }
}
