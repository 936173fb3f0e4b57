"""Evidence photos: accept a citizen's JPEG/PNG/WebP, hand back a clean re-encoded JPEG.

A photo attached to a sanggahan may carry the sender's GPS position in its EXIF, which for a
whistle-blower reporting a neighbour is the one thing that must never reach staff or disk.
It may also be hostile: a renamed PDF, a polyglot with HTML or a ZIP after the image, or a
decompression bomb whose header promises billions of pixels. So nothing the citizen sent is
kept: we check the magic bytes ourselves, let Pillow open only the three formats we allow,
refuse absurd dimensions before any pixel is decoded, and encode the pixels into a brand-new
JPEG with no metadata at all. What is stored is only what we wrote.

Pure: no Flask, no database. ``store`` and ``path_for`` touch only the directory given.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import resource
import secrets
import select
import signal
import struct
import time
import warnings
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import IO

from PIL import Image, ImageOps, UnidentifiedImageError

# Pillow's plugin names for Image.open(formats=...). Listing them keeps every other decoder
# (EPS via Ghostscript, TIFF, ICO, the dozens of legacy formats) out of reach of upload bytes.
_PILLOW_FORMATS = ("JPEG", "PNG", "WEBP")

_JPEG_MAGIC = b"\xff\xd8\xff"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# Images we recognise but do not take, so the citizen is told "use JPEG/PNG/WebP" rather
# than "this is not a picture". HEIC matters most: it is what an iPhone camera saves.
_OTHER_IMAGE_PREFIXES = (
    b"GIF87a",
    b"GIF89a",
    b"BM",
    b"II*\x00",  # TIFF, little-endian
    b"MM\x00*",  # TIFF, big-endian
    b"II+\x00",  # BigTIFF
    b"MM\x00+",
)
_HEIF_BRANDS = frozenset(
    {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}
)

# Decoder failures on data whose magic bytes looked right. Pillow itself treats SyntaxError,
# IndexError, TypeError and struct.error as "broken file" inside Image.open; load() adds
# OSError ("image file is truncated"), ValueError and EOFError.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, struct.error)

_BOMB = (Image.DecompressionBombError, Image.DecompressionBombWarning)

# Modes whose samples exceed 8 bits; convert("RGB") would clip them to white.
_WIDE_GREY_MODES = frozenset({"I", "I;16", "I;16L", "I;16B", "I;16N"})

_KEY = re.compile(r"[0-9a-f]{32}\.jpg")
_READ_CHUNK = 64 * 1024


class PhotoError(StrEnum):
    """Why a file was refused. Views translate these; they never echo the file."""

    EMPTY = "empty"
    TOO_LARGE = "too_large"
    NOT_IMAGE = "not_image"
    FORMAT = "format"
    TOO_MANY_PIXELS = "too_many_pixels"
    CORRUPT = "corrupt"
    UNPROCESSABLE = "unprocessable"  # over the CPU or memory budget of one photo


class PhotoRejected(ValueError):
    def __init__(self, reason: PhotoError) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class CleanPhoto:
    data: bytes  # freshly encoded JPEG, no metadata at all
    width: int
    height: int
    sha256: str  # of data


@dataclass(frozen=True, slots=True)
class Limits:
    """What one photo may cost. The defaults fit a 16 MP phone camera with room to spare."""

    max_bytes: int = 5 * 1024 * 1024
    max_pixels: int = 17_000_000
    # A camera photo holds at least a byte per few pixels; a file that promises hundreds of
    # pixels per byte is a flat drawing or a bomb (a 5 KB PNG of 40 M one-bit pixels).
    max_pixels_per_byte: int = 250
    max_side: int = 2048
    quality: int = 82


# Below this, any size-to-pixels ratio is fine (icons, small screenshots).
_DENSITY_FLOOR = 1_000_000


def sanitise(stream: IO[bytes], limits: Limits | None = None, **overrides: int) -> CleanPhoto:
    """Check an uploaded photo and re-encode it as a metadata-free JPEG. Raises PhotoRejected.

    The output keeps only pixels: EXIF orientation is applied first so the picture stays
    upright, then EXIF (GPS), XMP, ICC, comments and anything after the image's end are gone,
    because the JPEG is written from a new image that never saw the input's metadata.
    ``overrides`` replace single limits (``max_bytes=...``).
    """
    limits = _limits(limits, overrides)
    return _sanitise_bytes(_read_checked(stream, limits), limits)


def sanitise_isolated(
    stream: IO[bytes],
    limits: Limits | None = None,
    *,
    cpu_seconds: int = 5,
    memory_bytes: int = 512 * 1024 * 1024,
    **overrides: int,
) -> CleanPhoto:
    """``sanitise`` in a forked child with a CPU-time and an address-space limit.

    Decoding is where a hostile file costs: a few KB can ask for seconds of CPU and hundreds
    of MB. In the child, a file over either limit is killed by the kernel (SIGXCPU,
    MemoryError); the worker that serves the request only waits, up to a wall-clock
    deadline, and answers "cannot be processed". Linux/Unix only (fork, setrlimit).
    """
    limits = _limits(limits, overrides)
    data = _read_checked(stream, limits)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child; its result is checked through the pipe
        os.close(read_end)
        try:
            _limit_child(cpu_seconds, memory_bytes)
            payload = _child_result(data, limits)
            with os.fdopen(write_end, "wb") as out:
                out.write(payload)
        finally:
            os._exit(0)  # no atexit handlers, no flushing of the parent's buffers
    os.close(write_end)
    try:
        # a child that waits instead of computing (stuck on I/O) spends no CPU time either
        payload = _read_until(read_end, deadline=time.monotonic() + 2 * cpu_seconds + 1)
    finally:
        os.close(read_end)
        _reap(pid)
    return _parse_result(payload)


def _limits(limits: Limits | None, overrides: dict[str, int]) -> Limits:
    limits = limits or Limits()
    return replace(limits, **overrides) if overrides else limits


def _read_checked(stream: IO[bytes], limits: Limits) -> bytes:
    data = _read_capped(stream, limits.max_bytes + 1)
    if not data:
        raise PhotoRejected(PhotoError.EMPTY)
    if len(data) > limits.max_bytes:
        raise PhotoRejected(PhotoError.TOO_LARGE)
    return data


def _sanitise_bytes(data: bytes, limits: Limits) -> CleanPhoto:
    kind = _sniff(data)
    if kind == "WEBP":
        _check_webp_canvas(data, limits)

    # Pillow warns (DecompressionBombWarning) between MAX_IMAGE_PIXELS and twice that, and
    # warns about odd files ("Corrupt EXIF data" inside open(), a malformed MPO). A warning
    # must neither escape (pytest and strict deployments turn warnings into errors) nor let a
    # bomb through, so the bomb warning becomes an error and the rest are silenced. Our own
    # max_pixels check in _decode does not depend on this: catch_warnings is process-wide
    # state and not thread-safe, so it is a second line of defence, not the first.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            clean = _decode(data, limits)
        except _BOMB:
            raise PhotoRejected(PhotoError.TOO_MANY_PIXELS) from None
    return _encode(clean, limits.quality)


def _check_pixels(width: int, height: int, size: int, limits: Limits) -> None:
    pixels = width * height
    if pixels > limits.max_pixels:
        raise PhotoRejected(PhotoError.TOO_MANY_PIXELS)
    if pixels > max(_DENSITY_FLOOR, size * limits.max_pixels_per_byte):
        raise PhotoRejected(PhotoError.TOO_MANY_PIXELS)


# --- the child of sanitise_isolated -------------------------------------------------------
# One message on the pipe: b"K" + width, height (4 bytes each) + the JPEG, or b"R" + the
# reason. Nothing else crosses, so the parent trusts no object the child built.


def _limit_child(cpu_seconds: int, memory_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    # The child starts with the worker's whole address space mapped: the budget comes on top.
    with open("/proc/self/statm") as fh:
        mapped = int(fh.read().split()[0]) * resource.getpagesize()
    limit = mapped + memory_bytes
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _child_result(data: bytes, limits: Limits) -> bytes:
    try:
        clean = _sanitise_bytes(data, limits)
    except PhotoRejected as exc:
        return b"R" + exc.reason.value.encode()
    except MemoryError:
        return b"R" + PhotoError.UNPROCESSABLE.value.encode()
    return b"K" + struct.pack(">II", clean.width, clean.height) + clean.data


def _read_until(fd: int, *, deadline: float) -> bytes:
    chunks: list[bytes] = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return b""
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            return b""
        chunk = os.read(fd, _READ_CHUNK)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _reap(pid: int) -> None:
    """Kill the child if it is still running (past the deadline) and collect it."""
    with contextlib.suppress(ProcessLookupError):
        done, _status = os.waitpid(pid, os.WNOHANG)
        if done == 0:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def _parse_result(payload: bytes) -> CleanPhoto:
    if payload[:1] == b"K" and len(payload) > 9:
        width, height = struct.unpack(">II", payload[1:9])
        data = payload[9:]
        return CleanPhoto(data, width, height, hashlib.sha256(data).hexdigest())
    reason = PhotoError.UNPROCESSABLE  # killed (CPU or memory), or past the deadline
    if payload[:1] == b"R":
        with contextlib.suppress(ValueError):
            reason = PhotoError(payload[1:].decode())
    raise PhotoRejected(reason)


def store(photo: CleanPhoto, directory: Path) -> str:
    """Write a sanitised photo under a fresh random name; return that name (the key).

    The name never comes from the upload, so it cannot collide, traverse or reveal the
    citizen's file name. O_EXCL refuses to overwrite, and the mode is set explicitly because
    the process umask would otherwise decide who may read evidence.
    """
    directory.mkdir(mode=0o750, parents=True, exist_ok=True)
    key = f"{secrets.token_hex(16)}.jpg"
    path = directory / key
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o640)
    try:
        os.fchmod(fd, 0o640)
        with os.fdopen(fd, "wb", closefd=False) as fh:
            fh.write(photo.data)
            fh.flush()
            os.fsync(fh.fileno())  # the key goes into a committed row; the bytes must exist
    except BaseException:
        os.close(fd)
        path.unlink(missing_ok=True)
        raise
    os.close(fd)
    return key


def path_for(directory: Path, key: str) -> Path:
    """Path of a stored photo. Raises ValueError unless key is exactly what store() makes.

    Keys reach us from the database and URLs; only 32 lowercase hex digits and ".jpg" are
    accepted, so "../", absolute paths and stray names can never leave the directory.
    """
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise ValueError("invalid photo key")
    return directory / key


def _read_capped(stream: IO[bytes], limit: int) -> bytes:
    """Read up to limit bytes, looping because a raw stream may return short reads."""
    chunks: list[bytes] = []
    remaining = limit
    while remaining > 0:
        chunk = stream.read(min(remaining, _READ_CHUNK))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _sniff(data: bytes) -> str:
    """Format from magic bytes, before Pillow sees anything; raises NOT_IMAGE or FORMAT.

    The extension and Content-Type are the sender's claim; the first bytes are the file's.
    """
    if data.startswith(_JPEG_MAGIC):
        return "JPEG"
    if data.startswith(_PNG_MAGIC):
        return "PNG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data.startswith(_OTHER_IMAGE_PREFIXES) or (
        data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS
    ):
        raise PhotoRejected(PhotoError.FORMAT)
    raise PhotoRejected(PhotoError.NOT_IMAGE)


def _webp_canvas(data: bytes) -> tuple[int, int] | None:
    """Canvas size from a WebP's first chunk (VP8 / VP8L / VP8X), or None if unreadable."""
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack_from("<HH", data, 26)
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(data) >= 30:
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    return None


