"""The graded kernel's start: no program is started and no compiled code is called directly.

Shipped into the jail as ``descentlab_guard``; :mod:`jail` starts every graded kernel as
``python -m descentlab_guard ipykernel_launcher ...``, so this runs before the kernel's
first thread and the notebook's first cell, then hands over to the kernel in the same
process. Why: the stand-ins that :mod:`answer_key` switches off are Python files, but
torch's fused update kernels are also symbols of ``libtorch_cpu.so``, and a red-team audit
called ``at::cpu::_fused_adam_`` through ``ctypes`` from an answer cell and scored full
marks; a second Python started from the notebook would have done the same unhindered.

- A seccomp filter (Linux; kept by every thread and child, and never removed) makes
  ``execve`` fail with EPERM: ``subprocess`` and ``!command`` raise ``PermissionError``,
  ``os.fork`` still works. It also refuses keyrings, extended attributes and io_uring
  (whose operations would pass the filter), and makes changing a file's mode, owner or
  times do nothing: the jailed kernel of a grader run as root is root outside its user
  namespace, the owner of the machine's ``/dev/null`` and of root's keyrings (a red-team
  audit changed a root-owned file's mode from the jail, another /dev/null's times).
  ``shutil.copy2`` still works (its mode and time changes succeed without effect). Where
  the filter cannot be set (another architecture), :func:`install` says so on stderr and
  goes on.
- An audit hook (PEP 578: once added, it cannot be removed) lets ``ctypes`` load a library
  of the read-only environment (torch does while it is imported) but not look a symbol
  up by name nor do any other operation CPython audits (read memory at an address, take
  one); a compiled module or a library loads only from the environment (not one the
  notebook wrote), and cffi's backend not at all; the hook's own code is not replaced.
  CPython does not audit making a function pointer from a number, calling one, or
  ``ctypes.memmove``: code that finds an address itself can still call compiled code, so
  the grader also flags any notebook whose code mentions ctypes or cffi
  (:func:`scans.mentions_native_code`).

Python code, NumPy, Matplotlib and torch's Python API work as before. What stays possible
is in autograder/DESIGN.md ("Threat model").

The hook keeps no state that a notebook could change: its read-only folders are literals
of its code, compiled by :func:`install`; it tests types with ``type`` and strings with
``str``'s own methods, both reached from a literal (``"".__class__``), since an event's
arguments may be objects of the notebook's making; the two global names it uses
(``RuntimeError``, ``repr``), if replaced, change only what it raises, not whether.
"""

from __future__ import annotations

import ctypes
import os
import platform
import runpy
import sys

__all__ = ["MESSAGE", "install"]

#: What a refused operation raises (it reaches the feedback as the cell's error).
MESSAGE = ("calling compiled code directly (ctypes, or a library or compiled module from "
           "outside the Python environment) is switched off while your notebook is graded: "
           "a library's compiled optimizer could stand in for your own code")

_HOOK = '''
def _descentlab_guard(event, args):
    text = "".__class__
    kind = text.__class__
    if text.__eq__(event, "object.__setattr__"):
        if kind(args[0]) is kind(lambda: None) and kind(args[1]) is text and text.__eq__(
                args[1], "__code__") and text.__eq__(args[0].__code__.co_filename, {name!r}):
            raise RuntimeError({message!r} + " (a function's code was to be replaced)")
        return
    if text.startswith(event, "ctypes.") and not text.__eq__(event, "ctypes.dlopen"):
        raise RuntimeError({message!r} + " (" + event + ")")
    if not (text.__eq__(event, "ctypes.dlopen") or text.__eq__(event, "import")):
        return
    path = args[0] if text.__eq__(event, "ctypes.dlopen") else args[1]
    if path is None:
        return  # import: a module that is not compiled; dlopen: the program itself
    if text.__eq__(event, "import") and not (kind(args[0]) is text and not text.__eq__(
            text.rpartition(args[0], ".")[2], "_cffi_backend")):
        raise RuntimeError({message!r} + " (cffi)")
    if kind(path) is text and not text.__contains__(path, "/.."):
        if not text.__contains__(path, "/") and text.__eq__(event, "ctypes.dlopen"):
            return  # a bare name: looked up in the system's library folders only
        if {inside}:
            return
    raise RuntimeError({message!r} + " (" + event + " " + repr(path)[:200] + ")")
'''

#: The hook's file name, by which it refuses to have its own code replaced.
_NAME = "<descentlab guard>"

