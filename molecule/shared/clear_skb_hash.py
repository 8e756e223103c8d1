"""Lab only: make this router hash forwarded flows itself (ECMP in containers).

Why: every lab container shares one kernel, and a packet's sk_buff crosses
Docker's veth pairs and bridges from one network namespace to the next with
its hash intact: the hash the client's TCP socket gave it. Linux's L4
multipath policy (fib_multipath_hash_policy=1, set by the collection) uses an
L4 hash already on the packet as is, so the spine and then the ToR pick their
next hop from the same number: the spine sends the lower half of the hash
space to tor1, and tor1 splits at that same point, so every flow it gets goes
to one node (seen: only n1 and n3 ever answered). Across a real wire the
receiving box hashes the 5-tuple itself (or its NIC does, with its own key).

So each interface of the router running this gets a tc ingress program that
only calls bpf_set_hash_invalid(): the kernel then hashes the 5-tuple again,
as a separate box would. Three eBPF instructions, loaded through the bpf(2)
system call and attached with pyroute2 (both in the lab image), because the
image has no compiler and no bpftool. Idempotent; prints what it attached.
"""

import ctypes
import os
import platform
import struct
import sys

from pyroute2 import IPRoute

NAME = "lab_clear_hash"
SYS_BPF = {"x86_64": 321, "aarch64": 280}[platform.machine()]
BPF_PROG_LOAD = 5
BPF_PROG_TYPE_SCHED_CLS = 3
BPF_FUNC_SET_HASH_INVALID = 41
TC_H_CLSACT_INGRESS = 0xFFFFFFF2


def insn(code, imm=0):
    """One struct bpf_insn (registers and offset all zero here)."""
    return struct.pack("<BBhi", code, 0, 0, imm)


def load_program():
    """Load the program, return its file descriptor."""
    code = b"".join([
        insn(0x85, BPF_FUNC_SET_HASH_INVALID),  # call bpf_set_hash_invalid(skb in r1)
        insn(0xB7, 0),  # r0 = TC_ACT_OK
        insn(0x95),  # exit
    ])
    insns = ctypes.create_string_buffer(code, len(code))
    license_ = ctypes.create_string_buffer(b"GPL")
    log = ctypes.create_string_buffer(4096)
    # The start of union bpf_attr for BPF_PROG_LOAD: prog_type, insn_cnt,
    # insns, license, log_level, log_size, log_buf, kern_version, prog_flags,
    # prog_name; the rest stays zero.
    attr = struct.pack(
        "<IIQQIIQII16s", BPF_PROG_TYPE_SCHED_CLS, len(code) // 8,
        ctypes.addressof(insns), ctypes.addressof(license_),
        1, len(log), ctypes.addressof(log), 0, 0, NAME.encode())
    buf = ctypes.create_string_buffer(attr, 128)
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.syscall(SYS_BPF, BPF_PROG_LOAD, buf, len(buf))
    if fd < 0:
        sys.exit("bpf(BPF_PROG_LOAD): %s\n%s" % (os.strerror(ctypes.get_errno()), log.value.decode()))
    return fd


def has_program(ipr, index):
    for filt in ipr.get_filters(index=index, parent=TC_H_CLSACT_INGRESS):
        options = filt.get_attr("TCA_OPTIONS")
        if options is not None and options.get_attr("TCA_BPF_NAME") == NAME:
            return True
    return False


def main():
    fd = None
    with IPRoute() as ipr:
        for link in ipr.get_links():
            ifname = link.get_attr("IFLA_IFNAME")
            index = link["index"]
            if ifname == "lo" or has_program(ipr, index):
                continue
            if fd is None:
                fd = load_program()
            if not any(q.get_attr("TCA_KIND") == "clsact" for q in ipr.get_qdiscs(index=index)):
                ipr.tc("add", "clsact", index)
            ipr.tc("add-filter", "bpf", index, ":1", fd=fd, name=NAME,
                   parent=TC_H_CLSACT_INGRESS, classid=1, direct_action=True)
            print("attached %s to %s ingress" % (NAME, ifname))


if __name__ == "__main__":
    main()
