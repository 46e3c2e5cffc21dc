#!/usr/bin/env bash
# run_ssml_fuzz.sh - a bounded run of the SSML / controls fuzzer from seeds of every element,
# hostile XML (entity bombs, DOCTYPEs, deep nesting) and the plain-text controls. Fails on any
# crash, leak, timeout or sanitizer report.
set -euo pipefail
FUZZER=${1:?usage: run_ssml_fuzz.sh build-fuzz/ssml_fuzz [seconds]}
SECONDS_BUDGET=${2:-30}
. "$(dirname "$0")/fuzz_lib.sh"
fuzz_setup
i=0
seed() { printf '%s' "$1" > "$work/seeds/s$i"; i=$((i + 1)); }
seed $'\x00<speak>Hello <break time="1s"/> world. <prosody rate="slow" volume="+6dB">slow</prosody></speak>'
seed $'\x00<speak><p><s>One</s><s>Two</s></p><voice name="am_adam">x</voice></speak>'
seed $'\x01I say <phoneme alphabet="ipa" ph="t\xc9\x99\xcb\x88me\xc9\xaato\xca\x8a">tomato</phoneme>.</speak>'
seed $'\x01<say-as interpret-as="telephone">1-800-555-0199</say-as><say-as interpret-as="ordinal">21</say-as></speak>'
seed $'\x01<sub alias="W W W">WWW</sub><say-as interpret-as="characters">abc123</say-as></speak>'
seed $'\x00<!DOCTYPE a [<!ENTITY b "cc"><!ENTITY d "&b;&b;&b;">]><speak>&d;</speak>'
seed $'\x00One. [pause:1.5s] Two [pause:500ms] [tomato](/t\xc9\x99m\xcb\x88AtO/).'
seed $'\x00[pause:0s][a](/b/)[pause:10s]'
seed $'\x01<emphasis><emphasis><emphasis><emphasis>deep</emphasis></emphasis></emphasis></emphasis></speak>'
fuzz_random run_ssml_fuzz "$FUZZER" "$SECONDS_BUDGET" 4096 "$work/corpus" "$work/seeds"
echo "run_ssml_fuzz: ok"
