"""Messages between the judge and the jailed notebook: JSON plus NumPy arrays, never pickle.

Shipped into the jail beside ``descentlab_grader``, so it imports only the standard library
and NumPy. A message is a JSON header and an ``.npz`` payload read with ``allow_pickle=False``.
Values are JSON trees whose arrays are entries of the payload (``{"$array": "a0"}``), or, for
the arrays a call hands to the student's code, places in memory both sides map
(``{"$shared": offset}``, :class:`Arena`); tuples, sets, dicts (any keys) and non-finite floats
are tagged; anything else crosses as a handle (:class:`Peer`): ``{"$remote": id, ...}``, an
object of the kernel's that the judge reaches through a proxy, or ``{"$callback": id}``, a
test's function that the kernel's code calls back.
"""

from __future__ import annotations

import contextlib
import decimal
import io
import itertools
import json
import math
import mmap
import numbers
import os
import select
import struct
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

__all__ = ["ARENA_BYTES", "CALL_LIMIT_ENV", "RUNNER_MISSING", "RUNNER_MODULE", "SOCKET_ENV",
           "Arena", "EncodingError", "Iterated", "MessageTooLarge", "Peer", "decode", "encode",
           "error_reply", "receive", "send"]

#: Largest message accepted (bytes): a student returning a huge array is cut off.
MAX_MESSAGE = 64 * 1024 * 1024
#: Bytes of the memory the judge shares with the kernel (:class:`Arena`): a memfd, whose
#: pages cost memory only once written; far more than the checks' arrays take (kilobytes),
#: and address space every test cell's connection maps until it ends.
ARENA_BYTES = 16 * 1024 * 1024
#: A stand-in re-raises here what the student's iterator raised: descentlab.errors names
#: the student's line (sent with the error), not this module's (an instructor audit read
#: "in each(), line 126" under an error of the student's generator).
__tracebackhide__ = True
#: The torch runner's module name in the jail, beside ``descentlab_grader`` (:mod:`jail`).
RUNNER_MODULE = "descentlab_torch_runner"
#: The name the kernel imports the test cells' hook (student_side.py) by.
HOOK_MODULE = "descentlab_grader"
#: Environment variables :mod:`jail` gives the kernel: the judge's socket, and the seconds
#: one call into the student's code may take (the judge's ``Settings.call``).
SOCKET_ENV = "DESCENTLAB_JUDGE_SOCKET"
CALL_LIMIT_ENV = "DESCENTLAB_CALL_LIMIT"
#: The kernel's error for a ``run_scenario`` request when it has no torch runner. Not a
#: possible class name: any other error reply names the class of an exception raised by the
#: student's code (a red-team look raised its own ``RunnerUnavailable`` in ``step()``, and
#: its cells were "unchecked", blamed on the grading machine).
RUNNER_MISSING = "no torch runner"
_FRAME = struct.Struct("!QQ")

Header = dict[str, Any]
Arrays = dict[str, np.ndarray]
Message = tuple[Header, Arrays]


class EncodingError(TypeError):
    """A value cannot cross the boundary (an unsupported type)."""


class MessageTooLarge(ValueError):
    """A message over :data:`MAX_MESSAGE`; its text is said to the student as it is."""


