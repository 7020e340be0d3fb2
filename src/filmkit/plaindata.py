"""What crosses from the sandbox to the judge: plain data, as a JSON tree.

Student cells run in a sandboxed process; the instructor's test cells run in a judge process that
never runs student code. The only thing that crosses is the values of the names a test reads, and
only if they are *plain data*. :func:`encode` runs in the sandbox and turns such a value into a
JSON-serialisable tree; :func:`decode` runs in the judge, treats that tree as hostile, and rebuilds
genuine built-in, numpy and pandas objects from it.

Plain data
----------
A value is plain data when it is, exactly:

* ``None``, ``bool``, ``int``, ``float`` (NaN, ±inf and -0.0 included, bit for bit), ``complex``,
  ``str``, ``bytes``;
* a numpy scalar of any non-object type (``np.int64``, ``np.longlong``, ``np.float32``,
  ``np.bool_``, ``np.str_``, ``np.bytes_``, ``np.datetime64``, ``np.timedelta64``, ``np.void``…),
  decoded as the same numpy type;
* ``pd.Timestamp`` (unit and time zone kept), ``pd.Timedelta``, ``pd.Period``, ``pd.Interval``,
  ``pd.NaT``, ``pd.NA``;
* a ``list``, ``tuple``, ``dict``, ``set`` or ``frozenset`` of plain data (dict keys are any
  plain hashable value: str, int, float, bool, None, tuples of these...);
* a ``numpy.ndarray`` of any shape: any non-object dtype (numeric, bool, str ``U``, bytes ``S``,
  void and structured, datetime64, timedelta64, either byte order) as raw bytes; object dtype
  element by element, each element plain data; numpy's variable-width ``StringDType``;
* a ``pandas.Series``, ``pandas.DataFrame`` or ``pandas.Index`` (``RangeIndex``, ``Index`` of every
  supported dtype, ``MultiIndex``, ``DatetimeIndex`` with its freq, ``TimedeltaIndex``,
  ``CategoricalIndex``, ``IntervalIndex``, ``PeriodIndex``), with names, index, columns, column
  order and ``allows_duplicate_labels``. Supported column dtypes: every numpy dtype pandas holds
  (object columns element by element), pandas' string dtypes (``"str"`` and ``StringDtype`` with
  their storage and NA value), ``category``, tz-aware ``datetime64`` (zoneinfo zones and fixed
  offsets), nullable ``Int*``/``UInt*``/``Float*``/``boolean``, ``interval`` and ``period``.
  ``attrs`` are not sent;
* a pandas array of those dtypes (``pd.Categorical``, as ``pd.cut`` of a list returns;
  ``pd.array(...)``; ``Series.array``).

The exact-type rule: every check is ``type(v) is T``, never ``isinstance``. A subclass of ``int``,
``str``, ``list``, ``dict``, ``DataFrame``, ``ndarray``... (a ``Counter``, an ``OrderedDict``, a
class overriding ``__eq__``) is not plain data and is refused, and so is anything else: functions,
classes, modules, generators, ``datetime.date``, ``Decimal``... The same rule applies inside
containers, object columns and object arrays. Refusing happens on ``type(v)`` alone, so
:func:`encode` never calls a method a student could have written; it calls numpy and pandas
methods only on objects whose type is exactly a numpy or pandas type.

Wire format
-----------
``encode`` returns the envelope ``{"plain": 1, "value": NODE}``. A NODE is:

* JSON ``null``/``true``/``false``, a string, a finite float, or an int in [-2**63, 2**63):
  ``None``, ``bool``, ``str``, ``float``, ``int`` themselves;
* otherwise a JSON object tagged by ``"t"``, with exactly the fields listed (``D`` is a dtype,
  ``B`` base64 of raw bytes, ``I`` an index node, ``C`` a column node, ``A`` an ``ndarray``
  node)::

    {"t": "float", "bits": "7ff8000000000000"}            non-finite float, IEEE bits in hex
    {"t": "int", "hex": "-1f..."}                          int outside the 64-bit range
    {"t": "complex", "re": F, "im": F}                     F: a finite float or a float node
    {"t": "bytes", "b64": B}
    {"t": "list"|"tuple"|"set"|"frozenset", "items": [NODE...]}
    {"t": "dict", "keys": [NODE...], "values": [NODE...]}  insertion order
    {"t": "np", "dtype": D, "b64": B}                      numpy scalar (not str_/bytes_)
    {"t": "npstr", "v": str}   {"t": "npbytes", "b64": B}  np.str_, np.bytes_
    {"t": "ndarray", "dtype": D, "shape": [int...], "order": "C"|"F", "b64": B}
    {"t": "objarray", "shape": [int...], "items": [NODE...]}          C order
    {"t": "strarray", "shape": [...], "na": null|"none"|"nan"|"NA", "coerce": bool,
     "items": [str|null...]}                                          StringDType
    {"t": "NA"}   {"t": "NaT"}
    {"t": "timestamp", "unit": "s"|"ms"|"us"|"ns", "value": int, "tz": TZ|null}  value: UTC
    {"t": "timedelta", "unit": ..., "value": int}
    {"t": "period", "ordinal": int, "freq": str}
    {"t": "interval", "left": NODE, "right": NODE, "closed": "right"|"left"|"both"|"neither"}
    {"t": "series", "name": NODE, "index": I, "values": C, "dup": bool}
    {"t": "frame", "index": I, "columns": I, "data": [C...], "dup": bool}
    {"t": "array", "values": C}                            a pandas array
    I: {"t": "range", "start": int, "stop": int, "step": int, "name": NODE}
       {"t": "index", "name": NODE, "values": C, "freq": str|null}
       {"t": "multi", "names": [NODE...], "levels": [I...], "codes": [A...]}
    C: an "ndarray" or "objarray" node (1-D; numpy dtypes), or
       {"t": "categorical", "categories": I, "ordered": bool, "codes": A}
       {"t": "string", "storage": "python"|"pyarrow", "na": "nan"|"NA", "items": [str|null...]}
       {"t": "masked", "data": A, "mask": A}                nullable Int*/UInt*/Float*/boolean
       {"t": "datetimetz", "utc": A, "tz": TZ}             datetime64[unit] of the UTC instants
       {"t": "intervals", "left": C, "right": C, "closed": str}
       {"t": "periods", "ordinals": A, "freq": str}
    TZ: {"zone": "Europe/Paris"} | {"offset_us": int, "name": str|null}
    D:  "<f8", "<q", "|b1", "<M8[ns]", "<U5", "|S3", "|V8"... (byte order + type character
        for numbers, so ``np.longlong`` stays ``np.longlong``; numpy's ``dtype.str`` otherwise), or
        {"names": [...], "formats": [D...], "offsets": [...], "titles": [str|null...],
         "itemsize": int, "aligned": bool} for a structured dtype, or
        {"base": D, "shape": [...]} for a sub-array field.

Index nodes are also value nodes (an ``Index`` answer). Column nodes only occur inside series,
frames and indexes. The tree may hold strings with lone surrogates (Python allows them): serialise
it with ``json.dumps``' default ``ensure_ascii=True``.

Limits
------
* Depth: at most :data:`MAX_DEPTH` (100) nested nodes, counting every node the format nests
  (a list in a list is two; a Series adds its index and column nodes). A value that contains
  itself is refused by this limit.
* Count: at most :data:`MAX_ITEMS` (2,000,000) values encoded one by one (elements of lists,
  dicts, sets, object arrays and object or string columns); numeric arrays count as one.
* Size: ``max_bytes`` (default :data:`DEFAULT_MAX_BYTES`, 64 MiB) of encoded output, estimated
  before any raw bytes are copied; an array or range may not have more elements than that either.

``decode`` applies the same limits, so whatever ``encode`` accepts, ``decode`` accepts.

Errors
------
* :class:`NotPlainData` (a ``TypeError``) from ``encode``: the message names the answer and where
  in it the offending value is (``genre_counts[2]['drama'] is a Foo object; an answer must be plain
  data: ...``), or says it is too large or nested too deeply.
* :class:`MalformedData` (a ``ValueError``) from ``decode``, for anything that ``encode`` would
  not have produced: unknown tags, missing or extra fields, wrong field types, non-canonical
  forms, lengths that disagree with shapes and indexes, dtypes other than the ones above, limits
  exceeded. ``decode`` never evaluates, unpickles or imports anything named in its input (dtype
  strings are matched against a fixed pattern before numpy parses them; a time zone key is looked
  up with ``zoneinfo``); every other exception, and every warning, raised while rebuilding a value
  becomes ``MalformedData``. ``decode`` turns warnings into errors with ``warnings.catch_warnings``,
  which is process-global: call it from one thread at a time.
"""

