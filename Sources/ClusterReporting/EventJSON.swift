import ClusterEngine

/// An event as `--json` writes it: its kind and its fields beside the sentence people read.
///
/// The kind is the event's case name (`workerKilled`, `chunkRequeued`, …) and the fields are
/// its values under their names (a duration as `duration`, since `seconds` is when it happened):
/// a worker, job or attempt is its number, a range is `[lo, hi]`,
/// a 128-bit total a decimal string, an unknown value `null`. Where the event ends or loses an
/// attempt, `outcome` says how, in the timeline's words. docs/json.md lists them.
public enum EventJSON {
    public static func object(_ event: ClusterEvent) -> JSONValue {
        var fields: [String: JSONValue] = [
            "type": .string("event"),
            "version": .int(Int64(HeadlessReport.formatVersion)),
            "sequence": .int(Int64(event.sequence)),
            "seconds": .double(event.seconds),
            "message": .string(event.message),
        ]
        let (kind, values) = parts(of: event.kind)
        fields["kind"] = .string(kind)
        for (name, value) in values {
            // An event's own duration must not overwrite when it happened.
            fields[name == "seconds" ? "duration" : name] = value
        }
        if let outcome = outcome(of: event.kind) { fields["outcome"] = .string(outcome) }
        return .object(fields)
    }

    /// The case name and its labelled values; an unlabelled id is named by its type (`worker`,
    /// `job`), any other unlabelled value `value`.
    static func parts(of kind: ClusterEventKind) -> (String, [(String, JSONValue)]) {
        let mirror = Mirror(reflecting: kind)
        guard let child = mirror.children.first, let name = child.label else { return ("\(kind)", []) }
        let payload = Mirror(reflecting: child.value)
        if payload.displayStyle == .tuple {
            return (name, payload.children.map { element in
                (element.label.flatMap { $0.hasPrefix(".") ? nil : $0 } ?? unlabelledName(element.value), json(element.value))
            })
        }
        return (name, [(unlabelledName(child.value), json(child.value))])
    }

    static func unlabelledName(_ value: Any) -> String {
        switch value {
        case is WorkerID: "worker"
        case is JobID: "job"
        case is AttemptID: "attempt"
        default: "value"
        }
    }

    static func json(_ value: Any) -> JSONValue {
        switch value {
        case let id as WorkerID: return .int(Int64(id.rawValue))
        case let id as JobID: return .int(Int64(id.rawValue))
        case let id as AttemptID: return .int(Int64(clamping: id.rawValue))
        case let text as String: return .string(text)
        case let flag as Bool: return .bool(flag)
        case let number as Int: return .int(Int64(number))
        case let number as Int32: return .int(Int64(number))
        case let number as Int64: return .int(number)
        case let number as Double: return number.isFinite ? .double(number) : .null
        case let total as UInt128: return .string(String(total))
        case let range as ClosedRange<Int64>: return .array([.int(range.lowerBound), .int(range.upperBound)])
        case let reason as BenchReason: return .string(reason.rowText)
        case let ids as [WorkerID]: return .array(ids.map { .int(Int64($0.rawValue)) })
        case let hosts as [String?]: return .array(hosts.map { $0.map(JSONValue.string) ?? .null })
        default:
            // An optional: its value, or null.
            let mirror = Mirror(reflecting: value)
            if mirror.displayStyle == .optional {
                return mirror.children.first.map { json($0.value) } ?? .null
            }
            return .string("\(value)")
        }
    }

    /// How an attempt ended or was lost, where the event says so (as the timeline says it).
    static func outcome(of kind: ClusterEventKind) -> String? {
        switch kind {
        case .workerKilled(_, let chunk): chunk == nil ? nil : "killed"
        case .leaseExpired(_, let chunk, _): chunk == nil ? nil : "leaseLost"
        case .remoteWorkerDisconnected(_, let chunk): chunk == nil ? nil : "disconnected"
        case .staleResultDiscarded: "stale"
        case .wrongSumRefused: "refused"
        case .backupRaceWon: "superseded"
        case .chunkSplit: "split"
        default: nil
        }
    }
}
