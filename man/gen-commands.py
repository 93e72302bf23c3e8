#!/usr/bin/env python3
# gen-commands.py - regenerates the COMMANDS section of man/qscope.1 from the command table
# (`qscope -c help --json` and `help CMD --json`), between the commands-begin/end markers.
# Usage: python3 man/gen-commands.py build/qscope   (a maintainer's tool; not run by the build)
import json, subprocess, sys

qscope = sys.argv[1] if len(sys.argv) > 1 else "build/qscope"
page = "man/qscope.1"

def run(cmd):
    out = subprocess.run([qscope, "-c", cmd, "--json"], capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out.splitlines()[0])

def esc(s):
    s = s.replace("\\", "\\e").replace("-", "\\-")
    s = "".join(c if ord(c) < 128 else "\\[u%04X]" % ord(c) for c in s)
    return "\\&" + s if s[:1] in (".", "'") else s

groups, order = {}, []
for c in run("help")["commands"]:
    g = c.get("group", "")
    if g not in groups:
        groups[g] = []
        order.append(g)
    groups[g].append(c["name"])

lines = []

def doc(path):
    """A command's entry, then one per row of its nested tables (lab ptq, lab gpt ptq ...)."""
    h = run("help " + path)
    lines.append(".TP")
    lines.append('.B "%s"' % esc(h["usage"]).replace('"', '""'))
    lines.append(esc(h["summary"][:1].upper() + h["summary"][1:]) + ".")
    opts = [o for o in h.get("options", "").split("\n") if o.strip()]
    if opts:
        lines.append(".RS")
        lines.append(".PP")
        lines.append(".EX")
        lines.extend(esc(o) for o in opts)
        lines.append(".EE")
        lines.append(".RE")
    if h.get("example"):
        lines.append(".IP")
        lines.append("Example:")
        lines.append('.B "%s"' % esc(h["example"]).replace('"', '""'))
    for sub in h.get("subcommands", []):
        doc(path + " " + sub)

for g in order:
    lines.append(".SS %s" % esc(g.capitalize() if g else "Other"))
    for name in groups[g]:
        doc(name)

def splice(src, name, body):
    b = src.index('.\\" %s-begin' % name)
    e = src.index('.\\" %s-end' % name)
    return src[:b + 1] + body + src[e:]

# TUI keys from the binding table in src/tui/model.c: {SCREEN, key, "label", ACTION, "help"}
import re
keys = []
try:
    t = open("src/tui/model.c").read()
    t = t[t.index("qs_tui_bindings[]"):]
    t = t[:t.index("};")]
    row = re.compile(r'\{\s*(\w+)\s*,\s*(\'(?:\\.|[^\'])\'|\w+)\s*,\s*"((?:[^"\\]|\\.)*)"\s*,'
                     r'\s*\w+\s*,\s*(NULL|(?:"(?:[^"\\]|\\.)*"\s*)+)\s*\}')
    names = {"ALL": "All screens", "QS_SCR_DATA": "Data (1)", "QS_SCR_DERIVE": "Derive (2)",
             "QS_SCR_BITS": "Bits (3)", "QS_SCR_ERROR": "Error (4)", "QS_SCR_LAB": "Lab (5)",
             "QS_SCR_LESSON": "Lesson (6)"}
    cur = None
    for m in row.finditer(t):
        scr, _, label, hlp = m.groups()
        if hlp == "NULL":
            continue
        hlp = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', hlp))
        if scr != cur:
            keys.append(".SS %s" % names.get(scr, scr))
            cur = scr
        keys += [".TP 10", ".B \"%s\"" % esc(label).replace('"', '""'), esc(hlp) + "."]
except (OSError, ValueError):
    pass

src = open(page).read().split("\n")
src = splice(src, "commands", lines)
if keys:
    src = splice(src, "keys", keys)

def reflow(src):
    """Splits long text lines (mandoc -Tlint wants at most 80 bytes); requests and .EX
    blocks stay as they are."""
    out, inex = [], False
    for line in src:
        if line.startswith(".EX"):
            inex = True
        if line.startswith(".EE"):
            inex = False
        if inex or line.startswith(".") or len(line) <= 80:
            out.append(line)
            continue
        cur = ""
        for w in line.split(" "):
            if cur and len(cur) + 1 + len(w) > 78:
                out.append(cur)
                cur = w
            else:
                cur = cur + " " + w if cur else w
        out.append(cur)
    return ["\\&" + l if l[:1] == "'" else l for l in out]

open(page, "w").write("\n".join(reflow(src)))