from __future__ import annotations

import abc
import base64
import binascii
import datetime
import math
import re
import struct
import types
import warnings
import zoneinfo
from collections.abc import Callable
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

# ---- plain data: the codec

PLAIN_FORMAT: Final = 1
DEFAULT_MAX_BYTES: Final = 64 << 20
MAX_DEPTH: Final = 100
MAX_ITEMS: Final = 2_000_000

Json = Any  # a JSON-serialisable tree: dict, list, str, int, float, bool, None

_PLAIN_SENTENCE: Final = (
    "an answer must be plain data: a DataFrame, Series, ndarray, str, int, float, bool, None, "
    "or a list, tuple or dict of these"
)
_INT_MIN: Final = -(1 << 63)
_INT_END: Final = 1 << 63


class NotPlainData(TypeError):
    """encode: the value is not plain data, or is too large or too deeply nested to send."""


class MalformedData(ValueError):
    """decode: the tree is not one that encode produces."""


# ---- encode


class _Refused(Exception):
    """Raised inside the encoder; encode() turns it into NotPlainData with the answer's name.

    ``path`` collects where the offending value sits, innermost first, as the recursion unwinds
    (so the happy path pays nothing for it)."""

    def __init__(self, what: str, hint: str = _PLAIN_SENTENCE) -> None:
        super().__init__(what)
        self.what = what
        self.hint = hint
        self.path: list[tuple[str, Any]] = []


class _Limit(Exception):
    """A limit was exceeded; str() says which: "too large", "too many" or "too deep"."""


_KEY: Final = ("key", None)
_MEMBER: Final = ("member", None)

# type.__dict__ descriptors read the C slots directly: a metaclass cannot intercept them.
_type_name: Callable[[type], str] = type.__dict__["__name__"].__get__
_type_mro: Callable[[type], tuple[type, ...]] = type.__dict__["__mro__"].__get__

_KIND_PHRASES: Final[tuple[tuple[type, str], ...]] = (
    (types.FunctionType, "a function"),
    (types.BuiltinFunctionType, "a function"),
    (types.MethodType, "a method"),
    (types.LambdaType, "a function"),
    (types.ModuleType, "a module"),
    (types.GeneratorType, "a generator"),
    (types.CoroutineType, "a coroutine"),
    (types.AsyncGeneratorType, "an async generator"),
    (range, "a range"),
    (map, "a map iterator"),
    (filter, "a filter iterator"),
    (zip, "a zip iterator"),
    (enumerate, "an enumerate iterator"),
)

# For a subclass of a plain type: the base named in the message, and how to convert.
_SUBCLASS_HINTS: Final[tuple[tuple[type, str, str], ...]] = (
    (bool, "bool", "bool"),
    (int, "int", "int"),
    (float, "float", "float"),
    (complex, "complex", "complex"),
    (str, "str", "str"),
    (bytes, "bytes", "bytes"),
    (list, "list", "list"),
    (tuple, "tuple", "tuple"),
    (dict, "dict", "dict"),
    (set, "set", "set"),
    (frozenset, "frozenset", "frozenset"),
    (np.ndarray, "numpy.ndarray", "numpy.asarray"),
    (pd.DataFrame, "pandas.DataFrame", "pandas.DataFrame"),
    (pd.Series, "pandas.Series", "pandas.Series"),
    (pd.Index, "pandas.Index", "pandas.Index"),
)


def _describe(v: object) -> str:
    t = type(v)
    for known, phrase in _KIND_PHRASES:
        if t is known:
            return phrase
    mro = _type_mro(t)
    # not isinstance(v, type): isinstance falls back to reading v.__class__, which v controls
    if any(base is type for base in mro):
        return "a class"
    name = _type_name(t)
    if len(name) > 60:
        name = name[:57] + "..."
    article = "an" if name[:1] in tuple("AEIOUaeiou") else "a"
    for base in mro[1:]:
        for plain, base_name, convert in _SUBCLASS_HINTS:
            if base is plain:
                return (
                    f"{article} {name} object (a subclass of {base_name}, which is not plain "
                    f"data: convert it with {convert}(...))"
                )
    return f"{article} {name} object"


def _where(name: str, path: list[tuple[str, Any]]) -> tuple[str, str]:
    """The place named in a refusal, and the verb ("is" or "contains")."""
    where = name
    segments = path[::-1]
    for n, (kind, arg) in enumerate(segments):
        if kind in ("key", "member"):
            where = f"{'a key' if kind == 'key' else 'an element'} of {where}"
            return where, ("is" if n == len(segments) - 1 else "contains")
        if kind == "col":
            nxt = segments[n + 1] if n + 1 < len(segments) else None
            if nxt is not None and nxt[0] == "row":
                segments[n + 1] = ("text", f".iloc[{nxt[1]}, {arg}]")
            else:
                where += f".iloc[:, {arg}]"
        elif kind == "row":
            where += f".iloc[{arg}]"
        else:
            where += arg
    return where, "is"


_SAFE_KEY_TYPES: Final = (str, int, float, bool, type(None), bytes)


def _key_text(key: object, position: int) -> str:
    """The subscript naming a dict value in a message; repr only of key types whose repr is
    genuine (the key was already encoded, so it is plain, but keep messages short)."""
    if _is_one_of(type(key), _SAFE_KEY_TYPES):
        text = repr(key)
        if len(text) <= 40:
            return f"[{text}]"
    return f" (value {position})"


def _float_node(v: float) -> Json:
    if math.isfinite(v):
        return v
    return {"t": "float", "bits": struct.pack(">d", v).hex()}


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _dtype_spec(dt: np.dtype[Any], depth: int) -> Json:
    if depth > MAX_DEPTH:
        raise _Limit("too deep")
    if dt.names is not None:
        fields = dt.fields
        assert fields is not None
        formats, offsets, titles = [], [], []
        for field in dt.names:
            entry = fields[field]
            title = entry[2] if len(entry) > 2 else None
            if title is not None and type(title) is not str:
                raise _Refused(
                    "an ndarray whose structured dtype has a field title that is not a str",
                    "structured dtypes may only have str titles",
                )
            formats.append(_dtype_spec(entry[0], depth + 1))
            offsets.append(int(entry[1]))
            titles.append(title)
        return {
            "names": list(dt.names),
            "formats": formats,
            "offsets": offsets,
            "titles": titles,
            "itemsize": dt.itemsize,
            "aligned": bool(dt.isalignedstruct),
        }
    if dt.subdtype is not None:
        base, shape = dt.subdtype
        return {"base": _dtype_spec(base, depth + 1), "shape": [int(n) for n in shape]}
    kind = dt.kind
    if kind in "iufc":
        return dt.str[0] + dt.char
    if kind in "bMmUSV":
        return dt.str
    raise _Refused(f"an ndarray of dtype {dt}", "that dtype cannot be sent")


def _tz_spec(tz: object) -> Json:
    t = type(tz)
    if t is zoneinfo.ZoneInfo:
        key = tz.key  # type: ignore[attr-defined]
        if type(key) is str and _ZONE_KEY.fullmatch(key):
            return {"zone": key}
    elif t is datetime.timezone:
        offset = tz.utcoffset(None)  # type: ignore[attr-defined]
        micros = (offset.days * 86400 + offset.seconds) * 1_000_000 + offset.microseconds
        label = tz.tzname(None)  # type: ignore[attr-defined]
        default = datetime.timezone(offset).tzname(None)
        return {"offset_us": micros, "name": None if label == default else label}
    raise _Refused(
        f"a time zone of type {_type_name(t)}",
        "time zones must be zoneinfo zones (such as 'Europe/Paris'), UTC or fixed offsets",
    )


