#!/usr/bin/env bash
# run_fuzz.sh - a bounded run of the text fuzzer: first the hostile seeds (1 MB without
# spaces, control characters, invalid UTF-8, right-to-left text, emoji, and the words that
# crashed libespeak-ng), then random inputs for SECONDS seconds over all languages, then
# FUZZ_LANG_SECONDS (20) for each espeak-ng language alone, seeded with those crash inputs and
# text of its own. Fails on any crash, leak, timeout or sanitizer report; LeakSanitizer
# suppresses nothing inside libespeak-ng any more (fuzz/lsan.supp).
set -euo pipefail
FUZZER=${1:?usage: run_fuzz.sh build-fuzz/text_fuzz [seconds]}
SECONDS_BUDGET=${2:-60}
LANG_SECONDS=${FUZZ_LANG_SECONDS:-20}
LANGS=${FUZZ_LANGS:-es fr hi it pt-br}

. "$(dirname "$0")/fuzz_lib.sh"
fuzz_setup
seeds="$work/seeds"

python3 - "$seeds" <<'PY'
import os, random, sys
d = sys.argv[1]
random.seed(1)
def put(name, lang, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(bytes([lang]) + data)
letters = "abcdefghijklmnopqrstuvwxyz"
put("mb-nospace-en", 0, "".join(random.choice(letters) for _ in range(1 << 20)).encode())
put("mb-nospace-es", 4, ("ñandú" * 40000).encode())
put("mb-digits", 1, b"9" * 300000)
put("control", 0, bytes(range(1, 32)) * 50 + b"Hello\x00world")
put("invalid-utf8", 0, bytes(random.randrange(256) for _ in range(20000)))
put("rtl", 0, "שלום עולם مرحبا بالعالم Hello \u202eevil\u202c text.".encode())
put("emoji", 0, "I ❤️ NY 👍🏽👨‍👩‍👧 $5 🎉 at 7:30 PM!".encode() * 100)
put("mixed", 0, ("Dr. Smith paid $1,234.56 on 3/4/2024 at 7:30 p.m.; call (555) 123-4567 or "
                 "visit https://example.com. Henry VIII, World War II, 25°C, 60 mph. " * 300).encode())
put("numbers", 1, b" ".join(str(random.randrange(10**random.randrange(1, 25))).encode() for _ in range(5000)))
put("punct", 0, b".,;:!?()[]{}\"'-/\\@#$%^&*+=<>~`|" * 500)
put("hindi", 6, "नमस्ते दुनिया, आप कैसे हैं? ".encode() * 500)
# Words libespeak-ng had to spell with letters of several other languages (a heap
# use-after-free in 1.51, issue 11), in every language.
for i, w in enumerate(["ŉß", "ǅß", "ĸß", "þß", "ſß", "ƒß ǈß Ɠa", "ñß ĸñ ßñ"]):
    put("spell-%d" % i, 8, w.encode())
    put("spell-%d-es" % i, 4, w.encode())
    put("spell-%d-hi" % i, 6, w.encode())
# Hyphen runs before Devanagari: libespeak-ng read address 0xb (SEGV) on 3, 5 and 71 hyphens
# in every voice (the text fuzzer, 2026-12-01).
for n in (3, 5, 71):
    put("dashes-%d-hi" % n, 6, ("-" * n + "आप क").encode())
    put("dashes-%d-es" % n, 4, ("-" * n + "आप क").encode())
# An apostrophe then a hyphen before Devanagari: the same SEGV in the Hindi voice (2026-12-01).
for i, w in enumerate(["'-ऀ", "'-आप क", "नम '-आप", "-'-'-आप"]):
    put("apos-dash-%d-hi" % i, 6, w.encode())
PY

# Seeds of one language each (no language byte: KOKORO_FUZZ_LANG fixes it).
python3 - "$work/lang" <<'PY'
import os, sys
d = sys.argv[1]
text = {
    "es": "Hola, ¿cómo estás? Tengo 25 años y vivo en Málaga; ¡qué calor! Ñandú, pingüino.",
    "fr": "Il fait très beau aujourd'hui : « Où est l'hôtel ? » Œuvre, naïve, Noël, 7:30.",
    "hi": "नमस्ते दुनिया, आप कैसे हैं? मेरा नाम Ravi है। १२३ रुपये।",
    "it": "Oggi il tempo è molto bello in città; perché no? Così, più, 3,50 €.",
    "pt-br": "Olá, tudo bem? Tenho 25 anos. Ação, coração, pão, avô, pinguim.",
}
crash = ["ŉß", "ǅß", "ĸß", "þß", "ſß", "ƒß", "ǆß", "ǈß ǋß", "Ɠa Ɨa Ʃa", "ßĸŉǅ",
         "---आप क", "-----आप क", "-" * 71 + "आप क", "'-ऀ", "'-आप क", "-'-'-आप"]
soup = "".join(chr(c) for c in list(range(0xC0, 0x250)) + list(range(0x1E00, 0x1F00)))
for lang, sample in text.items():
    os.makedirs(os.path.join(d, lang), exist_ok=True)
    def put(name, s):
        with open(os.path.join(d, lang, name), "wb") as f:
            f.write(s.encode())
    put("sample", sample)
    for i, w in enumerate(crash):
        put("crash-%d" % i, w)
        put("crash-%d-in-text" % i, sample[:20] + " " + w + " " + sample[20:])
    put("latin-soup", soup)
    put("latin-soup-words", " ".join(soup[i:i + 3] for i in range(0, len(soup), 3)))
PY

fuzz_seeds run_fuzz "$FUZZER"
fuzz_random run_fuzz "$FUZZER" "$SECONDS_BUDGET" 8192 "$work/corpus" "$seeds"
for lang in $LANGS; do
    fuzz_random "run_fuzz ($lang alone)" "$FUZZER" "$LANG_SECONDS" 4096 "$work/corpus-$lang" \
        "$work/lang/$lang" KOKORO_FUZZ_LANG="$lang"
done
echo "run_fuzz: ok"
