#!/usr/bin/env python3
"""test_zh_parity.py - the Mandarin front end (src/text/zh/) against misaki 0.9.4 itself.

The reference is ZHG2P() as kokoro 0.9.4's KPipeline builds it for the v1.0 model (version
None: misaki's legacy path, cn2an + jieba + pypinyin), from PyPI misaki[zh]. Compared: the
phoneme strings as the model reads them, without characters outside the vocabulary.

  1. every syllable that the pinyin dictionaries hold, written in IPA: all must be equal
  2. the sentences of tests/text/zh_sentences.txt: character error rate at most 2% and at
     least 85% of the sentences identical (both printed)
  2b. 2,000 random strings (seeded) of those sentences' characters, digits, number marks,
     full-width punctuation, Latin and long digit runs: at least 99% identical (cn2an's
     passes and the jieba/pypinyin cuts meet text no sentence has)
  3. the dictionaries' size and the resident memory they add (printed)
  4. every word knows the input it was read from (captions and timestamps show it as written)
  5. without the dictionaries, every text fails with a message that says what to do
  6. with $KOKORO set: `kokoro say --voice zf_xiaobei` and `--voice zm_yunjian` give audio
     whose length fits the syllables (0.12 to 0.5 s a Han character) and is not silence

Usage: [KOKORO=build/kokoro] test_zh_parity.py ZH_LINES LEXICON_DIR"""
import os, random, subprocess, sys, tempfile, warnings, wave

warnings.filterwarnings("ignore")
import logging

import jieba
from misaki.zh import ZHG2P

from g2p_parity import edit_distance, vocabulary

jieba.setLogLevel(logging.WARNING)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL, LEXICON = sys.argv[1], sys.argv[2]
SENTENCES = os.path.join(ROOT, "tests", "text", "zh_sentences.txt")
MAX_CER, MIN_SAME = 0.02, 0.85

VOCAB = vocabulary()


def in_vocab(ps):
    return "".join(c for c in ps if c in VOCAB)


