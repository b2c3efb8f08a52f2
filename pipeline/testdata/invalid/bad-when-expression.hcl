pipeline "x" {
  stage "provision" "template" {}
  stage "swap" "swap" {}
  stage "start" "start" {
    when = opts.skipbackup && "custom" # ERROR: 5:31 Invalid operand
  }
}
