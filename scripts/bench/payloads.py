#!/usr/bin/env python3
"""scripts/bench/payloads.py JPEG OUTDIR: the benchmark's request bodies.

From one synthetic JPEG (made by `loadgen --save-synthetic`), writes
  body-100k.json  {"input": "<base64 JPEG bytes>"}, 100 KB: the study's payload
  image-10k.jpg   10 KB of JPEG bytes (the head of the image, then an EOI marker)
A body only has to be the right size and pass `loadgen serve`'s check (a
JPEG signature); nginx reads and discards it.
"""
import base64
import sys

src, out = sys.argv[1], sys.argv[2]
jpeg = open(src, "rb").read()
while len(jpeg) < 80000:  # a small source image: repeat its tail
    jpeg += jpeg[2:]

head = b'{"input": "'
tail = b'"}'
b64_len = (100 * 1024 - len(head) - len(tail)) // 4 * 4
raw = jpeg[: b64_len // 4 * 3]
with open(f"{out}/body-100k.json", "wb") as f:
    f.write(head + base64.b64encode(raw) + tail)

with open(f"{out}/image-10k.jpg", "wb") as f:
    f.write(jpeg[: 10 * 1024 - 2] + b"\xff\xd9")
