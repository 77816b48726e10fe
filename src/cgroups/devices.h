// Device access rules as the kernel's v1 devices controller understands them, and
// the cgroup v2 eBPF program that enforces the same rules. Pure: no I/O here; the v1
// driver writes the transition lines, the v2 driver loads the program.
//
// The rules go through an emulator of v1's semantics first (as runc's devicefilter
// does): an "a" rule resets the list to allow-all or deny-all, the others add or
// remove exceptions. v1 and v2 thus enforce exactly the same set, and a rule v1
// would silently ignore (a hole punched in a wildcard exception) is an error on both.
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "oci/spec.h"
#include "sys/result.h"

namespace guise::cgroups {

// runc 1.1's AllowedDevices, in its order: mknod of any node, the standard character
// devices (null, random, full, tty, zero, urandom), the pty slaves and /dev/ptmx.
std::vector<oci::DeviceRule> default_device_rules();

// Access bits, as BPF_DEVCG_ACC_*: m = 1, r = 2, w = 4.
using DeviceAccess = uint8_t;
inline constexpr DeviceAccess kAccessMknod = BPF_DEVCG_ACC_MKNOD;
inline constexpr DeviceAccess kAccessRead = BPF_DEVCG_ACC_READ;
inline constexpr DeviceAccess kAccessWrite = BPF_DEVCG_ACC_WRITE;
inline constexpr DeviceAccess kAccessAll = kAccessMknod | kAccessRead | kAccessWrite;

struct DeviceKey {
  char type = 'c';      // 'c' or 'b'
  int64_t major = -1;   // -1: any
  int64_t minor = -1;   // -1: any
  auto operator<=>(const DeviceKey&) const = default;
};

// The devices controller's state: a default, and exceptions to it.
struct DeviceSet {
  bool default_allow = false;
  std::map<DeviceKey, DeviceAccess> exceptions;  // ordered: b before c, wildcards first
  bool operator==(const DeviceSet&) const = default;
};

// Replays `rules` in order onto `start` (a new v2 program starts from deny-all, as runc's).
// Errors name the rule's index: "devices[3]: ...".
Result<DeviceSet> emulate_device_rules(const std::vector<oci::DeviceRule>& rules, DeviceSet start = {});

// A v1 devices.list as the kernel prints it. Allow-all reads as "a *:* rwm" alone, which
// hides any deny exceptions; such a list gives default_allow with none.
Result<DeviceSet> parse_devices_list(std::string_view text);

// A devices.allow/devices.deny line per element: (allow?, "c 1:3 rwm").
struct DeviceWrite {
  bool allow = false;
  std::string line;
  bool operator==(const DeviceWrite&) const = default;
};

// What to write to move a v1 cgroup from `from` to `to` with no window in which a device
// allowed in both is refused (runc's Transition): a reset only when the default changes
// or `from` is allow-all (whose deny exceptions devices.list does not show).
std::vector<DeviceWrite> device_transition(const DeviceSet& from, const DeviceSet& to);

// The BPF_PROG_TYPE_CGROUP_DEVICE program for `set` (runc's devicefilter layout): load
// the type, access, major and minor from struct bpf_cgroup_dev_ctx into r2..r5, one
// block per exception that returns its verdict when the request matches, the default
// last. Majors and minors above INT32_MAX are refused (the jumps compare immediates).
Result<std::vector<struct bpf_insn>> device_filter_program(const DeviceSet& set);

// For messages and tests: "c 1:3 rwm", "b *:* m".
std::string device_key_line(const DeviceKey& key, DeviceAccess access);

}  // namespace guise::cgroups
