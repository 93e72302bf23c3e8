#!/usr/bin/env python3
"""handout_check.py — checks a `qscope play --html` handout against its lesson file.

usage: handout_check.py LESSON HANDOUT.html

Fails (exit 1, one line per problem) unless:
- the page is well-formed: every element is closed in order (void elements excepted), one
  <html>, <head>, <body>, and no <script>, external URL (src=/href=) or event attribute;
- the page's <title> and <h1> are the lesson's title;
- every `expect` line of the lesson appears (by its line number) as a met expectation, and
  the value the page shows for it satisfies the expectation as written in the lesson file
  (recomputed here: half a unit of the last digit written, tol=T or tol=P%);
- every number written in the lesson's narration and quizzes appears in the page's text;
- every command of the lesson appears, and a lesson that runs quant/hist/calib/compare
  has at least one SVG figure.
A title element inside an SVG figure is the figure's, not the page's.
"""
import html
import html.parser
import re
import sys

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}
NUM = re.compile(r"(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.counts = [], [], {}
        self.text, self.title, self.h1 = [], [], []
        self.expects = {}           # line -> (class, got text)
        self.cur_expect = None
        self.in_got = False

    def handle_starttag(self, tag, attrs):
        self.counts[tag] = self.counts.get(tag, 0) + 1
        a = dict(attrs)
        for k, v in attrs:
            if k.startswith("on"):
                self.errors.append(f"event attribute {k} on <{tag}>")
            if k in ("src", "href") and v and not v.startswith("#"):
                self.errors.append(f"external reference {k}={v!r} on <{tag}>")
        if tag == "script":
            self.errors.append("a <script> element")
        if tag == "li" and "expect" in (a.get("class") or ""):
            self.cur_expect = int(a.get("data-line", "0"))
            self.expects[self.cur_expect] = [a.get("class"), ""]
        if tag == "span" and a.get("class") == "got":
            self.in_got = True
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.counts[tag] = self.counts.get(tag, 0) + 1

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> at {self.getpos()} closes "
                               f"<{self.stack[-1] if self.stack else 'nothing'}>")
            if tag in self.stack:
                while self.stack and self.stack.pop() != tag:
                    pass
            return
        self.stack.pop()
        if tag == "span":
            self.in_got = False
        if tag == "li":
            self.cur_expect = None

    def handle_data(self, data):
        self.text.append(data)
        if self.stack and self.stack[-1] == "title" and "svg" not in self.stack:
            self.title.append(data)
        if "h1" in self.stack:
            self.h1.append(data)
        if self.in_got and self.cur_expect is not None:
            self.expects[self.cur_expect][1] += data


def default_tol(value):
    m = re.fullmatch(r"[-+]?(\d*)\.?(\d*)(?:[eE]([-+]?\d+))?", value)
    if not m:
        return 0.0
    decimals = len(m.group(2) or "")
    exp = int(m.group(3) or 0)
    return 0.5 * 10.0 ** (exp - decimals)


def parse_lesson(path):
    title, expects, narration, commands = None, [], [], []
    for no, raw in enumerate(open(path, encoding="utf-8"), 1):
        line = raw.rstrip("\r\n").rstrip()
        s = line.strip()
        if title is None and line.startswith("title:"):
            title = line[6:].strip()
            continue
        if re.match(r"^(level|delay|author|summary):", line) or not s or s.startswith("#") \
                or s.startswith("@") or re.fullmatch(r"-{3,}", s) or s.startswith("answer:"):
            continue
        if s.startswith(">"):
            commands.append(s[1:].strip())
        elif s.startswith("expect "):
            expects.append((no, s[7:]))
        else:
            for p in ("quiz:", "hint:"):
                if s.startswith(p):
                    s = s[len(p):]
            narration.append((no, s.lstrip("\\")))
    return title, expects, narration, commands


def check_expect(text, got):
    m = re.match(r"(.+?)\s+(==|!=|<=|>=|<|>)\s+(\"[^\"]*\"|'[^']*'|\S+)(?:\s+tol=(\S+))?$", text)
    if not m:
        return f"cannot read 'expect {text}'"
    key, op, val, tol = m.groups()
    val = val.strip("\"'")
    g = re.match(re.escape(key) + r" = (\"[^\"]*\"|\S+)", got)
    if not g:
        return f"no value shown for {key} ({got!r})"
    if g.group(1).startswith('"') or g.group(1) in ("true", "false", "null"):
        shown = g.group(1).strip('"')
        return None if (shown == val) == (op == "==") else \
            f"{key} shown as {shown!r}, lesson says {op} {val!r}"
    want = float(val)
    try:
        have = float(g.group(1))
    except ValueError:
        return f"{key} shown as {g.group(1)!r}, not a number"
    if tol is None:
        t = default_tol(val)
    elif tol.endswith("%"):
        t = abs(want) * float(tol[:-1]) / 100
    else:
        t = float(tol)
    # the page rounds what it shows: widen by half a unit of the shown value's last digit
    t = t * (1 + 1e-9) + 1e-300 + default_tol(g.group(1))
    # inf meets inf, nan meets nan (inf - inf is nan, which meets nothing)
    same = have == want or (have != have and want != want)
    ok = {"==": same or abs(have - want) <= t, "!=": not same and abs(have - want) > t,
          "<": have < want, "<=": have <= want, ">": have > want, ">=": have >= want}[op]
    return None if ok else f"{key} = {have} shown, lesson says {op} {val} (tol {t:g})"


def main():
    lesson, page_path = sys.argv[1], sys.argv[2]
    src = open(page_path, encoding="utf-8").read()
    p = Page()
    p.feed(src)
    p.close()
    errs = list(p.errors)
    if p.stack:
        errs.append(f"unclosed at the end: {p.stack}")
    if not src.startswith("<!DOCTYPE html>"):
        errs.append("no <!DOCTYPE html>")
    for t in ("html", "head", "body", "h1"):
        if p.counts.get(t) != 1:
            errs.append(f"{p.counts.get(t, 0)} <{t}> elements")
    title, expects, narration, commands = parse_lesson(lesson)
    if "".join(p.title).strip() != title or "".join(p.h1).strip() != title:
        errs.append(f"title {''.join(p.title)!r} / h1 {''.join(p.h1)!r}, lesson says {title!r}")
    for no, text in expects:
        e = p.expects.get(no)
        if not e:
            errs.append(f"line {no}: expect {text}: not in the page")
        elif "ok" not in e[0].split():
            errs.append(f"line {no}: expect {text}: shown as {e[0]}")
        else:
            why = check_expect(text, e[1])
            if why:
                errs.append(f"line {no}: {why}")
    alltext = re.sub(r"\s+", " ", "".join(p.text))
    for no, s in narration:
        for n in NUM.findall(s):
            if n not in alltext:
                errs.append(f"line {no}: the number {n} of the narration is not in the page")
    for c in commands:
        c = c.replace("{datasets}", "")
        if not all(w in alltext for w in c.split()):
            errs.append(f"the command '{c}' is not in the page")
    if any(re.match(r"(quant|hist)$|(quant|hist) ", c) for c in commands) and not p.counts.get("svg"):
        errs.append("no SVG figure although the lesson quantizes")
    for e in errs:
        print(f"{page_path}: {e}")
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