class Iterated:
    """What an iterator or an iterable object of the student's yields, read where it runs
    (by ``iter()``, as Python iterates it), to cross as a stand-in of its type.

    The stand-in (:func:`_stand_in`) iterates over the items, and then raises what reading
    further raised (a red-team look: a generator that fails after the items a check reads
    failed the whole call); it is an iterator where the original is one (a bowl_gradient
    returning a generator is unpacked as one), has a ``len()`` and indexing only where the
    original type has them, and is no list: ``np.asarray`` of a generator's stand-in is an
    object, as of the generator in the notebook. Items that iterate themselves (a batch of
    a class of the student's, a generator of arrays) are read the same way, ``depth``
    levels down.
    """

    def __init__(self, name: str, items: list[Any], length: int | None, indexed: bool,
                 iterator: bool, error: Header | None) -> None:
        self.name, self.items, self.length, self.indexed = name, items, length, indexed
        self.iterator, self.error = iterator, error

    @classmethod
    def read(cls, obj: Any, most: int, readable: Callable[[Any], bool],
             describe: Callable[[Exception], Header], depth: int = 3) -> Iterated:
        """The first ``most`` items of ``obj`` (its ``len()`` taken if its type has one);
        ``readable(item)`` says which items to read the same way."""
        kind = type(obj)
        items, error = [], None
        try:
            items.extend(itertools.islice(iter(obj), most))
        except Exception as exc:  # raised when iterated that far, as in the notebook
            error = describe(exc)
        # Then the items, as a check reads them after list(islice(...)): a generator item
        # bound late sees the state its iterator ended in (a red-team look).
        items = [_read_nested(item, most, readable, describe, depth - 1) for item in items]
        length = None
        if hasattr(kind, "__len__"):
            with contextlib.suppress(Exception):  # raised only if the check asks, as there
                length = len(obj)
        return cls(kind.__name__, items, length,
                   length is not None and hasattr(kind, "__getitem__"),
                   isinstance(obj, Iterator), error)


def _read_nested(value: Any, most: int, readable: Callable[[Any], bool],
                 describe: Callable[[Exception], Header], depth: int) -> Any:
    """``value``, read as :class:`Iterated` where ``readable``, in a tuple or list too."""
    if depth <= 0:
        return value
    if readable(value):
        return Iterated.read(value, most, readable, describe, depth)
    if type(value) in (tuple, list):
        return type(value)(_read_nested(v, most, readable, describe, depth - 1)
                           for v in value)
    return value


def rebuild_error(header: Header) -> BaseException:
    """The exception a stand-in raises from its header (the judge puts its own here)."""
    return RuntimeError(f"{header.get('error')}: {header.get('message')}")


def _stand_in(name: str, items: list[Any], length: int | None, indexed: bool,
              iterator: bool, error: Header | None) -> Any:
    """An object of a class named ``name`` that behaves as :class:`Iterated` says."""
    def each() -> Iterator[Any]:
        yield from items
        if error is not None:
            raise rebuild_error(error)

    body: dict[str, Any] = {"__repr__": lambda self: f"<{name} object>"}
    if iterator:
        body["__iter__"] = lambda self: self
        body["__next__"] = lambda self: next(self._items)
    else:
        body["__iter__"] = lambda self: each()
    if length is not None:
        body["__len__"] = lambda self: length
    if indexed:
        body["__getitem__"] = lambda self, index: items[index]
    try:
        stand_in = type(name, (), body)()
    except (TypeError, ValueError):  # a name no class may have (a red-team look: "a\x00b")
        stand_in = type("object", (), body)()
    stand_in._items = each()
    return stand_in