_MASKED_DTYPES: Final = (
    pd.Int8Dtype,
    pd.Int16Dtype,
    pd.Int32Dtype,
    pd.Int64Dtype,
    pd.UInt8Dtype,
    pd.UInt16Dtype,
    pd.UInt32Dtype,
    pd.UInt64Dtype,
    pd.Float32Dtype,
    pd.Float64Dtype,
    pd.BooleanDtype,
)
_MASKED_ARRAYS: Final = (pd.arrays.IntegerArray, pd.arrays.FloatingArray, pd.arrays.BooleanArray)


def _string_array_types() -> tuple[type, ...]:
    found: list[type] = [
        type(pd.array([], dtype=pd.StringDtype("python", na))) for na in (pd.NA, np.nan)
    ]
    try:
        from pandas.core.arrays import string_arrow

        found.append(string_arrow.ArrowStringArray)
    except ImportError:  # pragma: no cover - depends on the pandas build
        pass
    return tuple(dict.fromkeys(found))


_STRING_ARRAYS: Final = _string_array_types()
# pandas arrays that may be an answer themselves (pd.cut of a list is a Categorical)
_PANDAS_ARRAYS: Final = (
    pd.Categorical,
    *_STRING_ARRAYS,
    *_MASKED_ARRAYS,
    pd.arrays.DatetimeArray,
    pd.arrays.TimedeltaArray,
    pd.arrays.IntervalArray,
    pd.arrays.PeriodArray,
    pd.arrays.NumpyExtensionArray,
)
_INDEX_TYPES: Final = (
    pd.Index,
    pd.DatetimeIndex,
    pd.TimedeltaIndex,
    pd.CategoricalIndex,
    pd.IntervalIndex,
    pd.PeriodIndex,
)


def _is_one_of(t: type, allowed: tuple[type, ...]) -> bool:
    # identity only: `t in allowed` would call a metaclass's __eq__
    return any(t is a for a in allowed)


def _is_numpy_dtype(dt: object) -> bool:
    return any(base is np.dtype for base in _type_mro(type(dt)))


# pandas' own date offsets; a freq of any other class (a student's DateOffset subclass) would
# run student code when asked for its freqstr
_OFFSET_TYPES: Final = tuple(
    v
    for v in vars(pd.offsets).values()
    if isinstance(v, type) and issubclass(v, pd.offsets.BaseOffset)
)


def _freq_text(freq: object) -> str | None:
    if freq is None:
        return None
    if not _is_one_of(type(freq), _OFFSET_TYPES):
        raise _Refused(
            f"a frequency of type {_type_name(type(freq))}",
            "frequencies must be pandas' own date offsets",
        )
    text: str = freq.freqstr  # type: ignore[attr-defined]
    return text