def run(lines, *flags):
    out = subprocess.run([TOOL, LEXICON, *flags], input="\n".join(lines) + "\n",
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    got = out.stdout.split("\n")[:-1]
    assert len(got) == len(lines), (len(got), len(lines))
    return got, out.stderr


failed = False

# 1. the syllable table
syllables = set()
for name in ("pinyin.chars", "pinyin.phrases"):
    with open(os.path.join(LEXICON, "zh", name), encoding="utf-8") as f:
        for line in f:
            syllables.update(line.rstrip("\n").split("\t")[1].split())
syllables = sorted(syllables)
got, _ = run(syllables, "--syllables")
wrong = [(s, g, in_vocab(ZHG2P.py2ipa(s))) for s, g in zip(syllables, got)
         if g != in_vocab(ZHG2P.py2ipa(s))]
print(f"syllables: {len(syllables) - len(wrong)}/{len(syllables)} as misaki writes them")
for s, g, r in wrong[:10]:
    print(f"  {s}: ours {g!r}, misaki {r!r}")
failed |= bool(wrong)

# 2. sentences
sentences = [l.rstrip("\n") for l in open(SENTENCES, encoding="utf-8")
             if l.strip() and not l.startswith("#")]
g2p = ZHG2P()  # what KPipeline(lang_code='z') builds for hexgrad/Kokoro-82M (v1.0)
refs = [in_vocab(g2p(s)[0]) for s in sentences]
got, err = run(sentences, "--rss")
edits = sum(edit_distance(r, g) for r, g in zip(refs, got))
chars = sum(len(r) for r in refs)
same = sum(r == g for r, g in zip(refs, got))
cer, share = edits / chars, same / len(sentences)
print(f"sentences: {len(sentences)}, identical {same} ({share:.1%}), "
      f"character error rate {cer:.2%} ({edits} edits over {chars} characters)")
for s, r, g in [(s, r, g) for s, r, g in zip(sentences, refs, got) if r != g][:15]:
    print(f"  {s}\n    misaki {r}\n    ours   {g}")
print(err.strip())
failed |= cer > MAX_CER or share < MIN_SAME

rng = random.Random(13)
han = [c for line in sentences for c in line if "\u4e00" <= c <= "\u9fff"]
pool = (han + list("0123456789") * 40 + list(".-/%℃年月日个斤") * 10 +
        list("，。！？、：；（）《》「」 ") * 5 + list("abcXYZ") * 3 + list("０１２") * 3 +
        ["12345678901234567890", "0.000", "--", "1.2.3", "99%", "1/2/3", "10-20个", "2024年",
         "12月", "31日", "\t", "\u3000", "\u2014", "\u2026", "一一", "儿"] * 20)
mixes, mix_refs = [], []
while len(mixes) < 2000:
    text = "".join(rng.choice(pool) for _ in range(rng.randint(1, 30)))
    try:
        ref = in_vocab(g2p(text)[0])
    except Exception:  # misaki raises on a few inputs (e.g. an empty string after trimming)
        continue
    mixes.append(text)
    mix_refs.append(ref)
got, _ = run(mixes)
same = sum(r == g for r, g in zip(mix_refs, got))
print(f"random strings: {len(mixes)}, identical {same} ({same / len(mixes):.1%})")
for s, r, g in [(s, r, g) for s, r, g in zip(mixes, mix_refs, got) if r != g][:5]:
    print(f"  {s!r}\n    misaki {r}\n    ours   {g}")
failed |= same < 0.99 * len(mixes)

# 4. words and their sources
got, _ = run(sentences, "--words")
bad = [s for s, g in zip(sentences, got) if not g or any(
    "=" not in w or w.endswith("=?") for w in g.split("\t"))]
line = "今天是2024年3月5日，我用iPhone拍了50%的照片。"
words, _ = run([line], "--words")
want = ("今天=今天\t是=是\t二零二=2024年3月5日\t四年=2024年3月5日\t三月=2024年3月5日\t"
        "五日=2024年3月5日\t我用=我用\tiPhone=iPhone\t拍=拍\t了=了\t百分之五十=50%\t的=的\t"
        "照片=照片")
print(f"word sources: {len(sentences) - len(bad)}/{len(sentences)} sentences with every word "
      f"placed; numbers point at their digits: {words[0] == want}")
failed |= bool(bad) or words[0] != want

# 5. no dictionaries: every text fails alike (the server's probe then leaves zh out)
with tempfile.TemporaryDirectory() as empty:
    out = subprocess.run([TOOL, empty], input="你好\nhello, world\n", capture_output=True,
                         text=True, timeout=60)
    errors = out.stderr.strip().split("\n")
    ok = (out.returncode == 1 and len(errors) == 2 and
          all("make model" in e and "jieba.dict" in e for e in errors))
    print(f"without dictionaries: {errors[0]!r} for each line: {ok}")
    failed |= not ok

# 6. end to end
exe = os.environ.get("KOKORO")
if exe:
    text = "你好，欢迎使用语音合成服务。今天是2024年3月5日，北京的气温是18℃。我们一起去看看吧！"
    for voice in ("zf_xiaobei", "zm_yunjian"):
        with tempfile.TemporaryDirectory() as d:
            wav = os.path.join(d, "x.wav")
            r = subprocess.run([exe, "say", "--voice", voice, text, "-o", wav],
                               capture_output=True, text=True, timeout=600)
            assert r.returncode == 0, r.stderr
            with wave.open(wav) as w:
                frames = w.readframes(w.getnframes())
                seconds = w.getnframes() / w.getframerate()
            samples = memoryview(frames).cast("h")
            peak = max(abs(x) for x in samples) / 32768
        # 56 Han characters once the numbers are read (二零二四年三月五日, 十八摄氏度)
        per_char = seconds / 56
        ok = 0.12 <= per_char <= 0.5 and peak > 0.1
        print(f"say --voice {voice}: {seconds:.2f} s ({per_char:.3f} s a character), "
              f"peak {peak:.2f}: {'ok' if ok else 'FAIL'}")
        failed |= not ok

print("1 passed, 0 failed" if not failed else "0 passed, 1 failed")
sys.exit(1 if failed else 0)