class Arena:
    """Memory the judge and the kernel both map: the arrays a call hands to the student's code.

    The judge makes it (a memfd, handed over with the test's first message) and places each
    array of a call's arguments in it; the kernel's code gets views of those places, one
    object per place on every call (state kept by ``id(params[key])`` stays), and changes
    them there. So what the code did to the arrays it was given is read by the judge from
    the memory itself, never taken from the kernel's word: an entry the kernel reports as
    ``$shared`` *is* what that place holds (a red-team look patched ``Peer.pack`` to report
    new arrays as "changed in place", and scored the in-place points).
    """

    def __init__(self, fd: int, judge: bool, size: int = ARENA_BYTES) -> None:
        self.size, self.judge, self.used = size, judge, 0
        self.memory = mmap.mmap(fd, size)
        # offset -> (the judge's array, or None in the kernel; the view of the place)
        self.places: dict[int, tuple[np.ndarray | None, np.ndarray]] = {}
        self.offsets: dict[int, int] = {}  # id of a place's array (and view) -> its offset
        # The dicts of the calls, one object each on both sides (an honest-code sweep: a
        # Momentum that starts anew for another params dict was reset at every call):
        # the judge's by id (kept alive), the kernel's by the judge's id.
        self.dicts: dict[int, dict[Any, Any]] = {}

    def same_dict(self, tree: dict[str, Any], items: dict[Any, Any]) -> dict[Any, Any]:
        """The judge: ``tree`` (an encoded dict) marked as that dict (``items`` is the judge's
        own). The kernel: the dict kept for the judge's, holding ``items`` now."""
        if self.judge:
            self.dicts[id(items)] = items
            return {**tree, "ref": id(items)}
        ref = tree.get("ref")
        kept = self.dicts.setdefault(ref, {}) if isinstance(ref, int) else {}
        kept.clear()
        kept.update(items)
        return kept

    def _view(self, offset: int, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        count = math.prod(shape)
        if dtype.kind not in "biufc" or offset < 0 or \
                offset + count * dtype.itemsize > self.size:
            raise ValueError("malformed shared array")
        return np.frombuffer(self.memory, dtype, count, offset).reshape(shape)

    def encode(self, array: np.ndarray) -> dict[str, Any] | None:
        """The judge: ``array``'s place, its values copied in. The kernel: the place of which
        ``array`` is the view handed out, or None."""
        offset = self.offsets.get(id(array))
        if not self.judge:
            # With the view's shape and dtype now: code may change them in place
            # (`p.shape = (p.size,)` passed where a notebook's caller sees a new shape).
            return None if offset is None or self.places[offset][1] is not array \
                else {"$shared": offset, "shape": list(array.shape), "dtype": array.dtype.str}
        if offset is None or self.places[offset][1].shape != array.shape \
                or self.places[offset][1].dtype != array.dtype:
            offset = -(-self.used // 64) * 64
            if offset + array.nbytes > self.size:
                raise EncodingError("the arrays handed to your code do not fit the memory "
                                    "the grader shares with it")
            self.used = offset + max(array.nbytes, 1)
            self.places[offset] = (array, self._view(offset, array.shape, array.dtype))
            self.offsets[id(array)] = offset  # the array is kept: its id is not reused
        np.copyto(self.places[offset][1], array)
        return {"$shared": offset, "shape": list(array.shape), "dtype": array.dtype.str}

    def decode(self, tree: dict[str, Any]) -> np.ndarray:
        """The judge: its own array, holding what its place holds now (a copy if it is
        read-only and differs, or if the code changed the view's shape or dtype). The
        kernel: the view of the place (the same one each time)."""
        try:
            offset = tree["$shared"]
            shape, dtype = tuple(int(n) for n in tree["shape"]), np.dtype(str(tree["dtype"]))
        except (KeyError, TypeError, ValueError):
            raise ValueError("malformed shared array") from None
        if not isinstance(offset, int) or (offset not in self.places and self.judge):
            raise ValueError("malformed shared array")
        if self.judge:
            array = self.synced(offset)
            if (shape, dtype) == (array.shape, array.dtype):
                return array
            # Reshaped (or given another dtype) in place: what the code sees, as a copy.
            return self._view(offset, shape, dtype).copy()
        kept = self.places.get(offset)
        if kept is None or kept[1].shape != shape or kept[1].dtype != dtype:
            view = self._view(offset, shape, dtype)
            self.places[offset] = (None, view)
            self.offsets[id(view)] = offset
        return self.places[offset][1]

    def synced(self, offset: int) -> np.ndarray:
        """The judge's array of place ``offset`` after it takes what the place holds."""
        array, view = self.places[offset]
        assert array is not None
        if array.flags.writeable:
            np.copyto(array, view)
        elif not np.array_equal(array, view, equal_nan=True):
            return view.copy()
        return array

    def sync(self) -> None:
        """The judge: every array placed takes what its place holds (after a call)."""
        for offset in self.places:
            self.synced(offset)

    def close(self) -> None:
        """Unmap the memory (the connection is over), unless a view of it is still held."""
        self.places.clear()
        self.offsets.clear()
        self.dicts.clear()
        with contextlib.suppress(BufferError):
            self.memory.close()


def encode(value: Any, arrays: Arrays,
           handle: Callable[[Any], dict[str, Any]] | None = None,
           arena: Arena | None = None) -> Any:
    """Turn ``value`` into a JSON tree, moving arrays into ``arrays`` (or ``arena``).

    ``handle(obj)`` encodes what is not plain data; without it such a value
    raises :class:`EncodingError`.
    """
    def again(item: Any) -> Any:
        return encode(item, arrays, handle, arena)

    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind in "biufc":
        if arena is not None and isinstance(value, np.ndarray):
            shared = arena.encode(value)
            if shared is not None:
                return shared
        name = f"a{len(arrays)}"
        arrays[name] = np.asarray(value)
        return {"$array": name, "scalar": isinstance(value, np.generic)}
    if isinstance(value, np.ndarray) and value.dtype.kind == "O":  # (x_batch, t_batch) pairs
        return {"$objects": [again(v) for v in value.ravel().tolist()],
                "shape": list(value.shape)}
    if isinstance(value, Iterated):
        return {"$iterated": [again(v) for v in value.items],
                "type": value.name, "len": value.length, "indexed": value.indexed,
                "iterator": value.iterator, "error": value.error}
    if isinstance(value, memoryview):  # a buffer of numbers: crosses as the array it holds
        return again(np.asarray(value))
    # Other exact numbers (Fraction, SymPy's Integer and Rational) cross as what they are
    # worth, as a notebook compares them (red-team round 5: a quiz answer 29 from SymPy).
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return again(float(value))
    # A finite Decimal too (no numbers.Real, yet a number: red-team round 16's quiz answer
    # q2 = Decimal("0.0151") crossed as an object and was told "should be a number"); a NaN
    # or infinite one crosses as it did, no number to a quiz.
    if isinstance(value, decimal.Decimal) and value.is_finite():
        return again(float(value))
    # Containers are read by their built-in type's own methods: a subclass's __iter__ or
    # items() is the student's code, which runs only where the hook watches it.
    if isinstance(value, list):
        return [again(v) for v in list.__iter__(value)]
    if isinstance(value, tuple):
        return {"$tuple": [again(v) for v in tuple.__iter__(value)]}
    if isinstance(value, (set, frozenset)):
        kind = set if isinstance(value, set) else frozenset
        return {"$set": [again(v) for v in kind.__iter__(value)]}
    if isinstance(value, dict):
        tree = {"$dict": [[again(k), again(v)] for k, v in dict.items(value)]}
        return arena.same_dict(tree, value) if arena is not None and arena.judge else tree
    if handle is None:
        raise EncodingError(f"a {type(value).__name__} cannot cross to or from the notebook")
    return handle(value)


def decode(tree: Any, arrays: Arrays,
           handle: Callable[[dict[str, Any]], Any] | None = None,
           arena: Arena | None = None) -> Any:
    """Inverse of :func:`encode`; ``handle(tree)`` rebuilds ``$remote`` entries.

    An array of the payload is a writable copy each time; a ``$shared`` one is ``arena``'s
    (:meth:`Arena.decode`): the student's code sees what a notebook gives it, the same
    ``params[key]`` arrays on every call (state kept by ``id(params[key])``, as torch keys
    state by tensor).
    """
    def again(node: Any) -> Any:
        return decode(node, arrays, handle, arena)

    if isinstance(tree, list):
        return [again(v) for v in tree]
    if not isinstance(tree, dict):
        return tree
    if "$float" in tree:
        return float(tree["$float"])
    if "$array" in tree:
        data = arrays[tree["$array"]]
        return np.array(data)[()] if tree.get("scalar") else np.array(data)
    if "$shared" in tree:
        if arena is None:
            raise ValueError("malformed shared array")
        return arena.decode(tree)
    if "$tuple" in tree:
        return tuple(again(v) for v in tree["$tuple"])
    if "$set" in tree:
        return {_hashable(again(v)) for v in tree["$set"]}
    if "$dict" in tree:
        items = {_hashable(again(k)): again(v) for k, v in tree["$dict"]}
        return arena.same_dict(tree, items) if arena is not None and not arena.judge else items
    if "$objects" in tree:
        items = [again(v) for v in tree["$objects"]]
        array = np.empty(len(items), dtype=object)
        for i, item in enumerate(items):
            array[i] = item
        return array.reshape(tuple(int(n) for n in tree["shape"]))
    if "$iterated" in tree:
        length = tree.get("len")
        error = tree.get("error")
        return _stand_in(str(tree.get("type")), [again(v) for v in tree["$iterated"]],
                         None if length is None else int(length), bool(tree.get("indexed")),
                         bool(tree.get("iterator")), error if isinstance(error, dict) else None)
    if ("$remote" in tree or "$callback" in tree) and handle is not None:
        return handle(tree)
    raise EncodingError(f"unknown value in a message: {sorted(tree)}")


def _hashable(key: Any) -> Any:
    return key.item() if isinstance(key, np.generic) else key


def _read_exactly(fd: int, size: int, deadline: float | None = None) -> bytes:
    chunks, left = [], size
    while left:
        if deadline is not None and not select.select(
                [fd], [], [], max(deadline - time.monotonic(), 0.0))[0]:
            raise TimeoutError("the other side did not finish its message in time")
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the connection")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def send(fd: int, header: Header, arrays: Arrays | None = None) -> None:
    """Write one message (a JSON-able header and named arrays) to ``fd``."""
    head = json.dumps(header).encode()
    buffer = io.BytesIO()
    if arrays:
        np.savez(buffer, **arrays)
    body = buffer.getvalue()
    view = memoryview(_FRAME.pack(len(head), len(body)) + head + body)
    while view:
        view = view[os.write(fd, view):]


def receive(fd: int, deadline: float | None = None) -> Message:
    """Read one message from ``fd``; raise ``EOFError`` or ``ValueError`` if malformed, and
    ``TimeoutError`` if it is not all there by ``deadline`` (``time.monotonic()``)."""
    head_size, body_size = _FRAME.unpack(_read_exactly(fd, _FRAME.size, deadline))
    if head_size + body_size > MAX_MESSAGE:
        # Said to the student (a red-team look read "message of 312618718 bytes").
        raise MessageTooLarge(f"your code's answer was {(head_size + body_size) / 1e6:.0f} MB, "
                         f"more than the grader takes ({MAX_MESSAGE / 1e6:.0f} MB): does it "
                         "return or yield far more than it is asked for?")
    try:
        header = json.loads(_read_exactly(fd, head_size, deadline))
    except (ValueError, RecursionError):  # 200 000 "[" nest past the parser's depth
        raise ValueError("malformed message header") from None
    if not isinstance(header, dict):
        raise ValueError("malformed message header")
    arrays: Arrays = {}
    if body_size:
        body = _read_exactly(fd, body_size, deadline)
        with np.load(io.BytesIO(body), allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    return header, arrays


class Peer:
    """One side of the connection: the objects it hands out as handles, and its messages.

    A subclass defines ``handle(obj)``, which encodes an object of its own that is not
    plain data, and ``rebuild(tree)``, which decodes the other side's handle.
    """

    handle: Callable[[Any], dict[str, Any]]
    rebuild: Callable[[dict[str, Any]], Any]

    def __init__(self, fd: int, arena: Arena | None = None) -> None:
        self.fd = fd
        self.kept: dict[int, Any] = {}  # what a handle of ours names, by id
        self.arena = arena  # the arrays of the calls (see Arena)

    def pack(self, data_only: bool = False, shared: bool = False, **fields: Any) -> Message:
        """A message of encoded ``fields``; with ``data_only``, no handle may cross; with
        ``shared``, its arrays go to (the judge) or are found in (the kernel) the arena."""
        arrays: Arrays = {}
        handle = None if data_only else self.handle
        arena = self.arena if shared else None
        return {key: encode(value, arrays, handle, arena)
                for key, value in fields.items()}, arrays

    def field(self, header: Header, arrays: Arrays, key: str = "value") -> Any:
        """The decoded value of a message's ``key``."""
        return decode(header[key], arrays, self.rebuild, self.arena)

    def call_request(self, header: Header, arrays: Arrays
                     ) -> tuple[Any, list[Any], dict[str, Any]]:
        """The kept object a call request names, and the arguments it is to be called with."""
        return (self.kept[header["target"]], self.field(header, arrays, "args"),
                self.field(header, arrays, "kwargs"))


def error_reply(exc: BaseException, **extra: Any) -> Message:
    """The reply that reports ``exc``: its class name and message, as text."""
    return {"error": type(exc).__name__, "message": str(exc)[:300], **extra}, {}
