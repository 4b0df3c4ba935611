import Glibc

/// Medians and spreads of repeated measurements; ratios are always of medians taken in one run.
struct Sample {
    var values: [Double] = []

    mutating func add(_ value: Double) { values.append(value) }

    var median: Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }

    /// (max − min) / median, as a percentage: how noisy the runs were.
    var spreadPercent: Double {
        guard let lo = values.min(), let hi = values.max(), median > 0 else { return .nan }
        return (hi - lo) / median * 100
    }
}

/// Writes a line at once, unbuffered, so results survive an interrupted run.
func emit(_ line: String = "") {
    line.utf8CString.withUnsafeBufferPointer { _ = write(1, $0.baseAddress, $0.count - 1) }
    _ = write(1, "\n", 1)
}

/// A Markdown table printed as it is built, so partial results survive an interrupted run.
struct Table {
    let columns: [String]

    init(_ title: String, _ columns: [String]) {
        self.columns = columns
        emit("\n### \(title)\n")
        emit("| " + columns.joined(separator: " | ") + " |")
        emit("|" + columns.map { _ in " --- " }.joined(separator: "|") + "|")
    }

    func row(_ cells: String...) { emit("| " + cells.joined(separator: " | ") + " |") }
}

/// A measurement that could not be taken; the message says which.
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
