# Sourced by the collect.sh scripts (benchmarks/reproduction, benchmarks/transfer): the one way a
# run's small result files come into the repository.
# copy SRC_FOLDER DEST_FOLDER LOG_NAME: test.json, config.yaml, valid.csv and summary.json where the
# run has them, and the command that made it ($EXP/logs/LOG_NAME.cmd, with $EXP kept symbolic).
copy() {
  local src=$1 dst=$2 name=$3
  mkdir -p "$dst"
  for f in test.json config.yaml valid.csv summary.json; do
    if [ -e "$src/$f" ]; then cp "$src/$f" "$dst/$f"; fi
  done
  if [ -e "$EXP/logs/$name.cmd" ]; then sed "s|$EXP|\$EXP|g" "$EXP/logs/$name.cmd" > "$dst/command"; fi
}
