/// A rectangle of screen cells: where one part of the frame draws. Made by splitting the whole
/// screen (`split`), never by adding row or column numbers by hand.
public struct Rect: Equatable, Sendable {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int = 0, y: Int = 0, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = max(0, width)
        self.height = max(0, height)
    }

    /// The row below the last one.
    public var bottom: Int { y + height }
    /// The column right of the last one.
    public var right: Int { x + width }
    public var isEmpty: Bool { width == 0 || height == 0 }

    /// Row `index` (0 is the top one) as a rectangle one row high.
    public func row(_ index: Int) -> Rect { Rect(x: x, y: y + index, width: width, height: index < height ? 1 : 0) }

    /// A `width` × `height` rectangle (each at most this one's) in the middle of this one.
    public func centered(width: Int, height: Int) -> Rect {
        let w = min(self.width, width), h = min(self.height, height)
        return Rect(x: x + (self.width - w) / 2, y: y + (self.height - h) / 2, width: w, height: h)
    }

    public enum Direction: Sendable { case vertical, horizontal }

    /// How long one part of a split is, along the split's direction.
    public enum Constraint: Equatable, Sendable {
        /// Exactly this many rows (or columns), while there is room.
        case length(Int)
        /// At least this many, and a share of what is left, as `fill`.
        case min(Int)
        /// Up to this many, from what is left before any `fill` or `min` takes its share.
        case max(Int)
        /// An equal share of what is left.
        case fill
    }

    /// Splits this rectangle into one part per constraint, top to bottom (or left to right).
    /// Lengths and minimums are given first, then the maximums in order, and what is left is
    /// shared by the fills and minimums. When even the fixed parts do not fit, the last ones
    /// shrink first: the top of a screen (its header) is what stays.
    public func split(_ direction: Direction, _ constraints: [Constraint]) -> [Rect] {
        let total = direction == .vertical ? height : width
        var sizes = constraints.map { constraint -> Int in
            switch constraint {
            case .length(let n), .min(let n): return Swift.max(0, n)
            case .max, .fill: return 0
            }
        }
        var left = total - sizes.reduce(0, +)
        if left < 0 {
            for i in sizes.indices.reversed() where left < 0 {
                let cut = Swift.min(sizes[i], -left)
                sizes[i] -= cut
                left += cut
            }
        }
        for (i, constraint) in constraints.enumerated() {
            guard case .max(let n) = constraint else { continue }
            sizes[i] = Swift.min(Swift.max(0, n), left)
            left -= sizes[i]
        }
        let sharing = constraints.indices.filter {
            switch constraints[$0] {
            case .fill, .min: return true
            case .length, .max: return false
            }
        }
        if !sharing.isEmpty, left > 0 {
            for (k, i) in sharing.enumerated() {
                sizes[i] += left / sharing.count + (k < left % sharing.count ? 1 : 0)
            }
        }
        var offset = direction == .vertical ? y : x
        return sizes.map { size in
            defer { offset += size }
            return direction == .vertical
                ? Rect(x: x, y: offset, width: width, height: size)
                : Rect(x: offset, y: y, width: size, height: height)
        }
    }
}
