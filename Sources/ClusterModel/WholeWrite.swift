#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a buffer to a file descriptor whole, for the files a run keeps as it goes (the
/// recording, the trace): one write as a rule, more after a partial write or a signal.
public enum WholeWrite {
    /// Why `bytes` could not all be written to `descriptor` (the system's words: "No space left
    /// on device", "Broken pipe"), or nil once they were.
    public static func write(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32) -> String? {
        var offset = 0
        while offset < bytes.count {
            let written = systemWrite(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { return written < 0 ? String(cString: strerror(errno)) : "nothing could be written" }
            offset += written
        }
        return nil
    }

    #if canImport(Glibc)
    private static let systemWrite = Glibc.write
    #elseif canImport(Darwin)
    private static let systemWrite = Darwin.write
    #endif
}
