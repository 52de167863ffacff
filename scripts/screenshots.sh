#!/usr/bin/env bash
# Refreshes docs/screenshots.md: runs the browser test that photographs the main pages of every
# party at 1280 px and 390 px against a demo, and copies the pictures into docs/screenshots.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo nextest run -p kaifang --test browser screenshots_of_the_main_pages_of_every_party
rm -rf docs/screenshots
mkdir -p docs/screenshots
cp build-output/screenshots/pages/*.png docs/screenshots/

{
  echo "# Screenshots"
  echo
  echo "The demo (\`kaifang demo\`) as each party sees it, in Chinese, at 1280 px and 390 px wide."
  echo "Made by \`scripts/screenshots.sh\` (the browser test"
  echo "\`screenshots_of_the_main_pages_of_every_party\`); the same test fails if a page errs."
  echo
  echo "| page | 1280 px | 390 px |"
  echo "|---|---|---|"
  for wide in docs/screenshots/1280-*.png; do
    name=$(basename "$wide" .png)
    name=${name#1280-}
    echo "| $name | ![$name at 1280 px](screenshots/1280-$name.png) | ![$name at 390 px](screenshots/390-$name.png) |"
  done
} > docs/screenshots.md
echo "docs/screenshots.md: $(ls docs/screenshots | wc -l) pictures"
