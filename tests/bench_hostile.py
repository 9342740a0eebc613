#!/usr/bin/env python3
"""Hostile inputs for make bench (the cases that once cost the square of
their size): write them into the directory given.

  many.mbox     100,000 one-line patches, one revision
  subject.mbox  a 3 MB subject of RFC 2047 encoded words that never end
  encoded.mbox  a 3 MB subject of valid encoded words, folded
  console.log   4 MB of kernel reports, every one with its own title
"""
import base64
import os
import sys

out = sys.argv[1]
HEAD = "From kpipe@z Thu Jan  1 00:00:00 1970\nFrom: A <a@example.org>\n"
DATE = "Date: Tue, 3 Nov 2026 09:00:00 +0000\n"
DIFF = ("diff --git a/f b/f\nnew file mode 100644\n--- /dev/null\n+++ b/f\n"
        "@@ -0,0 +1 @@\n+x\n")

with open(os.path.join(out, "many.mbox"), "w") as f:
    n = 100000
    for i in range(1, n + 1):
        f.write(f"{HEAD}Subject: [PATCH {i}/{n}] mm: change {i}\n{DATE}"
                f"Message-Id: <p{i}@example.org>\n\nchange {i}\n---\n"
                + DIFF.replace(" b/f", f" b/f{i}").replace("a/f ", f"a/f{i} ")
                .replace("+++ b/f\n", f"+++ b/f{i}\n"))

def one_patch(name, subject):
    with open(os.path.join(out, name), "w") as f:
        f.write(f"{HEAD}Subject: [PATCH] {subject}\n{DATE}\nx\n---\n{DIFF}")

one_patch("subject.mbox", "=?UTF-8?B?x " * (3 * 1024 * 1024 // 12))
word = "=?UTF-8?B?" + base64.b64encode(b"A" * 45).decode() + "?="
one_patch("encoded.mbox", "\n ".join([word] * (3 * 1024 * 1024 // (len(word) + 2))))

with open(os.path.join(out, "console.log"), "w") as f:
    k = 0
    while f.tell() < 4 * 1024 * 1024:
        f.write(f"[    1.{k:06d}] BUG: KASAN: use-after-free in f{k}+0x1/0x2\n"
                f"[    1.{k:06d}] Read of size 8 at addr ffff888000000000 by task t/1\n")
        k += 1
