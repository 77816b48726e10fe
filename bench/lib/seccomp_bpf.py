#!/usr/bin/python3
"""seccomp_bpf.py PROFILE.json OUT.bpf: compile an OCI linux.seccomp object to a raw BPF
program with libseccomp (through ctypes; Debian has no python3-seccomp in the base image),
the way runc and crun compile it, so the floor can load the same filter with one prctl and
no compiling of its own."""
import ctypes, ctypes.util, json, os, sys

lib = ctypes.CDLL(ctypes.util.find_library("seccomp") or "libseccomp.so.2", use_errno=True)
lib.seccomp_init.restype = ctypes.c_void_p
lib.seccomp_init.argtypes = [ctypes.c_uint32]
lib.seccomp_arch_resolve_name.restype = ctypes.c_uint32
lib.seccomp_arch_resolve_name.argtypes = [ctypes.c_char_p]
lib.seccomp_arch_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
lib.seccomp_release.argtypes = [ctypes.c_void_p]


class ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int),
                ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]


lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int,
                                       ctypes.c_uint, ctypes.POINTER(ArgCmp)]

SCMP_ACT_KILL, SCMP_ACT_ALLOW, SCMP_ACT_LOG = 0x00000000, 0x7FFF0000, 0x7FFC0000
OPS = {"SCMP_CMP_NE": 1, "SCMP_CMP_LT": 2, "SCMP_CMP_LE": 3, "SCMP_CMP_EQ": 4,
       "SCMP_CMP_GE": 5, "SCMP_CMP_GT": 6, "SCMP_CMP_MASKED_EQ": 7}


def action(name, errno_ret):
    if name == "SCMP_ACT_ALLOW":
        return SCMP_ACT_ALLOW
    if name == "SCMP_ACT_ERRNO":
        return 0x00050000 | (errno_ret & 0xFFFF)
    if name in ("SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD"):
        return SCMP_ACT_KILL
    if name == "SCMP_ACT_LOG":
        return SCMP_ACT_LOG
    raise SystemExit(f"seccomp_bpf: action {name} not supported here")


def main():
    prof = json.load(open(sys.argv[1]))
    default_errno = prof.get("defaultErrnoRet", 1)
    ctx = lib.seccomp_init(action(prof["defaultAction"], default_errno))
    if not ctx:
        raise SystemExit("seccomp_init failed")
    native = lib.seccomp_arch_resolve_name(b"x86_64")
    for a in prof.get("architectures", []):
        arch = lib.seccomp_arch_resolve_name(a.replace("SCMP_ARCH_", "").lower().encode())
        if arch and arch != native:
            rc = lib.seccomp_arch_add(ctx, arch)
            if rc not in (0, -17):  # -EEXIST
                raise SystemExit(f"seccomp_arch_add {a}: {rc}")
    for rule in prof["syscalls"]:
        act = action(rule["action"], rule.get("errnoRet", 1))
        args = rule.get("args") or []
        arr = (ArgCmp * max(1, len(args)))()
        for i, a in enumerate(args):
            arr[i] = ArgCmp(a["index"], OPS[a["op"]], a["value"], a.get("valueTwo", 0))
        for name in rule["names"]:
            nr = lib.seccomp_syscall_resolve_name(name.encode())
            if nr == -1:  # __NR_SCMP_ERROR: unknown to libseccomp, skipped as runc does
                continue
            rc = lib.seccomp_rule_add_array(ctx, act, nr, len(args), arr)
            if rc < 0:
                raise SystemExit(f"seccomp_rule_add {name}: {rc}")
    fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    rc = lib.seccomp_export_bpf(ctx, fd)
    os.close(fd)
    lib.seccomp_release(ctx)
    if rc < 0:
        raise SystemExit(f"seccomp_export_bpf: {rc}")


main()
