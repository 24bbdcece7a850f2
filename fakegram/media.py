"""Helpers for stored files: realistic ids, paths, and image sizes from raw bytes."""

from __future__ import annotations

import itertools
import secrets
import struct

__all__ = ["guess_extension", "image_size", "new_file_ids", "photo_sizes"]

# Real file_ids start with a type-specific prefix; tests and humans find it easier to
# read transcripts when the fake keeps that habit.
_PREFIX: dict[str, str] = {
    "photo": "AgACAgIAAxk",
    "document": "BQACAgIAAxk",
    "sticker": "CAACAgIAAxk",
    "voice": "AwACAgIAAxk",
    "video": "BAACAgIAAxk",
    "animation": "CgACAgIAAxk",
    "audio": "CQACAgIAAxk",
    "video_note": "DQACAgIAAxk",
}
_counter = itertools.count(1)


def new_file_ids(kind: str) -> tuple[str, str]:
    """Return a fresh ``(file_id, file_unique_id)`` pair for a file of *kind*."""
    n = next(_counter)
    file_id = f"{_PREFIX.get(kind, 'BQACAgIAAxk')}{n:06d}{secrets.token_urlsafe(12)}"
    unique = f"AQAD{n:06d}{secrets.token_urlsafe(4)}"
    return file_id, unique


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width/height of a PNG, GIF, JPEG or WebP image, or ``None`` if unknown."""
    try:
        if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
            w, h = struct.unpack(">II", data[16:24])
            return int(w), int(h)
        if data[:6] in (b"GIF87a", b"GIF89a"):
            w, h = struct.unpack("<HH", data[6:10])
            return int(w), int(h)
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            if data[12:16] == b"VP8X":
                w = int.from_bytes(data[24:27], "little") + 1
                h = int.from_bytes(data[27:30], "little") + 1
                return w, h
            if data[12:16] == b"VP8 ":
                w, h = struct.unpack("<HH", data[26:30])
                return w & 0x3FFF, h & 0x3FFF
        if data[:2] == b"\xff\xd8":
            i = 2
            while i + 9 < len(data):
                if data[i] != 0xFF:
                    i += 1
                    continue
                marker = data[i + 1]
                if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                    h, w = struct.unpack(">HH", data[i + 5 : i + 9])
                    return int(w), int(h)
                (seg_len,) = struct.unpack(">H", data[i + 2 : i + 4])
                i += 2 + seg_len
    except (struct.error, IndexError):
        return None
    return None


def photo_sizes(width: int, height: int) -> list[tuple[int, int]]:
    """The sizes Telegram would generate: thumbnails up to the original, smallest first."""
    sizes: list[tuple[int, int]] = []
    longest = max(width, height, 1)
    for box in (90, 320, 800):
        if box < longest:
            scale = box / longest
            sizes.append((max(1, round(width * scale)), max(1, round(height * scale))))
    sizes.append((width, height))
    return sizes


_EXT_BY_MIME = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "image/webp": "webp",
    "application/pdf": "pdf",
    "text/plain": "txt",
    "text/csv": "csv",
    "application/zip": "zip",
    "audio/ogg": "oga",
    "video/mp4": "mp4",
}


def guess_extension(filename: str | None, mime_type: str | None, default: str = "bin") -> str:
    """File extension for a stored file path (used in ``getFile``'s ``file_path``)."""
    if filename and "." in filename:
        return filename.rsplit(".", 1)[1][:8].lower() or default
    return _EXT_BY_MIME.get(mime_type or "", default)


def guess_mime(data: bytes, filename: str | None = None) -> str:
    """Best-effort MIME type for bytes a bot uploads without one."""
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:2] == b"\xff\xd8":
        return "image/jpeg"
    if data[:4] == b"%PDF":
        return "application/pdf"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    ext = (filename or "").rsplit(".", 1)[-1].lower() if filename and "." in filename else ""
    for mime, known in _EXT_BY_MIME.items():
        if known == ext:
            return mime
    return "application/octet-stream"
