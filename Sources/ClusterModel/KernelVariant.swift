import CSumKernels

/// The kernel's instruction-set variants: the same algorithm compiled for each vector width
/// (`CSumKernels`). The best one this CPU supports is chosen at start, so one binary runs at the
/// hardware's limit on any x86-64 or arm64 machine; `--kernel` forces one.
public enum KernelVariant: String, CaseIterable, Sendable, CustomStringConvertible, Codable {
    /// One element at a time, vectorization off: the yardstick.
    case scalar
    /// The x86-64 baseline: 128-bit SSE2 vectors.
    case sse2
    /// 256-bit AVX2 vectors.
    case avx2
    /// 512-bit AVX-512 vectors.
    case avx512
    /// AVX-512 IFMA: a 52-bit multiply-add squares eight elements in one instruction, whole
    /// (Ice Lake and later Intel, AMD Zen 4 and later).
    case ifma
    /// arm64's 128-bit NEON vectors.
    case neon

    public var description: String { rawValue }

    package var cVariant: ct_kernel_variant {
        switch self {
        case .scalar: CT_KERNEL_SCALAR
        case .sse2, .neon: CT_KERNEL_BASELINE
        case .avx2: CT_KERNEL_AVX2
        case .avx512: CT_KERNEL_AVX512
        case .ifma: CT_KERNEL_IFMA
        }
    }

    /// Whether this machine can run it.
    public var isSupported: Bool {
        #if arch(x86_64)
        if self == .neon { return false }
        #elseif arch(arm64)
        if self != .scalar, self != .neon { return false }
        #else
        if self != .scalar { return false }
        #endif
        return ct_kernel_supported(cVariant) != 0
    }

    /// The variants this machine can run, slowest first.
    public static var supported: [KernelVariant] { allCases.filter(\.isSupported) }

    /// The fastest variant this machine supports.
    public static let best: KernelVariant = [.ifma, .avx512, .avx2, .neon, .sse2].first(where: \.isSupported) ?? .scalar

    /// The supported variant after this one, slowest after fastest: the dashboard's K.
    public var next: KernelVariant {
        let supported = Self.supported
        guard let i = supported.firstIndex(of: self) else { return Self.best }
        return supported[(i + 1) % supported.count]
    }

    /// Parses a `--kernel` value: `auto` or a variant this machine supports; otherwise a message
    /// that says what to do.
    public static func parse(_ text: String) throws(InputError) -> KernelVariant {
        if text == "auto" { return best }
        guard let variant = KernelVariant(rawValue: text) else {
            throw InputError("unknown kernel '\(text)'; use auto or one of: "
                             + allCases.map(\.rawValue).joined(separator: ", "))
        }
        guard variant.isSupported else {
            throw InputError("this CPU cannot run the \(variant) kernel; it can run: "
                             + supported.map(\.rawValue).joined(separator: ", ") + " (or auto)")
        }
        return variant
    }
}
