import ClusterModel

/// A bounded log of recent events; old ones fall off the front.
struct EventLog {
    private(set) var events: [ClusterEvent] = []
    private(set) var nextSequence: UInt64 = 1
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    mutating func append(_ kind: ClusterEventKind, at seconds: Double) {
        if events.count == capacity { events.removeFirst(capacity / 4) }
        events.append(ClusterEvent(sequence: nextSequence, seconds: seconds, kind: kind))
        nextSequence += 1
    }

    func events(after sequence: UInt64) -> ArraySlice<ClusterEvent> {
        guard let first = events.first else { return [] }
        let start = sequence < first.sequence ? 0 : Int(sequence - first.sequence + 1)
        return start >= events.count ? [] : events[start...]
    }
}