class _Budget:
    """The bytes and values one encode or decode may still use; each side says how it fails."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.budget = max_bytes
        self.items = MAX_ITEMS

    def spend(self, n: int) -> None:
        self.budget -= n
        if self.budget < 0:
            raise self.over("bytes")

    def count(self, n: int) -> None:
        self.items -= n
        if self.items < 0:
            raise self.over("items")

    def over(self, limit: str) -> Exception:
        raise NotImplementedError


class _Encoder(_Budget):
    def over(self, limit: str) -> Exception:
        return _Limit("too large" if limit == "bytes" else "too many")

    def value(self, v: object, depth: int) -> Json:
        if depth > MAX_DEPTH:
            raise _Limit("too deep")
        self.items -= 1
        if self.items < 0:
            raise _Limit("too many")
        t = type(v)
        if t is str:
            s: str = v  # type: ignore[assignment]
            self.spend(len(s) + 3 if s.isascii() else 6 * len(s) + 3)
            return s
        if t is int:
            self.spend(24)
            i: int = v  # type: ignore[assignment]
            if _INT_MIN <= i < _INT_END:
                return i
            self.spend(i.bit_length() // 4)
            return {"t": "int", "hex": format(i, "x")}
        if t is float:
            self.spend(24)
            return _float_node(v)  # type: ignore[arg-type]
        if v is None or t is bool:
            self.spend(5)
            return v
        meta = type(t)
        # Hashing t for the table lookup runs its metaclass's __hash__: only type and ABCMeta
        # (pandas' datetime indexes) are trusted; any other metaclass is a student's.
        if meta is type or meta is abc.ABCMeta:
            encoder = _ENCODERS.get(t)
            if encoder is not None:
                self.spend(16)
                return encoder(self, v, depth)
        raise _Refused(_describe(v))

    # -- Python containers

    def seq(self, v: Any, depth: int, tag: str) -> Json:
        items = []
        d = depth + 1
        for i, x in enumerate(v):
            try:
                items.append(self.value(x, d))
            except _Refused as r:
                r.path.append(("text", f"[{i}]"))
                raise
        return {"t": tag, "items": items}

    def members(self, v: Any, depth: int, tag: str) -> Json:
        items = []
        d = depth + 1
        for x in v:
            try:
                items.append(self.value(x, d))
            except _Refused as r:
                r.path.append(_MEMBER)
                raise
        return {"t": tag, "items": items}

    def dict_(self, v: dict[Any, Any], depth: int) -> Json:
        keys, values = [], []
        d = depth + 1
        for n, (k, x) in enumerate(v.items()):
            try:
                keys.append(self.value(k, d))
            except _Refused as r:
                r.path.append(_KEY)
                raise
            try:
                values.append(self.value(x, d))
            except _Refused as r:
                r.path.append(("text", _key_text(k, n)))
                raise
        return {"t": "dict", "keys": keys, "values": values}

    # -- numpy

    def ndarray(self, a: np.ndarray[Any, Any], depth: int, *, column: bool = False) -> Json:
        if depth > MAX_DEPTH:
            raise _Limit("too deep")
        dt = a.dtype
        shape = [int(n) for n in a.shape]
        if a.size > self.max_bytes:
            raise _Limit("too large")
        if dt.kind == "O":
            return self.objarray(a, shape, depth, column)
        if dt.kind == "T":
            return self.strarray(a, shape)
        if dt.hasobject:
            raise _Refused(
                "an ndarray whose structured dtype has object fields",
                "structured arrays may only hold non-object fields",
            )
        spec = _dtype_spec(dt, depth + 1)
        self.spend(a.nbytes * 4 // 3 + 64)  # before tobytes copies anything
        order: Literal["C", "F"] = "C"
        if a.ndim > 1 and a.flags.f_contiguous and not a.flags.c_contiguous:
            order = "F"  # keeps a transposed array's layout, at no cost
        raw = a.tobytes(order=order)
        return {"t": "ndarray", "dtype": spec, "shape": shape, "order": order, "b64": _b64(raw)}

    def objarray(self, a: np.ndarray[Any, Any], shape: list[int], depth: int, column: bool) -> Json:
        items = []
        d = depth + 1
        flat = a.reshape(-1)
        for i in range(flat.shape[0]):
            try:
                items.append(self.value(flat[i], d))
            except _Refused as r:
                if column:  # the values of a Series, an Index or a frame's column
                    r.path.append(("row", i))
                else:
                    at = ", ".join(str(int(n)) for n in np.unravel_index(i, shape))
                    r.path.append(("text", f"[{at}]"))
                raise
        return {"t": "objarray", "shape": shape, "items": items}

    def strarray(self, a: np.ndarray[Any, Any], shape: list[int]) -> Json:
        dt: Any = a.dtype
        if not hasattr(dt, "na_object"):
            na = None
        elif dt.na_object is None:
            na = "none"
        elif dt.na_object is pd.NA:
            na = "NA"
        elif type(dt.na_object) is float and math.isnan(dt.na_object):
            na = "nan"
        else:
            raise _Refused(
                "an ndarray of StringDType with an unusual na_object",
                "a StringDType's na_object must be None, nan or pandas.NA",
            )
        items = self.str_items(a.reshape(-1).tolist(), none_for_missing=True)
        return {
            "t": "strarray",
            "shape": shape,
            "na": na,
            "coerce": bool(dt.coerce),
            "items": items,
        }

    def str_items(self, items: list[Any], *, none_for_missing: bool) -> list[Any]:
        self.count(len(items))
        size = 0
        for i, x in enumerate(items):
            if type(x) is str:
                size += len(x) + 3 if x.isascii() else 6 * len(x) + 3
            elif x is None or none_for_missing:
                items[i] = None
                size += 5
            else:
                r = _Refused(_describe(x))
                r.path.append(("row", i))
                raise r
        self.spend(size)
        return items

    def npscalar(self, v: Any, depth: int) -> Json:
        t = type(v)
        if t is np.str_:
            s = str.__str__(v)  # an exact copy; .item() would drop trailing NULs
            self.spend(len(s) + 3 if s.isascii() else 6 * len(s) + 3)
            return {"t": "npstr", "v": s}
        if t is np.bytes_:
            b = bytes.__bytes__(v)
            self.spend(len(b) * 4 // 3 + 4)
            return {"t": "npbytes", "b64": _b64(b)}
        a = np.array(v)
        if a.dtype.hasobject:
            raise _Refused("a numpy scalar with object fields")
        self.spend(a.nbytes * 4 // 3 + 64)
        return {"t": "np", "dtype": _dtype_spec(a.dtype, depth + 1), "b64": _b64(a.tobytes())}

    # -- pandas

    def frame(self, df: pd.DataFrame, depth: int) -> Json:
        d = depth + 1
        try:
            index = self.index(df.index, d)
        except _Refused as r:
            r.path.append(("text", ".index"))
            raise
        try:
            columns = self.index(df.columns, d)
        except _Refused as r:
            r.path.append(("text", ".columns"))
            raise
        data = []
        for j in range(df.shape[1]):
            try:
                data.append(self.column(df.iloc[:, j], d))
            except _Refused as r:
                r.path.append(("col", j))
                raise
        return {
            "t": "frame",
            "index": index,
            "columns": columns,
            "data": data,
            "dup": bool(df.flags.allows_duplicate_labels),
        }

    def series(self, s: pd.Series[Any], depth: int) -> Json:
        d = depth + 1
        try:
            index = self.index(s.index, d)
        except _Refused as r:
            r.path.append(("text", ".index"))
            raise
        try:
            name = self.value(s.name, d)
        except _Refused as r:
            r.path.append(("text", ".name"))
            raise
        return {
            "t": "series",
            "name": name,
            "index": index,
            "values": self.column(s, d),
            "dup": bool(s.flags.allows_duplicate_labels),
        }

    def index(self, idx: Any, depth: int) -> Json:
        if depth > MAX_DEPTH:
            raise _Limit("too deep")
        t = type(idx)
        d = depth + 1
        if t is pd.RangeIndex:
            if len(idx) > self.max_bytes:
                raise _Limit("too large")
            try:
                name = self.value(idx.name, d)
            except _Refused as r:
                r.path.append(("text", ".name"))
                raise
            return {
                "t": "range",
                "start": int(idx.start),
                "stop": int(idx.stop),
                "step": int(idx.step),
                "name": name,
            }
        if t is pd.MultiIndex:
            names, levels, codes = [], [], []
            for n, (level_name, level, level_codes) in enumerate(
                zip(idx.names, idx.levels, idx.codes, strict=True)
            ):
                try:
                    names.append(self.value(level_name, d))
                except _Refused as r:
                    r.path.append(("text", f".names[{n}]"))
                    raise
                try:
                    levels.append(self.index(level, d))
                except _Refused as r:
                    r.path.append(("text", f".levels[{n}]"))
                    raise
                codes.append(self.ndarray(level_codes, d))
            return {"t": "multi", "names": names, "levels": levels, "codes": codes}
        if _is_one_of(t, _INDEX_TYPES):
            try:
                name = self.value(idx.name, d)
            except _Refused as r:
                r.path.append(("text", ".name"))
                raise
            try:
                values = self.column(idx, d)
            except _Refused as r:
                if r.path and r.path[-1][0] == "row":
                    r.path[-1] = ("text", f"[{r.path[-1][1]}]")
                raise
            freq = None
            if t is pd.DatetimeIndex or t is pd.TimedeltaIndex:
                freq = _freq_text(idx.freq)
            return {"t": "index", "name": name, "values": values, "freq": freq}
        raise _Refused(_describe(idx))

    def column(self, obj: Any, depth: int) -> Json:
        """The values of a Series, a (non-multi) Index or a pandas array."""
        if depth > MAX_DEPTH:
            raise _Limit("too deep")
        dt = obj.dtype
        # by the MRO, not isinstance(), which would read a student ExtensionDtype's __class__
        if _is_numpy_dtype(dt) or type(obj) is pd.arrays.NumpyExtensionArray:
            values = obj.to_numpy()
            if type(values) is not np.ndarray or values.ndim != 1:
                raise _Refused(_describe(values))
            return self.ndarray(values, depth, column=True)
        d = depth + 1
        t = type(dt)
        arr = obj if _is_one_of(type(obj), _PANDAS_ARRAYS) else obj.array
        at = type(arr)
        if t is pd.CategoricalDtype and at is pd.Categorical:
            try:
                categories = self.index(dt.categories, d)
            except _Refused as r:
                r.path.append(("text", ".cat.categories"))
                raise
            return {
                "t": "categorical",
                "categories": categories,
                "ordered": bool(dt.ordered),
                "codes": self.ndarray(arr.codes, d),
            }
        if t is pd.StringDtype and _is_one_of(at, _STRING_ARRAYS):
            na = dt.na_value
            if na is pd.NA:
                na_text = "NA"
            elif type(na) is float and math.isnan(na):
                na_text = "nan"
            else:  # pragma: no cover - pandas allows no other
                raise _Refused(f"a column of dtype {dt}", "that dtype cannot be sent")
            if dt.storage not in ("python", "pyarrow"):  # pragma: no cover
                raise _Refused(f"a column of dtype {dt}", "that dtype cannot be sent")
            items = arr.to_numpy(dtype=object, na_value=None).tolist()
            return {
                "t": "string",
                "storage": str(dt.storage),
                "na": na_text,
                "items": self.str_items(items, none_for_missing=False),
            }
        if _is_one_of(t, _MASKED_DTYPES) and _is_one_of(at, _MASKED_ARRAYS):
            zero = False if t is pd.BooleanDtype else 0
            data = arr.to_numpy(dtype=dt.numpy_dtype, na_value=zero)
            return {
                "t": "masked",
                "data": self.ndarray(data, d),
                "mask": self.ndarray(np.asarray(arr.isna()), d),
            }
        if t is pd.DatetimeTZDtype and at is pd.arrays.DatetimeArray:
            return {
                "t": "datetimetz",
                "utc": self.ndarray(arr.tz_convert(None).to_numpy(), d),
                "tz": _tz_spec(dt.tz),
            }
        if t is pd.IntervalDtype and at is pd.arrays.IntervalArray:
            return {
                "t": "intervals",
                "left": self.column(arr.left, d),
                "right": self.column(arr.right, d),
                "closed": str(arr.closed),
            }
        if t is pd.PeriodDtype and at is pd.arrays.PeriodArray:
            _freq_text(dt.freq)
            return {"t": "periods", "ordinals": self.ndarray(arr.asi8, d), "freq": arr.freqstr}
        kind = "an Index" if _is_one_of(type(obj), _INDEX_TYPES) else "a column"
        raise _Refused(
            f"{kind} of an unsupported pandas dtype ({_type_name(t)}, held in {_type_name(at)})",
            "supported dtypes: numpy dtypes, str/string, category, datetime64 with a time zone, "
            "nullable Int/UInt/Float/boolean, interval and period",
        )

    def pandas_array(self, v: Any, depth: int) -> Json:
        return {"t": "array", "values": self.column(v, depth)}

    def timestamp(self, v: pd.Timestamp, depth: int) -> Json:
        tz = v.tzinfo
        return {
            "t": "timestamp",
            "unit": v.unit,
            "value": int(v.asm8.view(np.int64)),
            "tz": None if tz is None else _tz_spec(tz),
        }

    def timedelta(self, v: pd.Timedelta, depth: int) -> Json:
        return {"t": "timedelta", "unit": v.unit, "value": int(v.asm8.view(np.int64))}

    def interval(self, v: pd.Interval[Any], depth: int) -> Json:
        d = depth + 1
        try:
            left = self.value(v.left, d)
            right = self.value(v.right, d)
        except _Refused as r:
            r.path.append(("text", ".left/.right"))
            raise
        return {"t": "interval", "left": left, "right": right, "closed": str(v.closed)}


def _enc_complex(e: _Encoder, v: complex, depth: int) -> Json:
    return {"t": "complex", "re": _float_node(v.real), "im": _float_node(v.imag)}


def _enc_bytes(e: _Encoder, v: bytes, depth: int) -> Json:
    e.spend(len(v) * 4 // 3 + 4)
    return {"t": "bytes", "b64": _b64(v)}


def _enc_period(e: _Encoder, v: pd.Period, depth: int) -> Json:
    _freq_text(v.freq)
    return {"t": "period", "ordinal": int(v.ordinal), "freq": v.freqstr}


_ENCODERS: dict[type, Callable[[_Encoder, Any, int], Json]] = {
    complex: _enc_complex,
    bytes: _enc_bytes,
    list: lambda e, v, d: e.seq(v, d, "list"),
    tuple: lambda e, v, d: e.seq(v, d, "tuple"),
    set: lambda e, v, d: e.members(v, d, "set"),
    frozenset: lambda e, v, d: e.members(v, d, "frozenset"),
    dict: _Encoder.dict_,
    np.ndarray: _Encoder.ndarray,
    pd.DataFrame: _Encoder.frame,
    pd.Series: _Encoder.series,
    pd.RangeIndex: _Encoder.index,
    pd.MultiIndex: _Encoder.index,
    **dict.fromkeys(_INDEX_TYPES, _Encoder.index),
    **dict.fromkeys(_PANDAS_ARRAYS, _Encoder.pandas_array),
    pd.Timestamp: _Encoder.timestamp,
    pd.Timedelta: _Encoder.timedelta,
    pd.Interval: _Encoder.interval,
    pd.Period: _enc_period,
    type(pd.NaT): lambda e, v, d: {"t": "NaT"},
    type(pd.NA): lambda e, v, d: {"t": "NA"},
    **dict.fromkeys((np.dtype(c).type for c in np.typecodes["All"] if c != "O"), _Encoder.npscalar),
}


def encode(value: object, *, name: str, max_bytes: int = DEFAULT_MAX_BYTES) -> dict[str, Json]:
    """The JSON tree of the plain value `value` (the answer called `name`).

    Raises NotPlainData if `value` is not plain data or exceeds a limit (see the module's
    docstring); the message names the answer."""
    try:
        return {"plain": PLAIN_FORMAT, "value": _Encoder(max_bytes).value(value, 0)}
    except _Refused as r:
        where, verb = _where(name, r.path)
        raise NotPlainData(f"{where} {verb} {r.what}; {r.hint}") from None
    except _Limit as limit:
        reason = str(limit)
        if reason == "too large":
            message = (
                f"{name} is too large to send: its encoded form would exceed "
                f"{_size_text(max_bytes)} (the limit for one answer)"
            )
        elif reason == "too many":
            message = (
                f"{name} is too large to send: it holds more than {MAX_ITEMS:,} values that "
                "must be sent one by one (the limit for one answer)"
            )
        else:
            message = f"{name} is nested more than {MAX_DEPTH} levels deep (or contains itself)"
        raise NotPlainData(f"{message}; {_PLAIN_SENTENCE}") from None
    except RecursionError:  # a student may have lowered the recursion limit
        raise NotPlainData(f"{name} is nested too deeply to send; {_PLAIN_SENTENCE}") from None


def _size_text(n: int) -> str:
    if n >= 1 << 20 and n % (1 << 20) == 0:
        return f"{n >> 20} MiB"
    return f"{n:,} bytes"


# ---- decode

_SIMPLE_DTYPE: Final = re.compile(
    r"[<>|][?bhilqpBHILQPefdgFDG]"
    r"|\|b1|[<>|][US][0-9]{1,10}|\|V[0-9]{1,10}"
    r"|[<>][Mm]8(?:\[(?:[0-9]{1,6})?(?:Y|M|W|D|h|m|s|ms|us|ns|ps|fs|as)\])?"
)
_ZONE_KEY: Final = re.compile(r"[A-Za-z0-9_+\-]{1,40}(?:/[A-Za-z0-9_+\-]{1,40}){0,3}")
_FREQ: Final = re.compile(r"[A-Za-z0-9\-]{1,32}")
_HEX_INT: Final = re.compile(r"-?[1-9a-f][0-9a-f]*")
_FLOAT_BITS: Final = re.compile(r"[0-9a-f]{16}")
_UNITS: Final = ("s", "ms", "us", "ns")
_CLOSED: Final = ("right", "left", "both", "neither")


def _bad(message: str) -> MalformedData:
    return MalformedData(message)


def _fields(node: dict[str, Any], *names: str) -> None:
    if node.keys() != {"t", *names}:
        raise _bad(f"a {node['t']!r} node must have exactly the fields t, {', '.join(names)}")


def _get(node: dict[str, Any], key: str, kind: type) -> Any:
    v = node[key]
    if type(v) is not kind:
        raise _bad(f"field {key!r} of a {node.get('t')!r} node must be a {kind.__name__}")
    return v


def _get_int(node: dict[str, Any], key: str, lo: int = _INT_MIN, hi: int = _INT_END) -> int:
    v: int = _get(node, key, int)
    if not lo <= v < hi:
        raise _bad(f"field {key!r} of a {node.get('t')!r} node is out of range")
    return v


def _float_from(node: Any) -> float:
    if type(node) is float:
        if not math.isfinite(node):
            raise _bad("a bare float must be finite")
        return node
    if type(node) is dict and node.get("t") == "float":
        _fields(node, "bits")
        bits = _get(node, "bits", str)
        if not _FLOAT_BITS.fullmatch(bits):
            raise _bad("float bits must be 16 lowercase hex digits")
        v: float = struct.unpack(">d", bytes.fromhex(bits))[0]
        if math.isfinite(v):
            raise _bad("a finite float must be sent bare")
        return v
    raise _bad("expected a float")


def _shape(node: dict[str, Any], limit: int) -> tuple[list[int], int]:
    shape = _get(node, "shape", list)
    if len(shape) > 64:  # numpy's own limit
        raise _bad("an array may have at most 64 dimensions")
    count = 1
    for n in shape:
        if type(n) is not int or n < 0:
            raise _bad("a shape must be a list of non-negative ints")
        count *= n
        if count > limit:
            raise _bad("an array has more elements than the size limit allows")
    return shape, count


def _decode_b64(text: str, nbytes: int) -> bytes:
    if len(text) != 4 * ((nbytes + 2) // 3):
        raise _bad("raw data length does not match the dtype and shape")
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error as e:
        raise _bad(f"invalid base64: {e}") from None
    if len(raw) != nbytes:
        raise _bad("raw data length does not match the dtype and shape")
    return raw


def _tz_from(spec: Any) -> datetime.tzinfo:
    if type(spec) is not dict:
        raise _bad("a time zone must be an object")
    if spec.keys() == {"zone"}:
        key = spec["zone"]
        if type(key) is not str or not _ZONE_KEY.fullmatch(key) or ".." in key:
            raise _bad("invalid time zone key")
        try:
            return zoneinfo.ZoneInfo(key)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            raise _bad(f"unknown time zone {key!r}") from None
    if spec.keys() == {"offset_us", "name"}:
        micros, label = spec["offset_us"], spec["name"]
        if type(micros) is not int or not -86_400_000_000 < micros < 86_400_000_000:
            raise _bad("invalid time zone offset")
        offset = datetime.timedelta(microseconds=micros)
        if label is None:
            return datetime.timezone(offset)
        if type(label) is not str or len(label) > 64:
            raise _bad("invalid time zone name")
        return datetime.timezone(offset, label)
    raise _bad("invalid time zone")


def _need(arr: Any, kinds: str, what: str) -> np.ndarray[Any, Any]:
    if type(arr) is not np.ndarray or arr.ndim != 1 or arr.dtype.kind not in kinds:
        raise _bad(f"{what} must be a 1-D ndarray")
    return arr


class _Decoder(_Budget):
    def over(self, limit: str) -> Exception:
        if limit == "bytes":
            return _bad("the data exceeds the size limit")
        return _bad("the data holds too many values")

    def value(self, node: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise _bad(f"nested more than {MAX_DEPTH} levels deep")
        self.count(1)
        t = type(node)
        if t is str:
            self.spend(len(node))
            return node
        if t is int:
            if not _INT_MIN <= node < _INT_END:
                raise _bad("an int outside the 64-bit range must be tagged")
            return node
        if t is float:
            return _float_from(node)
        if node is None or t is bool:
            return node
        if t is not dict:
            raise _bad(f"unexpected JSON {t.__name__}")
        tag = node.get("t")
        if type(tag) is not str:
            raise _bad("a node must have a string tag 't'")
        handler = _VALUE_TAGS.get(tag)
        if handler is None:
            raise _bad(f"unknown tag {tag[:40]!r}")
        return handler(self, node, depth)

    def node(self, node: Any, what: str) -> dict[str, Any]:
        if type(node) is not dict or type(node.get("t")) is not str:
            raise _bad(f"{what} must be a tagged node")
        return node

    # -- scalars

    def float_(self, node: dict[str, Any], depth: int) -> float:
        return _float_from(node)

    def int_(self, node: dict[str, Any], depth: int) -> int:
        _fields(node, "hex")
        text = _get(node, "hex", str)
        self.spend(len(text))
        if not _HEX_INT.fullmatch(text):
            raise _bad("invalid hex int")
        v = int(text, 16)
        if _INT_MIN <= v < _INT_END:
            raise _bad("an int in the 64-bit range must be sent bare")
        return v

    def complex_(self, node: dict[str, Any], depth: int) -> complex:
        _fields(node, "re", "im")
        return complex(_float_from(node["re"]), _float_from(node["im"]))

    def bytes_(self, node: dict[str, Any], depth: int) -> bytes:
        _fields(node, "b64")
        text = _get(node, "b64", str)
        self.spend(len(text))
        try:
            return base64.b64decode(text, validate=True)
        except binascii.Error as e:
            raise _bad(f"invalid base64: {e}") from None

    def npstr(self, node: dict[str, Any], depth: int) -> np.str_:
        _fields(node, "v")
        text = _get(node, "v", str)
        self.spend(len(text))
        return np.str_(text)

    def npbytes(self, node: dict[str, Any], depth: int) -> np.bytes_:
        return np.bytes_(self.bytes_(node, depth))

    def npscalar(self, node: dict[str, Any], depth: int) -> Any:
        _fields(node, "dtype", "b64")
        dt = self.dtype(node["dtype"], depth + 1)
        if dt.kind in "US" or dt.subdtype is not None:
            raise _bad("this dtype is not sent as an 'np' scalar")
        self.spend(dt.itemsize)
        raw = _decode_b64(_get(node, "b64", str), dt.itemsize)
        arr = self.from_raw(raw, dt, [], "C")
        out = arr[()]
        if type(out) is not dt.type:
            raise _bad("the scalar does not have its dtype's type")
        return out

    def na(self, node: dict[str, Any], depth: int) -> Any:
        _fields(node)
        return pd.NA

    def nat(self, node: dict[str, Any], depth: int) -> Any:
        _fields(node)
        return pd.NaT

    def timestamp(self, node: dict[str, Any], depth: int) -> pd.Timestamp:
        _fields(node, "unit", "value", "tz")
        unit = _get(node, "unit", str)
        if unit not in _UNITS:
            raise _bad("invalid timestamp unit")
        value = _get_int(node, "value", _INT_MIN + 1)
        ts = pd.Timestamp(np.datetime64(value, unit))
        if node["tz"] is not None:
            ts = ts.tz_localize("UTC").tz_convert(_tz_from(node["tz"]))
        if type(ts) is not pd.Timestamp or ts.unit != unit:
            raise _bad("the timestamp cannot be rebuilt exactly")
        return ts

    def timedelta(self, node: dict[str, Any], depth: int) -> pd.Timedelta:
        _fields(node, "unit", "value")
        unit = _get(node, "unit", str)
        if unit not in _UNITS:
            raise _bad("invalid timedelta unit")
        td = pd.Timedelta(np.timedelta64(_get_int(node, "value", _INT_MIN + 1), unit))
        if type(td) is not pd.Timedelta or td.unit != unit:
            raise _bad("the timedelta cannot be rebuilt exactly")
        return td

    def period(self, node: dict[str, Any], depth: int) -> pd.Period:
        _fields(node, "ordinal", "freq")
        freq = _get(node, "freq", str)
        if not _FREQ.fullmatch(freq):
            raise _bad("invalid period freq")
        p = pd.Period(ordinal=_get_int(node, "ordinal", _INT_MIN + 1), freq=freq)
        if type(p) is not pd.Period or p.freqstr != freq:
            raise _bad("the period cannot be rebuilt exactly")
        return p

    def interval(self, node: dict[str, Any], depth: int) -> pd.Interval[Any]:
        _fields(node, "left", "right", "closed")
        closed = _get(node, "closed", str)
        if closed not in _CLOSED:
            raise _bad("invalid interval closed")
        left = self.value(node["left"], depth + 1)
        right = self.value(node["right"], depth + 1)
        return pd.Interval(left, right, closed=closed)

    # -- containers

    def items_of(self, node: dict[str, Any], key: str, depth: int) -> list[Any]:
        return [self.value(x, depth + 1) for x in _get(node, key, list)]

    def list_(self, node: dict[str, Any], depth: int) -> list[Any]:
        _fields(node, "items")
        return self.items_of(node, "items", depth)

    def tuple_(self, node: dict[str, Any], depth: int) -> tuple[Any, ...]:
        _fields(node, "items")
        return tuple(self.items_of(node, "items", depth))

    def set_(self, node: dict[str, Any], depth: int) -> set[Any] | frozenset[Any]:
        _fields(node, "items")
        items = self.items_of(node, "items", depth)
        out = set(items) if node["t"] == "set" else frozenset(items)
        if len(out) != len(items):
            raise _bad("a set holds duplicate elements")
        return out

    def dict_(self, node: dict[str, Any], depth: int) -> dict[Any, Any]:
        _fields(node, "keys", "values")
        keys = self.items_of(node, "keys", depth)
        values = self.items_of(node, "values", depth)
        if len(keys) != len(values):
            raise _bad("a dict has different numbers of keys and values")
        out = dict(zip(keys, values, strict=True))
        if len(out) != len(keys):
            raise _bad("a dict holds duplicate keys")
        return out

    # -- numpy

    def dtype(self, spec: Any, depth: int) -> np.dtype[Any]:
        if depth > MAX_DEPTH:
            raise _bad(f"nested more than {MAX_DEPTH} levels deep")
        if type(spec) is str:
            if not _SIMPLE_DTYPE.fullmatch(spec):
                raise _bad(f"unsupported dtype {spec[:40]!r}")
            dt = np.dtype(spec)
        elif type(spec) is dict and spec.keys() == {"base", "shape"}:
            base = self.dtype(spec["base"], depth + 1)
            sub, count = _shape(spec, self.max_bytes)
            if not sub or base.itemsize * count > self.max_bytes:
                raise _bad("invalid sub-array dtype")
            dt = np.dtype((base, tuple(sub)))
        elif type(spec) is dict and spec.keys() == {
            "names",
            "formats",
            "offsets",
            "titles",
            "itemsize",
            "aligned",
        }:
            names, formats = spec["names"], spec["formats"]
            offsets, titles = spec["offsets"], spec["titles"]
            itemsize, aligned = spec["itemsize"], spec["aligned"]
            if not (
                type(names) is list
                and type(formats) is list
                and type(offsets) is list
                and type(titles) is list
                and len(names) == len(formats) == len(offsets) == len(titles)
                and all(type(n) is str for n in names)
                and all(type(o) is int for o in offsets)
                and all(t is None or type(t) is str for t in titles)
                and type(itemsize) is int
                and 0 <= itemsize <= self.max_bytes
                and type(aligned) is bool
            ):
                raise _bad("invalid structured dtype")
            dt = np.dtype(
                {
                    "names": names,
                    "formats": [self.dtype(f, depth + 1) for f in formats],
                    "offsets": offsets,
                    "titles": titles,
                    "itemsize": itemsize,
                },
                align=aligned,
            )
        else:
            raise _bad("invalid dtype")
        if dt.hasobject or dt.itemsize > self.max_bytes:
            raise _bad("invalid dtype")
        try:
            canonical = _dtype_spec(dt, depth)
        except (_Refused, _Limit):
            raise _bad("invalid dtype") from None
        if canonical != spec:
            raise _bad(f"non-canonical dtype (numpy reads it as {canonical!r})")
        return dt

    def from_raw(
        self, raw: bytes, dt: np.dtype[Any], shape: list[int], order: str
    ) -> np.ndarray[Any, Any]:
        if dt.itemsize == 0:
            arr = np.zeros(tuple(shape), dt)
        else:
            # a bytearray makes the array writable (frombuffer on bytes would be read-only)
            flat = np.frombuffer(bytearray(raw), dt)
            if dt.kind == "b" and flat.size and flat.view(np.uint8).max() > 1:
                raise _bad("a bool array holds bytes other than 0 and 1")
            if dt.kind == "U" and flat.size:
                points = flat.view(dt.byteorder.replace("|", "=") + "u4")
                if points.max() > 0x10FFFF:
                    raise _bad("a str array holds an invalid code point")
            arr = flat.reshape(shape, order="F" if order == "F" else "C")
        return arr

    def ndarray(self, node: dict[str, Any], depth: int) -> np.ndarray[Any, Any]:
        if depth > MAX_DEPTH:
            raise _bad(f"nested more than {MAX_DEPTH} levels deep")
        tag = node["t"]
        if tag == "objarray":
            return self.objarray(node, depth)
        if tag == "strarray":
            return self.strarray(node, depth)
        _fields(node, "dtype", "shape", "order", "b64")
        dt = self.dtype(node["dtype"], depth + 1)
        if dt.subdtype is not None:
            raise _bad("an array's own dtype cannot be a sub-array dtype")
        shape, count = _shape(node, self.max_bytes)
        order = node["order"]
        if order not in ("C", "F") or (order == "F" and len(shape) < 2):
            raise _bad("invalid array order")
        nbytes = count * dt.itemsize
        self.spend(nbytes)
        raw = _decode_b64(_get(node, "b64", str), nbytes)
        return self.from_raw(raw, dt, shape, order)

    def objarray(self, node: dict[str, Any], depth: int) -> np.ndarray[Any, Any]:
        _fields(node, "shape", "items")
        shape, count = _shape(node, self.max_bytes)
        items = _get(node, "items", list)
        if len(items) != count:
            raise _bad("an object array's items do not match its shape")
        out = np.empty(count, dtype=object)
        d = depth + 1
        for i, x in enumerate(items):
            out[i] = self.value(x, d)  # one element each: a list item stays a list
        return out.reshape(shape)

    def strarray(self, node: dict[str, Any], depth: int) -> np.ndarray[Any, Any]:
        _fields(node, "shape", "na", "coerce", "items")
        shape, count = _shape(node, self.max_bytes)
        na = node["na"]
        coerce = _get(node, "coerce", bool)
        string_dtype: Any = np.dtypes.StringDType
        if na is None:
            dt = string_dtype(coerce=coerce)
        elif na in ("none", "nan", "NA"):
            missing = {"none": None, "nan": math.nan, "NA": pd.NA}[na]
            dt = string_dtype(na_object=missing, coerce=coerce)
        else:
            raise _bad("invalid StringDType na")
        items = self.str_items(node, count)
        if na is not None:
            items = [dt.na_object if x is None else x for x in items]
        elif None in items:
            raise _bad("a StringDType without na_object has no missing values")
        return np.array(items, dtype=dt).reshape(shape)

    def str_items(self, node: dict[str, Any], count: int) -> list[str | None]:
        items = _get(node, "items", list)
        if len(items) != count:
            raise _bad("the number of strings does not match the shape")
        self.count(len(items))
        size = 0
        for x in items:
            if type(x) is str:
                size += len(x)
            elif x is not None:
                raise _bad("string items must be str or null")
        self.spend(size)
        return items  # type: ignore[no-any-return]

    # -- pandas

    def column(self, node: Any, depth: int) -> Any:
        """A 1-D ndarray or pandas ExtensionArray: the values of a Series, Index or column."""
        if depth > MAX_DEPTH:
            raise _bad(f"nested more than {MAX_DEPTH} levels deep")
        node = self.node(node, "a column")
        tag = node["t"]
        d = depth + 1
        if tag in ("ndarray", "objarray"):
            arr = self.ndarray(node, depth)
            if arr.ndim != 1:
                raise _bad("a column must be 1-D")
            return arr
        if tag == "categorical":
            _fields(node, "categories", "ordered", "codes")
            categories = self.index(node["categories"], d)
            ordered = _get(node, "ordered", bool)
            codes = _need(self.ndarray(self.node(node["codes"], "codes"), d), "i", "codes")
            dtype = pd.CategoricalDtype(categories, ordered=ordered)
            cat = pd.Categorical.from_codes(codes, dtype=dtype)
            if not cat.categories.equals(categories) or cat.categories.dtype != categories.dtype:
                raise _bad("categories cannot be rebuilt exactly")
            return cat
        if tag == "string":
            _fields(node, "storage", "na", "items")
            storage, na = node["storage"], node["na"]
            if storage not in ("python", "pyarrow") or na not in ("nan", "NA"):
                raise _bad("invalid string dtype")
            items = _get(node, "items", list)
            strings = self.str_items(node, len(items))
            dt = pd.StringDtype(storage, na_value=pd.NA if na == "NA" else np.nan)
            return pd.array(strings, dtype=dt)
        if tag == "masked":
            _fields(node, "data", "mask")
            data = _need(self.ndarray(self.node(node["data"], "data"), d), "iufb", "data")
            mask = _need(self.ndarray(self.node(node["mask"], "mask"), d), "b", "a mask")
            if len(data) != len(mask):
                raise _bad("data and mask lengths differ")
            if data.dtype.kind == "b":
                return pd.arrays.BooleanArray(data, mask)
            if data.dtype.kind == "f":
                return pd.arrays.FloatingArray(data, mask)
            return pd.arrays.IntegerArray(data, mask)
        if tag == "datetimetz":
            _fields(node, "utc", "tz")
            utc = _need(self.ndarray(self.node(node["utc"], "utc"), d), "M", "utc")
            if np.datetime_data(utc.dtype)[0] not in _UNITS or np.datetime_data(utc.dtype)[1] != 1:
                raise _bad("invalid datetime unit")
            naive = pd.array(utc)
            return naive.tz_localize("UTC").tz_convert(_tz_from(node["tz"]))
        if tag == "intervals":
            _fields(node, "left", "right", "closed")
            closed = _get(node, "closed", str)
            if closed not in _CLOSED:
                raise _bad("invalid interval closed")
            left = self.column(node["left"], d)
            right = self.column(node["right"], d)
            if left.dtype != right.dtype or len(left) != len(right):
                raise _bad("interval bounds differ in dtype or length")
            return pd.arrays.IntervalArray.from_arrays(
                left,
                right,
                closed=closed,
                dtype=pd.IntervalDtype(left.dtype, closed),
            )
        if tag == "periods":
            _fields(node, "ordinals", "freq")
            ordinals = _need(
                self.ndarray(self.node(node["ordinals"], "ordinals"), d), "i", "ordinals"
            )
            freq = _get(node, "freq", str)
            if not _FREQ.fullmatch(freq) or ordinals.dtype != np.dtype(np.int64):
                raise _bad("invalid periods")
            out = pd.arrays.PeriodArray(ordinals, dtype=pd.PeriodDtype(freq))
            if out.freqstr != freq:
                raise _bad("the periods cannot be rebuilt exactly")
            return out
        raise _bad(f"unknown column tag {tag[:40]!r}")

    def index(self, node: Any, depth: int) -> pd.Index[Any]:
        if depth > MAX_DEPTH:
            raise _bad(f"nested more than {MAX_DEPTH} levels deep")
        node = self.node(node, "an index")
        tag = node["t"]
        d = depth + 1
        if tag == "range":
            _fields(node, "start", "stop", "step", "name")
            start, stop = _get_int(node, "start"), _get_int(node, "stop")
            step = _get_int(node, "step")
            if step == 0 or len(range(start, stop, step)) > self.max_bytes:
                raise _bad("invalid range")
            return pd.RangeIndex(start, stop, step, name=self.value(node["name"], d))
        if tag == "multi":
            _fields(node, "names", "levels", "codes")
            names = self.items_of(node, "names", depth)
            levels: list[Any] = [self.index(x, d) for x in _get(node, "levels", list)]
            codes: list[Any] = [
                _need(self.ndarray(self.node(x, "codes"), d), "i", "codes")
                for x in _get(node, "codes", list)
            ]
            if not levels or not len(names) == len(levels) == len(codes):
                raise _bad("a MultiIndex needs as many names, levels and codes")
            if len({len(c) for c in codes}) != 1:
                raise _bad("MultiIndex codes differ in length")
            return pd.MultiIndex(levels=levels, codes=codes, names=names, verify_integrity=True)
        if tag == "index":
            _fields(node, "name", "values", "freq")
            name = self.value(node["name"], d)
            values = self.column(node["values"], d)
            idx: pd.Index[Any] = pd.Index(
                values, dtype=values.dtype, name=name, copy=False, tupleize_cols=False
            )
            if idx.dtype != values.dtype or type(idx) is pd.MultiIndex:
                raise _bad("the index cannot be rebuilt exactly")
            freq = node["freq"]
            if freq is not None:
                if type(freq) is not str or not _FREQ.fullmatch(freq):
                    raise _bad("invalid freq")
                if type(idx) is pd.DatetimeIndex:
                    idx = pd.DatetimeIndex(idx, freq=freq)
                elif type(idx) is pd.TimedeltaIndex:
                    idx = pd.TimedeltaIndex(idx, freq=freq)
                else:
                    raise _bad("only datetime and timedelta indexes have a freq")
                if idx.freqstr != freq:
                    raise _bad("the freq cannot be rebuilt exactly")
            return idx
        raise _bad(f"unknown index tag {tag[:40]!r}")

    def index_value(self, node: dict[str, Any], depth: int) -> pd.Index[Any]:
        return self.index(node, depth)

    def pandas_array(self, node: dict[str, Any], depth: int) -> Any:
        _fields(node, "values")
        values = self.column(node["values"], depth)
        if type(values) is not np.ndarray:
            return values
        out: Any
        if values.dtype.kind in "Mm":
            out = pd.array(values, dtype=values.dtype, copy=False)
        else:
            out = pd.arrays.NumpyExtensionArray(values)
        if out.to_numpy().dtype != values.dtype:
            raise _bad("the pandas array cannot be rebuilt exactly")
        return out

    def series(self, node: dict[str, Any], depth: int) -> pd.Series[Any]:
        _fields(node, "name", "index", "values", "dup")
        d = depth + 1
        index = self.index(node["index"], d)
        name = self.value(node["name"], d)
        values = self.column(node["values"], d)
        dup = _get(node, "dup", bool)
        if len(values) != len(index):
            raise _bad("a Series' values and index differ in length")
        s: pd.Series[Any] = pd.Series(
            values, index=index, name=name, dtype=values.dtype, copy=False
        )
        if s.dtype != values.dtype:
            raise _bad("the Series cannot be rebuilt exactly")
        return s if dup else s.set_flags(allows_duplicate_labels=False)

    def frame(self, node: dict[str, Any], depth: int) -> pd.DataFrame:
        _fields(node, "index", "columns", "data", "dup")
        d = depth + 1
        index = self.index(node["index"], d)
        columns = self.index(node["columns"], d)
        data = [self.column(x, d) for x in _get(node, "data", list)]
        dup = _get(node, "dup", bool)
        n = len(index)
        if len(columns) != len(data) or any(len(col) != n for col in data):
            raise _bad("a DataFrame's columns, index and data differ in length")
        # Built on a placeholder RangeIndex, then relabelled: pandas never aligns or reindexes,
        # and object columns go in as object Series so pandas 3 does not infer "str" for them.
        placeholder = pd.RangeIndex(n)
        df = pd.DataFrame(
            {
                j: pd.Series(col, index=placeholder, dtype=object, copy=False)
                if col.dtype == object
                else col
                for j, col in enumerate(data)
            },
            index=placeholder,
            copy=False,
        )
        if any(a != col.dtype for a, col in zip(df.dtypes, data, strict=True)):
            raise _bad("the DataFrame cannot be rebuilt exactly")
        df.index = index
        df.columns = columns
        return df if dup else df.set_flags(allows_duplicate_labels=False)


_VALUE_TAGS: dict[str, Callable[[_Decoder, dict[str, Any], int], Any]] = {
    "float": _Decoder.float_,
    "int": _Decoder.int_,
    "complex": _Decoder.complex_,
    "bytes": _Decoder.bytes_,
    "list": _Decoder.list_,
    "tuple": _Decoder.tuple_,
    "set": _Decoder.set_,
    "frozenset": _Decoder.set_,
    "dict": _Decoder.dict_,
    "np": _Decoder.npscalar,
    "npstr": _Decoder.npstr,
    "npbytes": _Decoder.npbytes,
    "ndarray": _Decoder.ndarray,
    "objarray": _Decoder.ndarray,
    "strarray": _Decoder.ndarray,
    "NA": _Decoder.na,
    "NaT": _Decoder.nat,
    "timestamp": _Decoder.timestamp,
    "timedelta": _Decoder.timedelta,
    "period": _Decoder.period,
    "interval": _Decoder.interval,
    "series": _Decoder.series,
    "frame": _Decoder.frame,
    "range": _Decoder.index_value,
    "index": _Decoder.index_value,
    "multi": _Decoder.index_value,
    "array": _Decoder.pandas_array,
}


def decode(obj: object, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Any:
    """The value whose tree `obj` is (as encode made it, after a JSON round trip).

    `obj` is untrusted. Raises MalformedData for anything encode would not have produced."""
    if type(obj) is not dict or obj.keys() != {"plain", "value"}:
        raise MalformedData("expected {'plain': 1, 'value': ...}")
    if type(obj["plain"]) is not int or obj["plain"] != PLAIN_FORMAT:
        raise MalformedData(f"unsupported plain-data format {obj['plain']!r:.40}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return _Decoder(max_bytes).value(obj["value"], 0)
    except MalformedData:
        raise
    except Exception as e:  # whatever numpy or pandas object to is malformed input too
        raise MalformedData(f"cannot rebuild the value: {type(e).__name__}: {e}"[:500]) from None
