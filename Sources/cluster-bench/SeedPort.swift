import Glibc
import Synchronization

/// A faithful port of the seed's Rust "cluster", made to compile and not to overflow: the data
/// is materialized as an array, cut into one chunk per worker and copied into each worker, one
/// thread per worker sums its copy, and a mutex guards the shared total. Only the arithmetic is
/// widened (the seed's i32 overflows); the architecture is the seed's.
enum SeedPort {
    struct Worker {
        let data: [Int32]
        func process() -> UInt128 { data.reduce(UInt128(0)) { $0 &+ UInt128(Int64($1) * Int64($1)) } }
    }

    static func run(lo: Int32, hi: Int32, workers: Int) -> UInt128 {
        let data = Array(lo...hi)  // the seed's `(1..=100).collect()`
        let chunkSize = (data.count + workers - 1) / workers
        let cluster = stride(from: 0, to: data.count, by: chunkSize).map {
            Worker(data: Array(data[$0..<min($0 + chunkSize, data.count)]))  // `chunk.to_vec()`
        }
        let result = Mutex<UInt128>(0)
        var threads: [pthread_t] = []
        final class Box: @unchecked Sendable {
            let work: () -> Void
            init(_ work: @escaping () -> Void) { self.work = work }
        }
        for worker in cluster {
            let box = Box { let partial = worker.process(); result.withLock { $0 &+= partial } }
            var thread = pthread_t()
            pthread_create(&thread, nil, { raw in
                Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue().work()
                return nil
            }, Unmanaged.passRetained(box).toOpaque())
            threads.append(thread)
        }
        for thread in threads { pthread_join(thread, nil) }
        return result.withLock { $0 }
    }
}
