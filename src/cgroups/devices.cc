#include "cgroups/devices.h"

#include <climits>
#include <cstdlib>

namespace guise::cgroups {

namespace {

oci::DeviceRule allow_rule(const char* type, std::optional<int64_t> major, std::optional<int64_t> minor,
                           const char* access) {
  oci::DeviceRule r;
  r.allow = true;
  r.type = type;
  r.major = major;
  r.minor = minor;
  r.access = access;
  return r;
}

Result<DeviceAccess> parse_access(std::string_view access) {
  if (access.empty()) return kAccessAll;
  DeviceAccess bits = 0;
  for (char c : access) {
    switch (c) {
      case 'r': bits |= kAccessRead; break;
      case 'w': bits |= kAccessWrite; break;
      case 'm': bits |= kAccessMknod; break;
      default: return sys::user_error("device access \"" + std::string(access) + "\" is not a subset of rwm");
    }
  }
  return bits;
}

std::string access_text(DeviceAccess a) {
  std::string s;
  if (a & kAccessRead) s += 'r';
  if (a & kAccessWrite) s += 'w';
  if (a & kAccessMknod) s += 'm';
  return s;
}

std::string number_text(int64_t n) { return n < 0 ? "*" : std::to_string(n); }

// The emulator of the v1 devices controller (kernel security/device_cgroup.c), the
// same one runc keeps in libcontainer/cgroups/devices/devices_emulator.go.
class Emulator {
 public:
  explicit Emulator(DeviceSet start) : set_(std::move(start)) {}

  Result<void> apply(bool allow, char type, const DeviceKey& key, DeviceAccess access) {
    if (type == 'a') {  // any "a" line resets, whatever numbers follow (as the kernel reads it)
      set_ = DeviceSet{allow, {}};
      return Ok();
    }
    // An allow in an allow-all set, or a deny in a deny-all set, removes an exception.
    if (allow == set_.default_allow) return remove(key, access);
    set_.exceptions[key] |= access;
    return Ok();
  }

  DeviceSet take() { return std::move(set_); }

 private:
  // v1 only removes an exception that matches exactly; a request that would need a hole
  // in a wider exception is silently ignored by the kernel, so it is an error here.
  Result<void> remove(const DeviceKey& key, DeviceAccess access) {
    for (DeviceKey wider : {DeviceKey{key.type, -1, key.minor}, DeviceKey{key.type, key.major, -1},
                            DeviceKey{key.type, -1, -1}}) {
      if (wider == key) continue;
      auto it = set_.exceptions.find(wider);
      if (it != set_.exceptions.end() && (it->second & access))
        return sys::user_error("rule " + device_key_line(key, access) +
                               " cannot be enforced: it would punch a hole in the wider rule " +
                               device_key_line(wider, it->second) + " (the devices controller ignores that)");
    }
    auto it = set_.exceptions.find(key);
    if (it == set_.exceptions.end()) return Ok();
    it->second &= static_cast<DeviceAccess>(~access);
    if (it->second == 0) set_.exceptions.erase(it);
    return Ok();
  }

  DeviceSet set_;
};

Result<int64_t> parse_number(std::string_view s) {
  if (s == "*") return int64_t{-1};
  std::string text(s);
  char* end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || v < 0) return sys::user_error("bad device number \"" + text + "\"");
  return static_cast<int64_t>(v);
}

// --- BPF assembly, the few instructions the program needs.

struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  struct bpf_insn i {};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

struct bpf_insn load_word(uint8_t dst, uint8_t src, int16_t off) { return insn(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0); }
struct bpf_insn and32(uint8_t dst, int32_t imm) { return insn(BPF_ALU | BPF_AND | BPF_K, dst, 0, 0, imm); }
struct bpf_insn rsh32(uint8_t dst, int32_t imm) { return insn(BPF_ALU | BPF_RSH | BPF_K, dst, 0, 0, imm); }
struct bpf_insn mov32_reg(uint8_t dst, uint8_t src) { return insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0); }
struct bpf_insn mov32(uint8_t dst, int32_t imm) { return insn(BPF_ALU | BPF_MOV | BPF_K, dst, 0, 0, imm); }
struct bpf_insn jne_imm(uint8_t dst, int32_t imm) { return insn(BPF_JMP | BPF_JNE | BPF_K, dst, 0, 0, imm); }
struct bpf_insn jne_reg(uint8_t dst, uint8_t src) { return insn(BPF_JMP | BPF_JNE | BPF_X, dst, src, 0, 0); }
struct bpf_insn jeq_imm(uint8_t dst, int32_t imm) { return insn(BPF_JMP | BPF_JEQ | BPF_K, dst, 0, 0, imm); }
struct bpf_insn exit_insn() { return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }

// r2 = device type, r3 = requested access, r4 = major, r5 = minor (struct bpf_cgroup_dev_ctx).
void append_prologue(std::vector<struct bpf_insn>& p) {
  p.push_back(load_word(2, 1, 0));
  p.push_back(and32(2, 0xffff));
  p.push_back(load_word(3, 1, 0));
  p.push_back(rsh32(3, 16));
  p.push_back(load_word(4, 1, 4));
  p.push_back(load_word(5, 1, 8));
}

