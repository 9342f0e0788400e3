"""Which CPU a PKCS#11 module was built for, read from its file header.

A 32-bit akisp11.dll cannot be loaded into a 64-bit Python (and vice versa); the loader's own
message for that ("%1 is not a valid Win32 application", "wrong ELF class") means nothing to a
user, so doctor compares architectures itself and says it plainly.
"""

from __future__ import annotations

import platform
import struct

# Normalised names: "x86", "x86_64", "arm", "arm64".
_ELF_MACHINES = {3: "x86", 62: "x86_64", 40: "arm", 183: "arm64"}
_PE_MACHINES = {0x14C: "x86", 0x8664: "x86_64", 0x1C0: "arm", 0x1C4: "arm", 0xAA64: "arm64"}
_MACHO_CPUS = {7: "x86", 0x01000007: "x86_64", 12: "arm", 0x0100000C: "arm64"}


def python_architecture() -> str:
    machine = platform.machine().lower()
    is_64 = struct.calcsize("P") == 8
    if machine in ("x86_64", "amd64", "i386", "i686", "x86"):
        return "x86_64" if is_64 else "x86"
    if machine in ("arm64", "aarch64", "armv7l", "armv8l", "arm"):
        return "arm64" if is_64 else "arm"
    return machine


def module_architectures(path: str) -> set[str]:
    """Architectures the file contains (a macOS universal binary may hold several).

    Empty when the format is not recognised: the caller then lets the loader decide.
    """
    with open(path, "rb") as f:
        head = f.read(4096)
    if head[:4] == b"\x7fELF" and len(head) >= 20:
        endian = "<" if head[5] == 1 else ">"
        (machine,) = struct.unpack_from(endian + "H", head, 18)
        return {_ELF_MACHINES.get(machine, f"elf-{machine}")}
    if head[:2] == b"MZ" and len(head) >= 0x40:
        (pe_offset,) = struct.unpack_from("<I", head, 0x3C)
        if head[pe_offset : pe_offset + 4] == b"PE\0\0":
            (machine,) = struct.unpack_from("<H", head, pe_offset + 4)
            return {_PE_MACHINES.get(machine, f"pe-{machine:#x}")}
        return set()
    if head[:4] in (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe"):  # thin Mach-O, little endian
        (cpu,) = struct.unpack_from("<I", head, 4)
        return {_MACHO_CPUS.get(cpu, f"macho-{cpu:#x}")}
    if head[:4] == b"\xca\xfe\xba\xbe":  # universal ("fat") Mach-O, big endian
        (count,) = struct.unpack_from(">I", head, 4)
        cpus = (struct.unpack_from(">I", head, 8 + 20 * i)[0] for i in range(min(count, 16)))
        return {_MACHO_CPUS.get(cpu, f"macho-{cpu:#x}") for cpu in cpus}
    return set()
