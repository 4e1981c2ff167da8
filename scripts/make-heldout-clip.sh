#!/usr/bin/env bash
# A held-out video clip for `mmsc eval-video` (the QP tiers and the chroma format were chosen on
# `pan` and `tour`; this clip took no part in choosing them). Five Kodak photos from ../shared/data
# (never committed), 2 s each at 10 fps, each panned and zoomed in by ffmpeg's zoompan, cut to the
# next; coded losslessly (FFV1, RGB) so every method starts from the same frames.
# Query for it: "person and boat and motorcycle and bird".
# Usage: bash scripts/make-heldout-clip.sh [kodak-dir=../shared/data/kodak] [out=/tmp/mmsc-heldout.mkv]
set -euo pipefail
KODAK=${1:-../shared/data/kodak}
OUT=${2:-/tmp/mmsc-heldout.mkv}
IMAGES=(kodim12 kodim06 kodim05 kodim23 kodim14)
inputs=()
filters=""
for i in "${!IMAGES[@]}"; do
  f="$KODAK/${IMAGES[$i]}.png"
  [ -f "$f" ] || { echo "make-heldout-clip: no $f (pass the Kodak folder as the first argument)" >&2; exit 2; }
  inputs+=(-i "$f")
  # 768×512 → 20 frames of 480×320: zoom 1.0 → 1.3 about a centre drifting right.
  filters+="[$i:v]scale=768:512,zoompan=z='1+0.015*on':x='(iw-iw/zoom)*(0.2+0.03*on)':y='(ih-ih/zoom)/2':d=20:s=480x320:fps=10,setsar=1[v$i];"
done
concat=""
for i in "${!IMAGES[@]}"; do concat+="[v$i]"; done
ffmpeg -hide_banner -loglevel error -y "${inputs[@]}" -filter_complex "${filters}${concat}concat=n=${#IMAGES[@]}:v=1:a=0,format=bgr0[out]" \
  -map '[out]' -c:v ffv1 "$OUT"
echo "wrote $OUT ($(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$OUT") frames)"