#: The seccomp filter's constants (linux/seccomp.h, linux/filter.h, linux/audit.h) and
#: system call numbers (asm/unistd.h). The newer calls have one number on both:
#: io_uring_setup/enter/register 425-427 (its operations would pass the filter),
#: fchmodat2 452, setxattrat 463, removexattrat 466, file_setattr 469.
_COMMON_REFUSED = {425, 426, 427, 463, 466, 469}
_ARCHES = {  # platform.machine(): (AUDIT_ARCH_*, seccomp, {refused}, {done without effect})
    "x86_64": (0xC000003E, 317,
               {59, 322,  # execve, execveat
                248, 249, 250,  # add_key, request_key, keyctl
                188, 189, 190, 197, 198, 199,  # (l/f)setxattr, (l/f)removexattr
                *_COMMON_REFUSED},
               {90, 91, 268, 452, 92, 93, 94, 260,  # chmod, fchmod(at/at2), (f/l)chown(at)
                132, 235, 261, 280}),  # utime, utimes, futimesat, utimensat
    "aarch64": (0xC00000B7, 277,
                {221, 281, 217, 218, 219, 5, 6, 7, 14, 15, 16, *_COMMON_REFUSED},
                {52, 53, 452, 54, 55, 88}),
}
_LD_W_ABS, _JEQ_K, _JGE_K, _RET_K = 0x20, 0x15, 0x35, 0x06
_ALLOW, _EPERM, _NO_EFFECT = 0x7FFF0000, 0x00050000 | 1, 0x00050000
_X32 = 0x40000000  # x86-64's x32 system calls: the same numbers with this bit set


class _Instruction(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte),
                ("k", ctypes.c_uint32)]


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_Instruction))]


def _refuse_exec() -> str | None:
    """Make ``execve`` and ``execveat`` (and the calls of :data:`_ARCHES`) fail in every
    thread, now and later; why not, or None."""
    arch = _ARCHES.get(platform.machine())
    if arch is None:
        return f"no seccomp filter for {platform.machine()}"
    audit_arch, seccomp, refused, no_effect = arch
    checks = [(number, _EPERM) for number in sorted(refused)] + \
        [(number, _NO_EFFECT) for number in sorted(no_effect)]
    program = [
        (_LD_W_ABS, 0, 0, 4),            # A = the call's architecture
        (_JEQ_K, 1, 0, audit_arch),      # ours: go on; another (32-bit calls): refuse
        (_RET_K, 0, 0, _EPERM),
        (_LD_W_ABS, 0, 0, 0),            # A = the call's number
        (_JGE_K, 2 * len(checks) + 1, 0, _X32),  # x32: refuse
    ]
    for number, action in checks:        # this call: its action; else the next check
        program += [(_JEQ_K, 0, 1, number), (_RET_K, 0, 0, action)]
    program += [(_RET_K, 0, 0, _ALLOW), (_RET_K, 0, 0, _EPERM)]
    instructions = (_Instruction * len(program))(*program)
    fprog = _Program(len(program), instructions)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS: needed without privileges
        return f"prctl failed: {os.strerror(ctypes.get_errno())}"
    # seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC): all threads at once.
    if libc.syscall(seccomp, 1, 1, ctypes.byref(fprog)) != 0:
        return f"seccomp failed: {os.strerror(ctypes.get_errno())}"
    return None


def _read_only_roots() -> list[str]:
    """The folders of the Python environment (the jail shows them read-only), as given and
    resolved, and the system's library folders."""
    roots = {sys.prefix, sys.base_prefix, os.path.dirname(os.path.dirname(sys.executable))}
    roots |= {os.path.realpath(root) for root in roots}
    roots |= {"/usr", "/lib", "/lib64"}
    return sorted(root.rstrip("/") + "/" for root in roots if root)


def install() -> None:
    """Refuse, from now on, starting programs and calling compiled code directly."""
    # Looked up now, while ctypes may: the torch stubs keep their dispatcher handle alive
    # with it (answer_key._FUSED_OFF); calling a function already looked up is not audited.
    ctypes.pythonapi.Py_IncRef  # noqa: B018 - cached on pythonapi by the lookup
    problem = _refuse_exec()
    if problem is not None:
        print(f"descentlab_guard: programs can still be started ({problem})", file=sys.stderr)
    inside = " or ".join(f"text.startswith(path, {root!r})" for root in _read_only_roots())
    scope: dict[str, object] = {}
    # Compiled here: the roots become literals of its code, and its file name is its mark.
    code = compile(_HOOK.format(message=MESSAGE, inside=inside, name=_NAME), _NAME, "exec")
    exec(code, scope)
    sys.addaudithook(scope["_descentlab_guard"])


if __name__ == "__main__":  # python -m descentlab_guard MODULE ARGS...: guard, then run MODULE
    install()
    module, sys.argv = sys.argv[1], sys.argv[1:]
    runpy.run_module(module, run_name="__main__", alter_sys=True)
