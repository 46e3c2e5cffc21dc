#!/usr/bin/env python3
"""zh_convert.py - turns the Mandarin front end's source data into the plain text files that
src/text/zh/ loads (run by tools/fetch-zh.sh at `make model` time, never at run time).

  zh_convert.py JIEBA_SDIST PYPINYIN_WHEEL DEST

From jieba's source archive (MIT): dict.txt (word, frequency) and the HMM of finalseg
(start, transition and emission log-probabilities). From pypinyin's wheel (MIT): the reading
of each character and of each phrase, first reading only, written with a tone number
("zhong1", neutral tone 5, ü as v), as the original pipeline asks pypinyin for them.

Output (UTF-8, one record a line, fields separated by a tab):
  jieba.dict      word  frequency
  jieba.hmm       start STATE logp | trans FROM TO logp | emit STATE CHAR logp
  pinyin.chars    char  syllable
  pinyin.phrases  phrase  syllable syllable ...
"""
import ast
import io
import json
import os
import sys
import tarfile
import unicodedata
import zipfile

TONE_MARKS = {"\u0304": "1", "\u0301": "2", "\u030c": "3", "\u0300": "4"}


def tone3(syllable):
    """'lǜ' -> 'lv4', 'de' -> 'de5', 'ê̄' -> 'ê1', 'ḿ' -> 'm2'."""
    tone = "5"
    out = []
    for c in unicodedata.normalize("NFD", syllable):
        if c in TONE_MARKS:
            tone = TONE_MARKS[c]
        elif c == "\u0308":  # diaeresis: ü
            if out and out[-1] == "u":
                out[-1] = "v"
        elif c == "\u0302":  # circumflex: ê
            if out and out[-1] == "e":
                out[-1] = "ê"
        else:
            out.append(c)
    return "".join(out) + tone


def literal(text, name):
    """The value of `name = {...}` in a Python source file, read without running it."""
    tree = ast.parse(text)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise SystemExit(f"zh_convert: {name} not found")


def write(path, lines):
    with open(path + ".part", "w", encoding="utf-8", newline="\n") as f:
        for line in lines:
            f.write(line + "\n")
    os.replace(path + ".part", path)


def main():
    sdist, wheel, dest = sys.argv[1:4]
    os.makedirs(dest, exist_ok=True)
    with tarfile.open(sdist) as tar:
        def member(name):
            return tar.extractfile(f"jieba-0.42.1/jieba/{name}").read().decode("utf-8")
        dict_lines = []
        for line in member("dict.txt").splitlines():
            parts = line.strip().split(" ")
            if len(parts) < 2:
                continue
            word, freq = parts[0], int(parts[1])
            if "\t" in word or not word:
                continue
            dict_lines.append(f"{word}\t{freq}")
        start = literal(member("finalseg/prob_start.py"), "P")
        trans = literal(member("finalseg/prob_trans.py"), "P")
        emit = literal(member("finalseg/prob_emit.py"), "P")
    write(os.path.join(dest, "jieba.dict"), dict_lines)
    hmm = [f"start\t{s}\t{p!r}" for s, p in start.items()]
    hmm += [f"trans\t{a}\t{b}\t{p!r}" for a, row in trans.items() for b, p in row.items()]
    hmm += [f"emit\t{s}\t{c}\t{p!r}" for s, row in emit.items() for c, p in row.items()
            if len(c) == 1 and c not in "\t\n\r"]
    write(os.path.join(dest, "jieba.hmm"), hmm)

    with zipfile.ZipFile(wheel) as z:
        chars = json.loads(z.read("pypinyin/pinyin_dict.json").decode("utf-8"))
        phrases = json.loads(z.read("pypinyin/phrases_dict.json").decode("utf-8"))
    write(os.path.join(dest, "pinyin.chars"),
          (f"{chr(int(cp))}\t{tone3(v.split(',')[0])}" for cp, v in sorted(chars.items(), key=lambda kv: int(kv[0]))))
    rows = []
    for phrase, readings in sorted(phrases.items()):
        # pypinyin styles a phrase reading by reading, character by character: a phrase with
        # more readings than characters cannot be read that way, so it is left out.
        if len(readings) > len(phrase) or "\t" in phrase:
            continue
        rows.append(phrase + "\t" + " ".join(tone3(r[0]) for r in readings))
    write(os.path.join(dest, "pinyin.phrases"), rows)


if __name__ == "__main__":
    main()
