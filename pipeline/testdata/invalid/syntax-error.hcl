# An attribute without its value.
pipeline "x" {
  stage "provision" "template" {}
  stage "reinstall-hook" "hook" {
    script = # ERROR: 5:14 Invalid expression
  }
  stage "swap" "swap" {}
}
