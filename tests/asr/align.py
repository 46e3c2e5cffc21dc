"""align.py - where each word of a known text is heard: pocketsphinx's forced alignment.

A second clock for word timestamps, beside Whisper: it is told the words and only finds where
they are, with its bundled en-us acoustic model (continuous HMMs, 10 ms frames) and the CMU
dictionary, both inside PyPI pocketsphinx. At the acoustic landmarks of bench/caption_timing.py
(a hiss's onset, a stop's closure) it is 15 ms early (median) where Whisper tiny.en is 83 ms
late, so caption timing is held to it (tests/server/test_captions.py) and Whisper is reported
beside it (docs/text.md "Captions").
"""
import re

import numpy as np


def words_of(spoken):
    """The aligner's words of a spoken text: lower case, hyphens split, other marks dropped."""
    return re.sub(r"[^a-z' ]", " ", spoken.lower().replace("-", " ").replace("’", "'")).split()


def forced_align(pcm, rate, words):
    """Forced alignment of float samples at rate Hz to the list words: [(word, start_s,
    end_s)], one per word in order, or None when a word is not in the dictionary or the words
    do not fit the audio. The audio is resampled to 16 kHz through the FFT (band-limited)."""
    from pocketsphinx import Decoder
    n = len(pcm)
    m = int(round(n * 16000 / rate))
    y = np.fft.irfft(np.fft.rfft(pcm)[: m // 2 + 1], m) * (m / n)
    d = Decoder(samprate=16000, loglevel="ERROR")  # a fresh one: its cepstral mean carries
    # over from one utterance to the next, which made alignments depend on their order
    if not words or any(d.lookup_word(w) is None for w in words):
        return None
    d.set_align_text(" ".join(words))
    d.start_utt()
    d.process_raw((np.clip(y, -1, 1) * 32767).astype("<i2").tobytes(), full_utt=True)
    d.end_utt()
    if d.hyp() is None:
        return None
    out = [(re.sub(r"\(\d+\)$", "", s.word), s.start_frame / 100, (s.end_frame + 1) / 100)
           for s in d.seg() if not s.word.startswith(("<", "["))]
    return out if [w for w, _, _ in out] == words else None


def timestamp_starts(timestamps, pcm, rate):
    """For word timestamps that carry their spoken form (/dev/captioned_speech), where the
    aligner hears each begin: a list parallel to timestamps (the start of the first of its
    spoken words), None for a timestamp with a word outside the dictionary ("kg" read as
    letters) or that does not align. The audio is cut around such words, at our own times (the
    end of the word before, the start of the word after), and each stretch between them is
    aligned on its own; a stretch that does not align is halved until its parts do (a word
    read otherwise than its spoken form says: "FBI" spelled). None when nothing aligns."""
    from pocketsphinx import Decoder
    d = Decoder(samprate=16000, loglevel="ERROR")
    groups = [words_of(t["spoken"]) for t in timestamps]
    known = [bool(g) and all(d.lookup_word(w) is not None for w in g) for g in groups]
    starts, n = [None] * len(timestamps), len(timestamps)

    def stretch(i, j):  # timestamps [i, j), all known: aligned, or halved until they are
        lo = timestamps[i - 1]["end_time"] if i > 0 else 0.0
        hi = timestamps[j]["start_time"] if j < n else len(pcm) / rate
        got = forced_align(pcm[int(lo * rate):int(hi * rate)], rate,
                           [w for g in groups[i:j] for w in g])
        if got is None:
            if j - i > 1:
                stretch(i, (i + j) // 2)
                stretch((i + j) // 2, j)
            return
        k = 0
        for m in range(i, j):
            starts[m] = lo + got[k][1]
            k += len(groups[m])

    i = 0
    while i < n:
        if not known[i]:
            i += 1
            continue
        j = i
        while j < n and known[j]:
            j += 1
        stretch(i, j)
        i = j
    return starts if any(x is not None for x in starts) else None
