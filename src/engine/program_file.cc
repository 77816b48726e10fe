#include "engine/program_file.h"

#include <elf.h>

#include <algorithm>
#include <cstring>

namespace guise::engine {

std::optional<Shebang> parse_shebang(std::string_view head) {
  if (head.size() < 2 || head[0] != '#' || head[1] != '!') return std::nullopt;
  size_t end = head.find('\n');
  std::string_view line = head.substr(2, end == std::string_view::npos ? std::string_view::npos : end - 2);
  Shebang s;
  s.crlf = !line.empty() && line.back() == '\r';
  size_t b = line.find_first_not_of(" \t");
  if (b == std::string_view::npos) return s;
  line.remove_prefix(b);
  // The kernel splits the interpreter from its one argument at the first blank; a '\r' is
  // no blank to it, so "/bin/sh\r" is the name it looks for.
  size_t e = line.find_first_of(" \t");
  s.interpreter = std::string(line.substr(0, e));
  return s;
}

namespace {

template <class T>
bool read_at(std::string_view f, uint64_t off, T& out) {
  if (off > f.size() || f.size() - off < sizeof(T)) return false;
  std::memcpy(&out, f.data() + off, sizeof(T));
  return true;
}

std::string c_string_at(std::string_view f, uint64_t off) {
  if (off >= f.size()) return {};
  size_t end = f.find('\0', off);
  if (end == std::string_view::npos) return {};
  return std::string(f.substr(off, end - off));
}

// The program and dynamic headers, for one ELF class.
template <class Ehdr, class Phdr, class Dyn>
void read_segments(std::string_view f, ElfInfo& info) {
  Ehdr eh;
  if (!read_at(f, 0, eh) || eh.e_phentsize != sizeof(Phdr) || eh.e_phnum > 512) return;
  std::vector<Phdr> ph;
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    Phdr p;
    if (!read_at(f, eh.e_phoff + uint64_t(i) * sizeof(Phdr), p)) return;
    ph.push_back(p);
  }
  // A virtual address of a loaded segment → where it lies in the file.
  auto file_offset = [&](uint64_t vaddr) -> std::optional<uint64_t> {
    for (const auto& p : ph)
      if (p.p_type == PT_LOAD && vaddr >= p.p_vaddr && vaddr - p.p_vaddr < p.p_filesz)
        return vaddr - p.p_vaddr + p.p_offset;
    return std::nullopt;
  };
  for (const auto& p : ph) {
    if (p.p_type == PT_INTERP && p.p_offset < f.size()) {
      size_t n = std::min<uint64_t>(p.p_filesz, f.size() - p.p_offset);
      std::string s(f.substr(p.p_offset, n));
      info.interp = s.substr(0, s.find('\0'));
    }
  }
  for (const auto& p : ph) {
    if (p.p_type != PT_DYNAMIC) continue;
    std::vector<uint64_t> needed, paths;
    std::optional<uint64_t> strtab;
    for (uint64_t off = p.p_offset; off + sizeof(Dyn) <= p.p_offset + p.p_filesz; off += sizeof(Dyn)) {
      Dyn d;
      if (!read_at(f, off, d) || d.d_tag == DT_NULL) break;
      if (d.d_tag == DT_NEEDED) needed.push_back(d.d_un.d_val);
      if (d.d_tag == DT_STRTAB) strtab = file_offset(d.d_un.d_ptr);
      if (d.d_tag == DT_RUNPATH || d.d_tag == DT_RPATH) paths.push_back(d.d_un.d_val);
    }
    if (!strtab) break;
    for (uint64_t n : needed)
      if (auto s = c_string_at(f, *strtab + n); !s.empty()) info.needed.push_back(s);
    for (uint64_t n : paths) {
      std::string s = c_string_at(f, *strtab + n);
      for (size_t start = 0; start <= s.size();) {
        size_t colon = s.find(':', start);
        if (colon == std::string::npos) colon = s.size();
        if (colon > start) info.runpath.push_back(s.substr(start, colon - start));
        start = colon + 1;
      }
    }
    break;
  }
}

}  // namespace

std::optional<ElfInfo> parse_elf(std::string_view f) {
  if (f.size() < EI_NIDENT + 4 || std::memcmp(f.data(), ELFMAG, SELFMAG) != 0) return std::nullopt;
  ElfInfo info;
  info.is64 = f[EI_CLASS] == ELFCLASS64;
  uint16_t machine = 0;
  if (!read_at(f, 18, machine)) return std::nullopt;  // e_machine, the same offset in both classes
  if (f[EI_DATA] != ELFDATA2LSB) machine = uint16_t((machine >> 8) | (machine << 8));
  info.machine = machine;
  // Headers are read only for an ELF this host could run (same byte order as the host).
  if (f[EI_DATA] == ELFDATA2LSB && runs_on_host(machine)) {
    if (info.is64) read_segments<Elf64_Ehdr, Elf64_Phdr, Elf64_Dyn>(f, info);
    else read_segments<Elf32_Ehdr, Elf32_Phdr, Elf32_Dyn>(f, info);
  }
  return info;
}

std::string elf_machine_name(uint16_t m) {
  switch (m) {
    case EM_X86_64: return "x86-64";
    case EM_AARCH64: return "arm64";
    case EM_ARM: return "arm (32-bit)";
    case EM_386: return "x86 (32-bit)";
    case EM_RISCV: return "riscv64";
    case EM_PPC64: return "ppc64le";
    case EM_S390: return "s390x";
    case EM_MIPS: return "mips";
    case 258: return "loongarch64";  // EM_LOONGARCH
    default: return "machine " + std::to_string(m);
  }
}

uint16_t host_elf_machine() {
#if defined(__x86_64__)
  return EM_X86_64;
#elif defined(__aarch64__)
  return EM_AARCH64;
#elif defined(__riscv)
  return EM_RISCV;
#elif defined(__powerpc64__)
  return EM_PPC64;
#elif defined(__s390x__)
  return EM_S390;
#else
  return 0;
#endif
}

bool runs_on_host(uint16_t machine) {
  uint16_t host = host_elf_machine();
  if (host == 0 || machine == host) return true;
  return (host == EM_X86_64 && machine == EM_386) || (host == EM_AARCH64 && machine == EM_ARM);
}

}  // namespace guise::engine
