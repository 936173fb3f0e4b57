"""Photos as phones take them, for the unit suite and the end-to-end suite alike."""

from __future__ import annotations

import functools
import io
import random

from PIL import Image

GPS_IFD = 0x8825


def gps_exif() -> Image.Exif:
    """EXIF as a phone camera writes it: make, model and where the photo was taken."""
    exif = Image.Exif()
    exif[0x010F] = "samsung"  # Make
    exif[0x0110] = "SM-A135F"  # Model
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "S"  # GPSLatitudeRef
    gps[2] = (6.0, 12.0, 31.5)  # GPSLatitude
    gps[3] = "E"  # GPSLongitudeRef
    gps[4] = (106.0, 59.0, 12.25)  # GPSLongitude
    return exif


@functools.lru_cache(maxsize=8)  # bytes: the same photo for every test that asks again
def phone_photo(seed: int, size: tuple[int, int] = (4000, 3000), quality: int = 90) -> bytes:
    """A JPEG like a 12 MP phone camera's (3-5 MB at the defaults): smooth areas, sensor
    noise, GPS in the EXIF."""
    w, h = size
    rnd = random.Random(seed)
    blobs = Image.frombytes("L", (w // 4, h // 4), rnd.randbytes(w * h // 16))
    blobs = blobs.resize((w, h), Image.Resampling.BILINEAR)
    sky = Image.linear_gradient("L").resize((w, h))
    scene = Image.merge("RGB", (blobs, sky, Image.blend(blobs, sky, 0.5)))
    picture = Image.blend(scene, Image.effect_noise((w, h), 24).convert("RGB"), 0.25)
    buf = io.BytesIO()
    picture.save(buf, "JPEG", quality=quality, exif=gps_exif())
    return buf.getvalue()
