/// How an array became the next one, for a recording: `drop` from its front, `keep` of what
/// follows, then `add`. A ring of recent values (a throughput history, recent attempts) moves by
/// a few at each end, so a frame costs what changed, not the whole ring.
struct ArrayDelta<Element: Codable & Equatable & Sendable>: Codable, Sendable, Equatable {
    var drop: Int
    var keep: Int
    var add: [Element]

    private enum CodingKeys: String, CodingKey { case drop = "d", keep = "k", add = "a" }

    /// `new` from `old`: `drop` is `dropHint` when given (the first of `new` is `old[dropHint]`),
    /// else the one of the first few that keeps the most.
    init(from old: [Element], to new: [Element], dropHint: Int? = nil) {
        func kept(_ drop: Int) -> Int {
            var n = 0
            while drop + n < old.count, n < new.count, old[drop + n] == new[n] { n += 1 }
            return n
        }
        var best = (drop: old.count, keep: 0)
        for drop in dropHint.map({ [$0] }) ?? Array(0...min(old.count, 16)) where drop <= old.count {
            let keep = kept(drop)
            if keep > best.keep { best = (drop, keep) }
        }
        self.drop = best.drop
        self.keep = best.keep
        add = Array(new[best.keep...])
    }

    /// The new array; nil if the delta does not fit `old` (a damaged or forged recording).
    func applied(to old: [Element]) -> [Element]? {
        guard drop >= 0, keep >= 0, drop <= old.count, keep <= old.count - drop else { return nil }
        return Array(old[drop..<(drop + keep)]) + add
    }

    var isEmpty: Bool { add.isEmpty && drop == 0 }
}

/// How an array of fixed length changed: the cells from `at` on are `set` (a timeline lane,
/// painted near its end). Different lengths: `set` is the whole new array, `at` is -1.
struct ArrayPatch<Element: Codable & Equatable & Sendable>: Codable, Sendable, Equatable {
    var at: Int
    var set: [Element]

    private enum CodingKeys: String, CodingKey { case at = "i", set = "s" }

    /// Nil when nothing changed.
    init?(from old: [Element], to new: [Element]) {
        guard old.count == new.count else {
            at = -1
            set = new
            return
        }
        guard let first = new.indices.first(where: { old[$0] != new[$0] }) else { return nil }
        let last = new.indices.last { old[$0] != new[$0] }!
        at = first
        set = Array(new[first...last])
    }

    func applied(to old: [Element]) -> [Element]? {
        if at == -1 { return set }
        guard at >= 0, at <= old.count, set.count <= old.count - at else { return nil }
        var new = old
        new.replaceSubrange(at..<(at + set.count), with: set)
        return new
    }
}