Result<void> append_block(std::vector<struct bpf_insn>& p, const DeviceKey& key, DeviceAccess access, bool allow) {
  if (key.major > INT32_MAX || key.minor > INT32_MAX)
    return sys::user_error("device " + device_key_line(key, access) + ": major and minor must be below 2^31");
  size_t first = p.size();
  p.push_back(jne_imm(2, key.type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR));
  if (access != kAccessAll) {
    p.push_back(mov32_reg(1, 3));
    p.push_back(and32(1, access));
    // An allow exception grants a request asking for nothing outside `access` (runc's
    // check); a deny exception refuses any request that asks for part of it, as v1's
    // match_exception_partial() does (runc applies the subset test there too).
    p.push_back(allow ? jne_reg(1, 3) : jeq_imm(1, 0));
  }
  if (key.major >= 0) p.push_back(jne_imm(4, static_cast<int32_t>(key.major)));
  if (key.minor >= 0) p.push_back(jne_imm(5, static_cast<int32_t>(key.minor)));
  p.push_back(mov32(0, allow ? 1 : 0));
  p.push_back(exit_insn());
  // Every jump in the block goes to the next block, which starts right after it.
  size_t next = p.size();
  for (size_t i = first; i < next; ++i)
    if (BPF_CLASS(p[i].code) == BPF_JMP && BPF_OP(p[i].code) != BPF_EXIT) p[i].off = static_cast<int16_t>(next - i - 1);
  return Ok();
}

}  // namespace

std::vector<oci::DeviceRule> default_device_rules() {
  return {
      allow_rule("c", std::nullopt, std::nullopt, "m"),
      allow_rule("b", std::nullopt, std::nullopt, "m"),
      allow_rule("c", 1, 3, "rwm"),    // /dev/null
      allow_rule("c", 1, 8, "rwm"),    // /dev/random
      allow_rule("c", 1, 7, "rwm"),    // /dev/full
      allow_rule("c", 5, 0, "rwm"),    // /dev/tty
      allow_rule("c", 1, 5, "rwm"),    // /dev/zero
      allow_rule("c", 1, 9, "rwm"),    // /dev/urandom
      allow_rule("c", 136, std::nullopt, "rwm"),  // /dev/pts/*
      allow_rule("c", 5, 2, "rwm"),    // /dev/ptmx
  };
}

std::string device_key_line(const DeviceKey& key, DeviceAccess access) {
  return std::string(1, key.type) + " " + number_text(key.major) + ":" + number_text(key.minor) + " " +
         access_text(access);
}

Result<DeviceSet> emulate_device_rules(const std::vector<oci::DeviceRule>& rules, DeviceSet start) {
  Emulator emu(std::move(start));
  for (size_t i = 0; i < rules.size(); ++i) {
    const auto& r = rules[i];
    std::string where = "devices[" + std::to_string(i) + "]";
    char type = r.type.empty() ? 'a' : r.type[0];
    if (r.type.size() > 1 || (type != 'a' && type != 'b' && type != 'c'))
      return sys::user_error(where + ": device type \"" + r.type + "\" is not one of a, b, c");
    DeviceAccess access = GUISE_TRY(parse_access(r.access), where);
    DeviceKey key{type, r.major && *r.major >= 0 ? *r.major : -1, r.minor && *r.minor >= 0 ? *r.minor : -1};
    GUISE_TRY(emu.apply(r.allow, type, key, access), where);
  }
  return emu.take();
}

Result<DeviceSet> parse_devices_list(std::string_view text) {
  Emulator emu(DeviceSet{});  // deny-all until an "a" line says otherwise
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.empty()) continue;
    auto sp1 = line.find(' ');
    auto colon = line.find(':');
    auto sp2 = line.rfind(' ');
    if (sp1 != 1 || colon == std::string_view::npos || sp2 <= colon || colon < sp1)
      return sys::user_error("malformed devices.list line \"" + std::string(line) + "\"");
    char type = line[0];
    if (type != 'a' && type != 'b' && type != 'c')
      return sys::user_error("malformed devices.list line \"" + std::string(line) + "\"");
    int64_t major = GUISE_TRY(parse_number(line.substr(sp1 + 1, colon - sp1 - 1)));
    int64_t minor = GUISE_TRY(parse_number(line.substr(colon + 1, sp2 - colon - 1)));
    DeviceAccess access = GUISE_TRY(parse_access(line.substr(sp2 + 1)));
    GUISE_TRY(emu.apply(true, type, DeviceKey{type, major, minor}, access));
  }
  return emu.take();
}

std::vector<DeviceWrite> device_transition(const DeviceSet& from, const DeviceSet& to) {
  std::vector<DeviceWrite> out;
  std::map<DeviceKey, DeviceAccess> old = from.exceptions;
  if (from.default_allow || from.default_allow != to.default_allow) {
    out.push_back({to.default_allow, "a *:* rwm"});
    old.clear();
  }
  // An exception no longer wanted is taken back with the rule of the default's kind ...
  for (const auto& [key, access] : old) {
    auto it = to.exceptions.find(key);
    DeviceAccess dropped = access & static_cast<DeviceAccess>(~(it == to.exceptions.end() ? 0 : it->second));
    if (dropped) out.push_back({to.default_allow, device_key_line(key, dropped)});
  }
  // ... and a new one is added with the other kind.
  for (const auto& [key, access] : to.exceptions) {
    auto it = old.find(key);
    DeviceAccess gained = access & static_cast<DeviceAccess>(~(it == old.end() ? 0 : it->second));
    if (gained) out.push_back({!to.default_allow, device_key_line(key, gained)});
  }
  return out;
}

Result<std::vector<struct bpf_insn>> device_filter_program(const DeviceSet& set) {
  std::vector<struct bpf_insn> p;
  append_prologue(p);
  for (const auto& [key, access] : set.exceptions)
    GUISE_TRY(append_block(p, key, access, !set.default_allow));
  p.push_back(mov32(0, set.default_allow ? 1 : 0));
  p.push_back(exit_insn());
  return p;
}

}  // namespace guise::cgroups