def _check_webp_canvas(data: bytes, limits: Limits) -> None:
    """Refuse a WebP bomb before Image.open: Pillow's WebP plugin creates libwebp's decoder,
    which allocates the whole canvas, inside open(), and only errors (not warns) up to then.
    """
    size = _webp_canvas(data)
    if size is None:
        raise PhotoRejected(PhotoError.CORRUPT)
    _check_pixels(size[0], size[1], len(data), limits)


def _decode(data: bytes, limits: Limits) -> Image.Image:
    """Open, size-check, decode the first frame and return a fresh, upright, small RGB image."""
    try:
        opened = Image.open(io.BytesIO(data), formats=_PILLOW_FORMATS)
    except UnidentifiedImageError:
        raise PhotoRejected(PhotoError.NOT_IMAGE) from None
    except _DECODE_ERRORS:
        raise PhotoRejected(PhotoError.CORRUPT) from None
    with opened as im:
        width, height = im.size  # from the header; nothing decoded yet
        if width < 1 or height < 1:
            raise PhotoRejected(PhotoError.CORRUPT)
        _check_pixels(width, height, len(data), limits)
        try:
            # A JPEG can be decoded at 1/2, 1/4 or 1/8 scale for almost nothing; ask for
            # at least twice the final size (as Image.thumbnail does) to keep quality.
            im.draft(None, _draft_size(im.size, limits.max_side))
            im.load()  # first frame only: animations and MPO pairs stop here
        except _DECODE_ERRORS:
            raise PhotoRejected(PhotoError.CORRUPT) from None
        _upright(im)
        work = _normalise_mode(im)
        work.thumbnail((limits.max_side, limits.max_side), Image.Resampling.LANCZOS)
        return _fresh_rgb(work)


