#!/usr/bin/env python3
"""check-screenshots.py METAINFO SCREENSHOT_DIR

Every <image> of the AppStream metainfo must name a PNG in
resources/screenshots/ (by its raw.githubusercontent.com URL on main) that
exists, is a real PNG and is large enough for a software centre. Prints
TAP, one case per screenshot."""

import struct
import sys
import xml.etree.ElementTree as ET

PREFIX = "https://raw.githubusercontent.com/secateur/secateur/main/resources/screenshots/"
MIN_W, MIN_H = 1000, 600


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


def main():
    metainfo, folder = sys.argv[1], sys.argv[2]
    images = [e.text.strip() for e in ET.parse(metainfo).getroot().iter("image")]
    print(f"1..{max(len(images), 1)}")
    if not images:
        print("not ok 1 - the metainfo lists no screenshots")
        return
    for i, url in enumerate(images, 1):
        name = url[len(PREFIX):] if url.startswith(PREFIX) else None
        if name is None or "/" in name:
            print(f"not ok {i} - {url} is not under {PREFIX}")
            continue
        try:
            size = png_size(f"{folder}/{name}")
        except OSError as e:
            print(f"not ok {i} - {name}: {e.strerror}")
            continue
        if size is None:
            print(f"not ok {i} - {name} is not a PNG")
        elif size[0] < MIN_W or size[1] < MIN_H:
            print(f"not ok {i} - {name} is {size[0]}x{size[1]}, below {MIN_W}x{MIN_H}")
        else:
            print(f"ok {i} - {name} {size[0]}x{size[1]}")


if __name__ == "__main__":
    main()
