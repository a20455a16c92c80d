"""A single picture file (`/image PATH`) as a frame: any format Pillow reads, upright, scaled, re-encoded.

Re-encoding every file, even a small JPEG, also drops its metadata (a phone photo's location).
Decoding a photo takes tens of milliseconds: call it off the event loop (asyncio.to_thread).
"""

from __future__ import annotations

import time
from pathlib import Path

from PIL import Image, ImageOps

from livecli.sight.encode import to_frame
from livecli.sight.frame import Frame, PictureUnreadable


def load_picture(path: str | Path) -> Frame:
    """The picture at `path` as a JPEG frame; PictureUnreadable with one line if it cannot be."""
    path = Path(path).expanduser()
    try:
        with Image.open(path) as picture:
            upright = ImageOps.exif_transpose(picture)
            width, height = upright.size
            return to_frame(upright, f"picture {path.name} ({width}x{height})", time.time())
    except FileNotFoundError:
        raise PictureUnreadable(f"no such picture: {path}") from None
    except IsADirectoryError:
        raise PictureUnreadable(f"{path} is a folder, not a picture") from None
    except PermissionError:
        raise PictureUnreadable(f"cannot read {path}: permission denied") from None
    except Image.UnidentifiedImageError:
        raise PictureUnreadable(
            f"{path} is not a picture livecli can read (JPEG, PNG, WebP, GIF, BMP, TIFF…)"
        ) from None
    except Image.DecompressionBombError:
        raise PictureUnreadable(f"{path} is too large a picture") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise PictureUnreadable(f"cannot read picture {path}: {e}") from None
