// What the first bytes of a program say about how the kernel would run it: a script's
// interpreter line, or an ELF's machine, loader (PT_INTERP) and libraries (DT_NEEDED).
// Pure: bytes in, facts out; unit-tested on crafted files.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace guise::engine {

struct Shebang {
  std::string interpreter;  // as written, a trailing '\r' kept (a CRLF script)
  bool crlf = false;        // the line ends in "\r\n"
};
// "#!/bin/sh -e\n" → {"/bin/sh"}; nullopt when the file does not start with "#!".
std::optional<Shebang> parse_shebang(std::string_view head);

struct ElfInfo {
  uint16_t machine = 0;  // e_machine
  bool is64 = false;
  std::string interp;    // PT_INTERP, "" for a static program
  std::vector<std::string> needed;  // DT_NEEDED, in order
  std::vector<std::string> runpath;  // DT_RUNPATH or DT_RPATH, split at ':'
};
// nullopt when `file` is not an ELF (or too damaged to read); a little-endian ELF of
// another machine still gives its machine. Reads only what the headers point at.
std::optional<ElfInfo> parse_elf(std::string_view file);

// "arm64", "x86-64", "arm", "x86 (32-bit)", "riscv64", ...; "machine N" for others.
std::string elf_machine_name(uint16_t machine);
// This host's e_machine (as built), and whether an ELF for `machine` runs here natively
// (x86-64 runs 32-bit x86, arm64 runs arm where the kernel allows it: not claimed wrong).
uint16_t host_elf_machine();
bool runs_on_host(uint16_t machine);

}  // namespace guise::engine