def _draft_size(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    scale = min(1.0, max_side / max(size))
    return max(1, int(size[0] * scale * 2)), max(1, int(size[1] * scale * 2))


def _upright(im: Image.Image) -> None:
    """Apply the EXIF orientation in place.

    Broken EXIF is common on cheap phones and is no reason to lose the evidence: if the tags
    cannot be parsed, the photo is kept as stored, unrotated.
    """
    try:
        ImageOps.exif_transpose(im, in_place=True)
    except _DECODE_ERRORS:
        return


def _normalise_mode(im: Image.Image) -> Image.Image:
    """RGB, or RGBA if there is transparency to flatten. May return im itself."""
    if im.mode in _WIDE_GREY_MODES:
        # 16-bit grey PNG: scale to 8 bits, or convert() clips every pixel to white.
        return im.convert("I").point(lambda v: v / 256).convert("RGB")
    if im.has_transparency_data:
        return im if im.mode == "RGBA" else im.convert("RGBA")
    return im if im.mode == "RGB" else im.convert("RGB")


def _fresh_rgb(work: Image.Image) -> Image.Image:
    """Copy the pixels into a new image whose .info is empty.

    Not cosmetic: convert() and copy() carry .info along, and Pillow's JPEG writer falls
    back to im.info["comment"] when saving, so a reused image could smuggle the input's
    comment (or, in other writers, its EXIF/ICC) into the output.
    """
    clean = Image.new("RGB", work.size, (255, 255, 255))
    if work.mode == "RGBA":
        clean.paste(work, mask=work.getchannel("A"))  # flatten transparency onto white
    else:
        clean.paste(work)
    return clean


def _encode(clean: Image.Image, quality: int) -> CleanPhoto:
    out = io.BytesIO()
    clean.save(out, "JPEG", quality=quality, optimize=True, progressive=True)
    data = out.getvalue()
    return CleanPhoto(
        data=data,
        width=clean.width,
        height=clean.height,
        sha256=hashlib.sha256(data).hexdigest(),
    )
