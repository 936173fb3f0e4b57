"""Photos from a request, for the citizen's photo step and the desa operator's field check.

The count is checked before any file is decoded; each file is then checked and re-encoded by
``photos.sanitise_isolated``, in a child process with a CPU and memory budget. Every refusal
is a translated message that names the file and the limit, so the person knows which photo
to replace. Nothing here writes anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from werkzeug.datastructures import FileStorage

from portal.appeals import photos
from portal.forms import photo_limit_mb

MESSAGES = {
    photos.PhotoError.EMPTY: _l("The file is empty."),
    photos.PhotoError.TOO_LARGE: _l("The photo is larger than %(mb)s MB. Choose a smaller one."),
    photos.PhotoError.NOT_IMAGE: _l("The file is not a photo. Choose a JPEG, PNG or WebP picture."),
    photos.PhotoError.FORMAT: _l("This kind of picture is not accepted. Use JPEG, PNG or WebP."),
    photos.PhotoError.TOO_MANY_PIXELS: _l("The picture has too many pixels. Choose another photo."),
    photos.PhotoError.CORRUPT: _l("The photo is damaged or incomplete. Choose another."),
    photos.PhotoError.UNPROCESSABLE: _l(
        "This photo could not be processed. Choose another, or take the photo again."
    ),
}


@dataclass
class Uploaded:
    photos: list[photos.CleanPhoto] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def chosen(files: list[FileStorage]) -> list[FileStorage]:
    """The file inputs that hold a file (an empty input still sends a nameless part)."""
    return [upload for upload in files if upload and upload.filename]


def read(files: list[FileStorage], room: int) -> Uploaded:
    """Check and clean the chosen files; ROOM is how many more photos may be added."""
    files = chosen(files)
    if len(files) > room:
        # refused before anything is decoded: the count is the cheapest check
        return Uploaded(errors=[too_many(len(files), room)])
    result = Uploaded()
    config = current_app.config
    limits = photos.Limits(
        max_bytes=int(config["PHOTO_MAX_BYTES"]), max_pixels=int(config["PHOTO_MAX_PIXELS"])
    )
    for upload in files:
        try:
            clean = photos.sanitise_isolated(
                upload.stream,
                limits,
                cpu_seconds=int(config["PHOTO_DECODE_CPU_SECONDS"]),
                memory_bytes=int(config["PHOTO_DECODE_MEMORY_MB"]) * 1024 * 1024,
            )
            result.photos.append(clean)
        except photos.PhotoRejected as exc:
            result.errors.append(
                _(
                    "%(name)s: %(problem)s",
                    name=display_name(upload.filename),
                    problem=str(MESSAGES[exc.reason]) % {"mb": photo_limit_mb()},
                )
            )
    return result


def too_many(count: int, room: int) -> str:
    if room <= 0:
        return _("You already added the most photos there can be. Remove one to add another.")
    return ngettext(
        "You chose %(chosen)d photos, but only %(num)d more can be added. Choose fewer.",
        "You chose %(chosen)d photos, but only %(num)d more can be added. Choose fewer.",
        room,
        chosen=count,
    )


def too_large_body() -> str:
    """For a request over UPLOAD_MAX_BODY_BYTES, whose files could not be read one by one."""
    mb = int(current_app.config["UPLOAD_MAX_BODY_BYTES"]) // (1024 * 1024)
    return _(
        "The photos you sent are together larger than %(total)s MB, so none was added. Send "
        "them one at a time; each photo may be at most %(mb)s MB.",
        total=mb,
        mb=photo_limit_mb(),
    )


def display_name(name: str | None) -> str:
    """The file name as the person chose it, without a path, short enough for a message."""
    name = (name or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    return name[:60] or "?"
